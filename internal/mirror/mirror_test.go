package mirror

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/netcfg"
)

var background = netip.MustParsePrefix("198.18.0.0/15")

func isBackground(r netcfg.Route) bool { return background.Overlaps(r.Dst) }

func route(dst, proto string) *netcfg.Route {
	return &netcfg.Route{Dst: netip.MustParsePrefix(dst), Interface: "lan0", Protocol: proto, Store: netcfg.StoreActive}
}

func TestMirrorEvents(t *testing.T) {
	s := &netcfg.Snapshot{
		Interfaces: []netcfg.Interface{{Name: "lan0", Up: true, MTU: 1500}},
		Addresses:  []netcfg.Address{{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: "lan0"}},
		Routes:     []netcfg.Route{*route("192.0.2.0/24", "kernel"), *route("198.18.0.1/32", "boot"), *route("fe80::/64", "kernel")},
	}
	m := New(isBackground)
	m.Load(s)
	want := s.Normalize(isBackground)
	if !m.Matches(want) || m.Len() != 3 {
		t.Fatalf("after load: %v, want %v", m.Lines().Sorted(), want.Sorted())
	}
	// A static route shows twice (active and persistent view), as Snapshot reports it.
	m.Apply(netcfg.Event{Kind: netcfg.RouteAdded, Route: route("203.0.113.0/28", "static")})
	m.Apply(netcfg.Event{Kind: netcfg.RouteAdded, Route: route("198.18.0.2/32", "boot")})
	got := m.Lines().Sorted()
	wantLines := []string{
		"192.0.2.0/24 dev lan0 proto kernel metric 0",
		"203.0.113.0/28 dev lan0 proto static metric 0",
		"203.0.113.0/28 dev lan0 proto static metric 0 store persistent",
		"addr 192.0.2.20/24 dev lan0",
		"link lan0 up mtu 1500",
	}
	if d := cmp.Diff(wantLines, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Two objects with one line: the line stays until both are gone.
	m.Apply(netcfg.Event{Kind: netcfg.RouteAdded, Route: route("192.0.2.0/24", "kernel")})
	m.Apply(netcfg.Event{Kind: netcfg.RouteRemoved, Route: route("192.0.2.0/24", "kernel")})
	if _, ok := m.Lines()["192.0.2.0/24 dev lan0 proto kernel metric 0"]; !ok {
		t.Error("line dropped while a second route still renders it")
	}
	m.Apply(netcfg.Event{Kind: netcfg.RouteRemoved, Route: route("203.0.113.0/28", "static")})
	m.Apply(netcfg.Event{Kind: netcfg.AddrRemoved, Address: &s.Addresses[0]})
	if m.Len() != 2 {
		t.Errorf("after removals: %v", m.Lines().Sorted())
	}
	if st := m.Stats(); st.Ignored != 1 || st.Loads != 1 || st.Events != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestWaitMatch(t *testing.T) {
	m := New(nil)
	want := netcfg.Lines{}
	r := route("203.0.113.0/28", "boot")
	want.Add(netcfg.Item{Route: r})
	go m.Apply(netcfg.Event{Kind: netcfg.RouteAdded, Route: r})
	if !m.WaitMatch(context.Background(), want, 5*time.Second) {
		t.Fatalf("no match: %v", m.Lines().Sorted())
	}
	if m.WaitMatch(context.Background(), netcfg.Lines{}, 10*time.Millisecond) {
		t.Fatal("matched an empty expectation")
	}
}
