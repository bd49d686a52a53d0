package netcfg

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRouteLine(t *testing.T) {
	gw := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		name  string
		route Route
		want  string
	}{
		{"default route", Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gw, Interface: "lan0", Protocol: "static"},
			"default via 192.0.2.1 dev lan0 proto static metric 0"},
		{"IPv6 default in the persistent store", Route{Dst: netip.MustParsePrefix("::/0"), Gateway: netip.MustParseAddr("2001:db8::1"), Metric: 1024, Store: StorePersistent},
			"default inet6 via 2001:db8::1 metric 1024 store persistent"},
		{"local table host route", Route{Dst: netip.MustParsePrefix("192.0.2.20/32"), Interface: "lan0", Type: "local", Table: "local", Protocol: "kernel"},
			"local 192.0.2.20 dev lan0 table local proto kernel metric 0"},
		{"on-link subnet", Route{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "lan0", Protocol: "kernel", Metric: 0},
			"192.0.2.0/24 dev lan0 proto kernel metric 0"},
	} {
		if got := tc.route.Line(); got != tc.want {
			t.Errorf("%s: Line() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLinesDropNoiseAndVolatileFields(t *testing.T) {
	s := &Snapshot{
		Interfaces: []Interface{{Index: 7, Name: "lan0", MAC: "02:00:00:00:00:01", Up: true, MTU: 1500}},
		Addresses: []Address{
			{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: "lan0"},
			{Prefix: netip.MustParsePrefix("fe80::1/64"), Interface: "lan0"},
		},
		Routes: []Route{
			{Dst: netip.MustParsePrefix("fe80::/64"), Interface: "lan0", Protocol: "kernel", Metric: 256},
			{Dst: netip.MustParsePrefix("ff00::/8"), Interface: "lan0", Type: "multicast", Table: "local", Metric: 256},
			{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "lan0", Protocol: "kernel"},
			{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "lan0", Protocol: "kernel"},
		},
	}
	want := []string{
		"192.0.2.0/24 dev lan0 proto kernel metric 0",
		"addr 192.0.2.20/24 dev lan0",
		"link lan0 up mtu 1500",
	}
	if got := s.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Lines() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDiff(t *testing.T) {
	route := func(dst string) Route {
		return Route{Dst: netip.MustParsePrefix(dst), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan0", Protocol: "static"}
	}
	before := &Snapshot{Routes: []Route{route("0.0.0.0/0"), route("198.51.100.0/24")}}
	after := &Snapshot{Routes: []Route{route("198.51.100.0/24"), route("203.0.113.0/24")}}
	d := Diff(before, after)
	want := "- default via 192.0.2.1 dev lan0 proto static metric 0\n+ 203.0.113.0/24 via 192.0.2.1 dev lan0 proto static metric 0\n"
	if d.String() != want {
		t.Fatalf("Diff =\n%s\nwant\n%s", d, want)
	}
	if !Diff(after, after).Empty() || Diff(after, after).String() != "(no difference)\n" {
		t.Fatalf("a snapshot differs from itself: %s", Diff(after, after))
	}
}

func TestFindRoutes(t *testing.T) {
	gw := netip.MustParseAddr("192.0.2.1")
	def := netip.MustParsePrefix("0.0.0.0/0")
	s := &Snapshot{Routes: []Route{
		{Dst: def, Gateway: gw, Interface: "lan0", Store: StoreActive},
		{Dst: def, Gateway: gw, Interface: "lan0", Store: StorePersistent},
	}}
	for _, tc := range []struct {
		store Store
		want  Route
		found bool
	}{
		{StoreActive, Route{Dst: def}, true},
		{StorePersistent, Route{Dst: def, Gateway: gw}, true},
		{StoreActive, Route{Dst: def, Interface: "lan1"}, false},
		{StoreActive, Route{Dst: def, Gateway: netip.MustParseAddr("192.0.2.2")}, false},
		{StoreActive, Route{Dst: netip.MustParsePrefix("192.0.2.0/24")}, false},
	} {
		if got := s.HasRoute(tc.store, tc.want); got != tc.found {
			t.Errorf("HasRoute(%s, %s) = %v, want %v", tc.store, tc.want.Line(), got, tc.found)
		}
	}
}

func TestNormalizeIsLines(t *testing.T) {
	bg := netip.MustParsePrefix("198.18.0.0/15")
	s := &Snapshot{
		Interfaces: []Interface{{Name: "lan0", Up: true, MTU: 1500}},
		Addresses:  []Address{{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: "lan0"}, {Prefix: netip.MustParsePrefix("fe80::1/64"), Interface: "lan0"}},
		Routes: []Route{
			{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "lan0", Protocol: "kernel"},
			{Dst: netip.MustParsePrefix("198.18.0.1/32"), Interface: "lan0", Protocol: "boot"},
			{Dst: netip.MustParsePrefix("fe80::/64"), Interface: "lan0", Protocol: "kernel"},
		},
	}
	all := s.Normalize(nil)
	if got, want := strings.Join(all.Sorted(), "\n"), strings.Join(s.Lines(), "\n"); got != want {
		t.Fatalf("Normalize(nil).Sorted() =\n%s\nLines() =\n%s", got, want)
	}
	fg := s.Normalize(func(r Route) bool { return bg.Overlaps(r.Dst) })
	if len(fg) != len(all)-1 {
		t.Fatalf("ignore kept %v", fg.Sorted())
	}
	if it := all["198.18.0.1 dev lan0 proto boot metric 0"]; it.Route == nil || it.Route.Dst != netip.MustParsePrefix("198.18.0.1/32") {
		t.Errorf("the item does not point at its route: %+v", it)
	}
	d := fg.Diff(all)
	if d.String() != "+ 198.18.0.1 dev lan0 proto boot metric 0\n" || fg.Equal(all) || !all.Equal(all.Clone()) {
		t.Errorf("Diff = %q", d)
	}
	want := "(- only in a fresh lab, + only on the host)\n+ 198.18.0.1 dev lan0 proto boot metric 0\n"
	if got := d.Explain("a fresh lab", "the host"); got != want {
		t.Errorf("Explain =\n%s\nwant\n%s", got, want)
	}
}
