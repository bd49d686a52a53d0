package explore

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

// fakeHost is a host kbharness did not build, in memory: its addresses
// bring their prefix and local routes like Linux's, routes are kept as
// given, and with loseRoutes it has the secondary-ip-route-loss defect
// (deleting an address deletes the static routes of its interface).
type fakeHost struct {
	ifs        []netcfg.Interface
	addrs      []netcfg.Address
	routes     []netcfg.Route
	loseRoutes bool
}

func newFakeHost() *fakeHost {
	h := &fakeHost{ifs: []netcfg.Interface{{Name: "lan0", Up: true, MTU: 1500}}}
	h.AddAddress(context.Background(), netcfg.Netlink, netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: "lan0"})
	// The host's own configuration, which the reference must keep.
	h.AddRoute(context.Background(), netcfg.Netlink, netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan0"})
	return h
}

func (h *fakeHost) Name() string { return "fake" }
func (h *fakeHost) Capabilities() netcfg.Capabilities {
	return netcfg.Capabilities{Dialect: netcfg.DialectLinux, Mechanisms: []netcfg.Mechanism{netcfg.Netlink}}
}
func (h *fakeHost) Snapshot(context.Context) (*netcfg.Snapshot, error) {
	return &netcfg.Snapshot{Interfaces: slices.Clone(h.ifs), Addresses: slices.Clone(h.addrs), Routes: slices.Clone(h.routes)}, nil
}
func (h *fakeHost) Subscribe(context.Context, func(netcfg.Event)) (func(), error) {
	return nil, netcfg.Unsupported("change events", "a fake host")
}
func (h *fakeHost) Close() error { return nil }

func (h *fakeHost) AddAddress(_ context.Context, _ netcfg.Mechanism, a netcfg.AddressSpec) error {
	var flags netcfg.AddrFlags
	for _, x := range h.addrs {
		if x.Prefix == a.Prefix {
			return netcfg.ErrExists
		}
		if x.Prefix.Masked() == a.Prefix.Masked() {
			flags = netcfg.AddrSecondary
		}
	}
	h.addrs = append(h.addrs, netcfg.Address{Prefix: a.Prefix, Interface: a.Interface, Flags: flags})
	h.routes = append(h.routes, netcfg.Route{Dst: netip.PrefixFrom(a.Prefix.Addr(), 32), Interface: a.Interface, Type: "local", Table: "local", Protocol: "kernel"})
	if flags == 0 {
		h.routes = append(h.routes, netcfg.Route{Dst: a.Prefix.Masked(), Interface: a.Interface, Protocol: "kernel"})
	}
	return nil
}

func (h *fakeHost) DeleteAddress(_ context.Context, _ netcfg.Mechanism, a netcfg.AddressSpec) error {
	i := slices.IndexFunc(h.addrs, func(x netcfg.Address) bool { return x.Prefix == a.Prefix })
	if i < 0 {
		return netcfg.ErrNotFound
	}
	h.addrs = slices.Delete(h.addrs, i, i+1)
	h.routes = slices.DeleteFunc(h.routes, func(r netcfg.Route) bool {
		return (r.Type == "local" && r.Dst.Addr() == a.Prefix.Addr()) ||
			(h.loseRoutes && r.Interface == a.Interface && r.Protocol == "static")
	})
	return nil
}

func (h *fakeHost) AddRoute(_ context.Context, _ netcfg.Mechanism, r netcfg.RouteSpec) error {
	proto := "boot"
	if r.Persistent {
		proto = "static"
	}
	h.routes = append(h.routes, netcfg.Route{Dst: r.Dst, Gateway: r.Gateway, Interface: r.Interface, Protocol: proto, Metric: r.Metric})
	return nil
}

func (h *fakeHost) DeleteRoute(_ context.Context, _ netcfg.Mechanism, r netcfg.RouteSpec) error {
	n := len(h.routes)
	h.routes = slices.DeleteFunc(h.routes, func(x netcfg.Route) bool { return x.Dst == r.Dst && x.Gateway == r.Gateway })
	if len(h.routes) == n {
		return netcfg.ErrNotFound
	}
	return nil
}

// The baseline reference learns each element on the host itself, keeps the
// host's own configuration, and catches a route that vanished (the
// secondary-ip-route-loss defect) and a stale route, on a host with no
// fresh copy.
func TestBaselineReferenceCatchesDefects(t *testing.T) {
	ctx := context.Background()
	route := netcfg.RouteSpec{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan0", Persistent: true}
	extra := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}
	routeAlone, extraAddr := Element{Route: &route}, Element{Address: &extra}

	h := newFakeHost()
	start, _ := h.Snapshot(ctx)
	ref, err := NewBaseline(ctx, h, []Element{routeAlone, extraAddr}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if now, _ := h.Snapshot(ctx); !netcfg.Diff(start, now).Empty() {
		t.Fatalf("learning left the host changed:\n%s", netcfg.Diff(start, now))
	}
	if s := ref.Stats(); s.Learned != 0 {
		t.Errorf("deltas learned lazily: %+v", s) // all learned up front, at the start point
	}
	check := func(c Config) netcfg.SnapshotDiff {
		t.Helper()
		want, confirmed, err := ref.Expect(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if confirmed {
			t.Error("a baseline prediction reported as measured")
		}
		if confirmedWant, err := ref.Confirm(ctx, c); err != nil || !confirmedWant.Equal(want) {
			t.Errorf("Confirm = %v, %v; want the prediction", confirmedWant.Sorted(), err)
		}
		s, _ := h.Snapshot(ctx)
		return want.Diff(s.Normalize(nil))
	}

	// A healthy host: the route survives the additional address's delete.
	h.AddRoute(ctx, netcfg.Netlink, route)
	h.AddAddress(ctx, netcfg.Netlink, extra)
	if d := check(ConfigOf(routeAlone, extraAddr)); !d.Empty() {
		t.Fatalf("healthy host, route and address:\n%s", d)
	}
	h.DeleteAddress(ctx, netcfg.Netlink, extra)
	if d := check(ConfigOf(routeAlone)); !d.Empty() {
		t.Fatalf("healthy host, after the delete:\n%s", d)
	}

	// The defect: the persistent route goes with the address.
	h.loseRoutes = true
	h.AddAddress(ctx, netcfg.Netlink, extra)
	h.DeleteAddress(ctx, netcfg.Netlink, extra)
	d := check(ConfigOf(routeAlone))
	want := "(- only in the baseline plus learned deltas, + only on the host)\n" +
		"- default via 192.0.2.1 dev lan0 proto static metric 0\n"
	if got := d.Explain(ref.String(), "the host"); got != want {
		t.Errorf("a vanished route:\n%s\nwant\n%s", got, want)
	}

	// A stale route: one no element brings.
	h.loseRoutes = false
	h.AddRoute(ctx, netcfg.Netlink, route)
	h.AddRoute(ctx, netcfg.Netlink, netcfg.RouteSpec{Dst: netip.MustParsePrefix("192.0.2.21/32"), Interface: "lan0"})
	if d := check(ConfigOf(routeAlone)); len(d.Removed) != 0 || !slices.Equal(d.Added, []string{"192.0.2.21 dev lan0 proto boot metric 0"}) {
		t.Errorf("a stale route:\n%s", d)
	}

	// An element it did not learn at the start point cannot be predicted.
	other := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.22/24"), Interface: "lan0"}
	if _, _, err := ref.Expect(ctx, ConfigOf(Element{Address: &other})); err == nil || !strings.Contains(err.Error(), "not learned at the start point") {
		t.Errorf("unlearned element: %v", err)
	}
}

// Learning fails loudly when the host does not return to its start point
// after an element is undone: a defect is caught while learning too.
func TestBaselineLearningNeedsTheHostBack(t *testing.T) {
	ctx := context.Background()
	h := newFakeHost()
	h.loseRoutes = true
	// The host's own static route goes when the learned address is undone.
	h.AddRoute(ctx, netcfg.Netlink, netcfg.RouteSpec{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan0", Persistent: true})
	extra := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}
	_, err := NewBaseline(ctx, h, []Element{{Address: &extra}}, "", "")
	if err == nil || !strings.Contains(err.Error(), "- 198.51.100.0/24 via 192.0.2.1 dev lan0 proto static metric 0") {
		t.Fatalf("learning on a host that lost its route: %v", err)
	}
}
