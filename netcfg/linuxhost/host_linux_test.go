//go:build linux

package linuxhost_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
	"net/netip"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// eventWindow bounds every wait for a change notification.
const eventWindow = 5 * time.Second

func snapshot(t *testing.T, h netcfg.Host) *netcfg.Snapshot {
	t.Helper()
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return s
}

// ipSnapshot is the same namespace seen through `ip -j` and package iproute2.
func ipSnapshot(t *testing.T, ns string) *netcfg.Snapshot {
	t.Helper()
	run := func(argv []string) []byte {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatalf("running %q: %v", argv, err)
		}
		return out
	}
	s, err := iproute2.ParseSnapshot(run(iproute2.ShowAddrs(ns)), run(iproute2.ShowRoutes(ns)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSnapshotMatchesIPJSON is the cross check: the netlink snapshot and the
// parsed `ip -j` output of the same namespace give the same lines.
func TestSnapshotMatchesIPJSON(t *testing.T) {
	n := newTestNS(t, "nlt")
	ip(t, "link", "add", "name", "veth2", "netns", n.Name, "type", "veth", "peer", "name", "veth3", "netns", n.Peer)
	for _, c := range [][]string{
		{"link", "set", "veth2", "up"}, // peer stays down: lowerlayerdown
		{"addr", "add", "192.0.2.21/24", "dev", "veth0"},
		{"route", "add", "198.51.100.0/24", "via", "192.0.2.1", "proto", "static", "metric", "5"},
		{"route", "add", "default", "via", "192.0.2.1"},
		{"route", "add", "default", "via", "2001:db8::1", "proto", "static"},
		{"route", "add", "unreachable", "203.0.113.0/24"},
		{"route", "add", "blackhole", "2001:db8:dead::/48"},
		{"route", "add", "203.0.113.7", "via", "192.0.2.1", "table", "100"},
		{"route", "add", "203.0.113.64/26", "nexthop", "via", "192.0.2.1", "nexthop", "via", "192.0.2.2"},
		{"route", "add", "203.0.113.128/25", "via", "inet6", "2001:db8::1", "dev", "veth0"},
		{"route", "add", "2001:db8:5::/48", "via", "2001:db8::1", "proto", "99", "metric", "7"},
	} {
		ip(t, append([]string{"-n", n.Name}, c...)...)
	}
	got := snapshot(t, n.Host)
	want := ipSnapshot(t, n.Name)
	if d := cmp.Diff(want.Lines(), got.Lines()); d != "" {
		t.Errorf("netlink snapshot differs from ip -j (-ip +netlink):\n%s", d)
	}
	for _, l := range []string{
		"198.51.100.0/24 via 192.0.2.1 dev veth0 proto static metric 5 store persistent",
		"default inet6 via 2001:db8::1 dev veth0 proto static metric 1024 store persistent",
		"203.0.113.7 via 192.0.2.1 dev veth0 table 100 proto boot metric 0",
		"local 192.0.2.10 dev veth0 table local proto kernel metric 0",
		"addr 192.0.2.21/24 dev veth0 secondary",
		"link veth0 up mtu 1500",
		"link veth2 down mtu 1500",
	} {
		if !slices.Contains(got.Lines(), l) {
			t.Errorf("snapshot lacks %q:\n%s", l, got)
		}
	}
	if c := n.Host.Capabilities(); !c.Has(netcfg.Netlink) || !c.Has(netcfg.IPRoute2) || c.PersistentStore || !c.Events {
		t.Errorf("capabilities = %+v", c)
	}
}

// waitEvent waits until tl holds an event of kind k about exactly line.
func waitEvent(t *testing.T, tl *netcfg.Timeline, k netcfg.EventKind, line string) netcfg.Event {
	t.Helper()
	deadline := time.After(eventWindow)
	for {
		changed := tl.Changed()
		for _, e := range tl.Matching(k, line) {
			if e.Subject() == line {
				return e
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s event for %q within %s; timeline:\n%s", k, line, eventWindow, tl)
		}
	}
}

func subscribe(t *testing.T, h netcfg.Host) *netcfg.Timeline {
	t.Helper()
	tl := netcfg.NewTimeline()
	stop, err := h.Subscribe(context.Background(), tl.Record)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(stop)
	return tl
}

// TestMutations adds and deletes an address of each family and a
// persistent route of each family through each mechanism, and checks the
// snapshot, the events and the sentinel errors.
func TestMutations(t *testing.T) {
	for _, m := range []netcfg.Mechanism{netcfg.Netlink, netcfg.IPRoute2} {
		t.Run(string(m), func(t *testing.T) {
			n := newTestNS(t, "m"+string(m[:2]))
			h := n.Host
			ctx := context.Background()
			tl := subscribe(t, h)
			addrs := []netcfg.AddressSpec{
				{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "veth0"},
				{Prefix: netip.MustParsePrefix("2001:db8::21/64"), Interface: "veth0"},
			}
			routes := []netcfg.RouteSpec{
				{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "veth0", Persistent: true},
				{Dst: netip.MustParsePrefix("2001:db8:100::/48"), Gateway: netip.MustParseAddr("2001:db8::1"), Metric: 50, Persistent: true}, // no interface: the kernel resolves it
				{Dst: netip.MustParsePrefix("203.0.113.0/24"), Interface: "veth0"},                                                           // on-link, not persistent
			}
			wantRoutes := []string{
				"198.51.100.0/24 via 192.0.2.1 dev veth0 proto static metric 0",
				"2001:db8:100::/48 via 2001:db8::1 dev veth0 proto static metric 50",
				"203.0.113.0/24 dev veth0 proto boot metric 0",
			}
			wantAddrs := []string{"addr 192.0.2.21/24 dev veth0 secondary", "addr 2001:db8::21/64 dev veth0"}

			tl.Step("adding")
			for _, a := range addrs {
				if err := h.AddAddress(ctx, m, a); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range routes {
				if err := h.AddRoute(ctx, m, r); err != nil {
					t.Fatal(err)
				}
			}
			s := snapshot(t, h)
			for _, l := range append(wantRoutes[:2:2], wantAddrs...) {
				if !slices.Contains(s.Lines(), l) {
					t.Errorf("after adding: snapshot lacks %q:\n%s", l, s)
				}
			}
			for _, l := range wantRoutes[:2] {
				if !slices.Contains(s.Lines(), l+" store persistent") {
					t.Errorf("after adding: persistent view lacks %q:\n%s", l, s)
				}
			}
			if slices.Contains(s.Lines(), wantRoutes[2]+" store persistent") {
				t.Errorf("a non-persistent route is in the persistent view:\n%s", s)
			}
			for _, l := range wantRoutes {
				waitEvent(t, tl, netcfg.RouteAdded, l)
			}
			for _, l := range wantAddrs {
				waitEvent(t, tl, netcfg.AddrAdded, l)
			}

			tl.Step("adding again")
			if err := h.AddAddress(ctx, m, addrs[0]); !errors.Is(err, netcfg.ErrExists) {
				t.Errorf("adding an existing address: %v, want ErrExists", err)
			}
			if err := h.AddRoute(ctx, m, routes[0]); !errors.Is(err, netcfg.ErrExists) {
				t.Errorf("adding an existing route: %v, want ErrExists", err)
			}

			tl.Step("deleting")
			for _, r := range routes {
				if err := h.DeleteRoute(ctx, m, r); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range addrs {
				if err := h.DeleteAddress(ctx, m, a); err != nil {
					t.Fatal(err)
				}
			}
			s = snapshot(t, h)
			for _, l := range s.Lines() {
				if strings.Contains(l, "198.51.100.") || strings.Contains(l, "2001:db8:100:") || strings.Contains(l, "203.0.113.") || strings.Contains(l, "::21/") || strings.Contains(l, ".21/") {
					t.Errorf("after deleting: snapshot still has %q", l)
				}
			}
			for _, l := range wantRoutes {
				waitEvent(t, tl, netcfg.RouteRemoved, l)
			}
			for _, l := range wantAddrs {
				l = strings.TrimSuffix(l, " secondary")
				if len(tl.Matching(netcfg.AddrRemoved, strings.TrimPrefix(l, "addr "))) == 0 {
					waitEvent(t, tl, netcfg.AddrRemoved, l)
				}
			}

			tl.Step("deleting again")
			if err := h.DeleteRoute(ctx, m, routes[0]); !errors.Is(err, netcfg.ErrNotFound) {
				t.Errorf("deleting a missing route: %v, want ErrNotFound", err)
			}
			if err := h.DeleteAddress(ctx, m, addrs[1]); !errors.Is(err, netcfg.ErrNotFound) {
				t.Errorf("deleting a missing address: %v, want ErrNotFound", err)
			}
			if err := h.AddAddress(ctx, m, netcfg.AddressSpec{Prefix: addrs[0].Prefix, Interface: "nosuch0"}); !errors.Is(err, netcfg.ErrNotFound) {
				t.Errorf("adding on a missing interface: %v, want ErrNotFound", err)
			}
			if t.Failed() {
				t.Logf("timeline:\n%s", tl)
			}
		})
	}
}

func TestIPRoute2ErrorsCarryArgvAndOutput(t *testing.T) {
	n := newTestNS(t, "nle")
	err := n.Host.DeleteRoute(context.Background(), netcfg.IPRoute2, netcfg.RouteSpec{Dst: netip.MustParsePrefix("198.51.100.0/24")})
	if !errors.Is(err, netcfg.ErrNotFound) || !strings.Contains(err.Error(), `"route" "del" "198.51.100.0/24"`) || !strings.Contains(err.Error(), "No such process") {
		t.Errorf("error %v: want ErrNotFound with argv and output", err)
	}
}

func TestUnsupportedMechanism(t *testing.T) {
	n := newTestNS(t, "nlu")
	err := n.Host.AddRoute(context.Background(), netcfg.RouteExe, netcfg.RouteSpec{Dst: netip.MustParsePrefix("198.51.100.0/24"), Interface: "veth0"})
	if !errors.Is(err, netcfg.ErrUnsupported) {
		t.Errorf("route.exe on Linux: %v, want ErrUnsupported", err)
	}
}

func TestOpenMissingNamespace(t *testing.T) {
	skipUnlessRoot(t)
	_, err := linuxhost.OpenNamespace(fmt.Sprintf("kbh-%d-missing", 0))
	if !errors.Is(err, netcfg.ErrNotFound) {
		t.Errorf("opening a missing namespace: %v, want ErrNotFound", err)
	}
}

// TestEventForRouteDeletedBehindOurBack: a route deleted by `ip route del`
// (not through the Host) yields a RouteRemoved whose line is the snapshot's.
func TestEventForRouteDeletedBehindOurBack(t *testing.T) {
	n := newTestNS(t, "nlb")
	ip(t, "-n", n.Name, "route", "add", "default", "via", "192.0.2.1", "proto", "static")
	const line = "default via 192.0.2.1 dev veth0 proto static metric 0"
	if s := snapshot(t, n.Host); !slices.Contains(s.Lines(), line) {
		t.Fatalf("snapshot lacks %q:\n%s", line, s)
	}
	tl := subscribe(t, n.Host)
	tl.Step("after ip route del default")
	ip(t, "-n", n.Name, "route", "del", "default", "via", "192.0.2.1")
	e := waitEvent(t, tl, netcfg.RouteRemoved, line)
	if e.Route.Store != netcfg.StoreActive {
		t.Errorf("event store %s, want active", e.Route.Store)
	}
}

// TestEventOrder: one socket carries addresses and routes, so the kernel's
// order survives: the address comes before the local route it creates.
func TestEventOrder(t *testing.T) {
	n := newTestNS(t, "nlo")
	tl := subscribe(t, n.Host)
	ip(t, "-n", n.Name, "addr", "add", "198.51.100.9/24", "dev", "veth0")
	ip(t, "-n", n.Name, "route", "add", "203.0.113.0/24", "via", "198.51.100.1")
	last := waitEvent(t, tl, netcfg.RouteAdded, "203.0.113.0/24 via 198.51.100.1 dev veth0 proto boot metric 0")
	var order []string
	for _, e := range tl.Events() {
		if strings.Contains(e.Subject(), "198.51.100.9") || e.Subject() == last.Subject() {
			order = append(order, e.String())
		}
	}
	if len(order) < 3 || !strings.HasPrefix(order[0], "addr-added addr 198.51.100.9/24") || order[len(order)-1] != last.String() {
		t.Errorf("event order:\n%s", strings.Join(order, "\n"))
	}
}

// TestSubscribeStops: stop (and a cancelled context) end the subscription's
// goroutines and close its socket.
func TestSubscribeStops(t *testing.T) {
	n := newTestNS(t, "nls")
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		stop, err := n.Host.Subscribe(context.Background(), func(netcfg.Event) {})
		if err != nil {
			t.Fatal(err)
		}
		stop()
		stop() // idempotent
		ctx, cancel := context.WithCancel(context.Background())
		stop, err = n.Host.Subscribe(ctx, func(netcfg.Event) {})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		stop() // waits for the goroutines the cancel ended
	}
	// A goroutine past its last deferred call still counts for a moment:
	// wait (yielding) until the count settles, within an explicit window.
	for deadline := time.Now().Add(eventWindow); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after 40 subscriptions:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
	// fn ends its own subscription by cancelling ctx.
	ctx, cancel := context.WithCancel(context.Background())
	called := make(chan struct{})
	var once sync.Once
	stop, err := n.Host.Subscribe(ctx, func(netcfg.Event) {
		cancel()
		once.Do(func() { close(called) })
	})
	if err != nil {
		t.Fatal(err)
	}
	ip(t, "-n", n.Name, "route", "add", "203.0.113.0/24", "via", "192.0.2.1")
	select {
	case <-called:
	case <-time.After(eventWindow):
		t.Fatal("callback not called")
	}
	stop()
}
