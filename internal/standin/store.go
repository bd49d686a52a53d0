package standin

import (
	"net/netip"
	"slices"

	"github.com/kbharness/kbharness/internal/standin/wire"
	"github.com/kbharness/kbharness/netcfg/winreg"
)

// DefaultMetric is the metric of a persistent route added by `route -p
// add` without METRIC: route print shows "Default" (winreg.DefaultMetric in
// the registry's value name).
const DefaultMetric = winreg.DefaultMetric

// pRoute is a route of the persistent store.
type pRoute struct {
	Dst     netip.Prefix
	Gateway netip.Addr // invalid: on-link
	Index   int        // 0: not recorded (read from the registry)
	Metric  int        // DefaultMetric: none given
}

// pAddr is an address of the persistent store.
type pAddr struct {
	Prefix netip.Prefix
	Index  int
}

// store is the persistent store: what Windows keeps across restarts
// ("PersistentStore"), beside the kernel's active tables. The kernel keeps
// no such thing, so the server does; the IPv4 routes are mirrored into the
// registry's PersistentRoutes values by the clients.
type store struct {
	seeded bool
	routes []pRoute
	addrs  []pAddr
	// mcastForwarding is `netsh interface ipv4|ipv6 set global
	// multicastforwarding=`, by family (4, 6) and store.
	mcastForwarding map[int]bool
}

func newStore() store { return store{mcastForwarding: map[int]bool{}} }

func sameRoute(a, b pRoute) bool {
	return a.Dst == b.Dst && a.Gateway == b.Gateway && (a.Index == b.Index || a.Index == 0 || b.Index == 0)
}

// addRoute adds r; false if an equal route is there already.
func (s *store) addRoute(r pRoute) bool {
	for _, x := range s.routes {
		if sameRoute(x, r) {
			return false
		}
	}
	s.routes = append(s.routes, r)
	return true
}

// deleteRoutes removes the routes match accepts and returns them.
func (s *store) deleteRoutes(match func(pRoute) bool) []pRoute {
	var gone []pRoute
	s.routes = slices.DeleteFunc(s.routes, func(r pRoute) bool {
		if match(r) {
			gone = append(gone, r)
			return true
		}
		return false
	})
	return gone
}

func (s *store) addAddr(a pAddr) bool {
	for _, x := range s.addrs {
		if x.Index == a.Index && x.Prefix.Addr() == a.Prefix.Addr() {
			return false
		}
	}
	s.addrs = append(s.addrs, a)
	return true
}

func (s *store) deleteAddr(idx int, a netip.Addr) bool {
	n := len(s.addrs)
	s.addrs = slices.DeleteFunc(s.addrs, func(x pAddr) bool { return x.Index == idx && x.Prefix.Addr() == a })
	return len(s.addrs) < n
}

// routesOf returns the persistent routes of family fam (4 or 6), sorted by
// destination.
func (s *store) routesOf(fam int) []pRoute {
	var out []pRoute
	for _, r := range s.routes {
		if familyOf(r.Dst.Addr()) == fam {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b pRoute) int {
		if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
			return c
		}
		return a.Dst.Bits() - b.Dst.Bits()
	})
	return out
}

// seed imports, once, the IPv4 persistent routes the registry holds (value
// names that do not parse are left alone).
func (s *store) seed(names []string) {
	if s.seeded {
		return
	}
	s.seeded = true
	for _, n := range names {
		r, err := winreg.ParsePersistentRoute(n)
		if err != nil {
			continue
		}
		s.addRoute(pRoute{Dst: r.Dst, Gateway: r.Gateway, Metric: r.Metric})
	}
}

// registryOps returns the operations that turn the PersistentRoutes value
// names have into the IPv4 persistent routes of the store. Names that do
// not parse as routes are left alone.
func (s *store) registryOps(have []string) []wire.RegOp {
	want := map[string]bool{}
	var order []string
	for _, r := range s.routesOf(4) {
		name, err := winreg.PersistentRouteName(winreg.Route{Dst: r.Dst, Gateway: r.Gateway, Metric: r.Metric})
		if err != nil || want[name] {
			continue
		}
		want[name] = true
		order = append(order, name)
	}
	had := map[string]bool{}
	var ops []wire.RegOp
	for _, n := range have {
		had[n] = true
		if _, err := winreg.ParsePersistentRoute(n); err == nil && !want[n] {
			ops = append(ops, wire.RegOp{Op: wire.OpDelete, Name: n})
		}
	}
	for _, n := range order {
		if !had[n] {
			ops = append(ops, wire.RegOp{Op: wire.OpSet, Name: n})
		}
	}
	return ops
}
