//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// addRoutes installs the fixture's routes (f.Routes: an imported host's
// routes besides its addresses' on-link ones) in the host namespace of an
// owned lab, in fixture order, then waits until the main table holds them
// all. Each is RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL) in the main table,
// mapped as linuxhost maps a RouteSpec: persistent routes proto static
// (netcfg's persistent view on Linux), others proto boot; metric 0 leaves
// the kernel's default; an on-link route has scope link. Equivalent to
//
//	ip -n NS route add DST [via GW] dev DEV [metric N] [proto static]
//
// A route the kernel refuses is an error naming routes[i].
func (l *Lab) addRoutes(ctx context.Context, h *netlink.Handle) error {
	for i, r := range l.Fixture.Routes {
		nr, err := netlinkRoute(h, l.Fixture, r)
		if err == nil {
			err = h.RouteAdd(nr)
		}
		if err != nil {
			return fmt.Errorf("adding routes[%d] (%s) in %s: %w", i, RouteString(l.Fixture, r), l.Namespaces[HostRole], err)
		}
	}
	return l.waitRoutes(ctx, h)
}

// netlinkRoute is the main-table route the fixture route r installs.
func netlinkRoute(h *netlink.Handle, f *fixtures.Lab, r fixtures.Route) (*netlink.Route, error) {
	ifname := RouteInterface(f, r)
	link, err := h.LinkByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("looking up interface %s: %w", ifname, err)
	}
	nr := &netlink.Route{
		Dst:       &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), r.Dst.Addr().BitLen())},
		LinkIndex: link.Attrs().Index,
		Priority:  r.Metric,
		Table:     unix.RT_TABLE_MAIN,
		Type:      unix.RTN_UNICAST,
		Protocol:  iproute2.ProtoBoot,
	}
	if r.Persistent {
		nr.Protocol = iproute2.ProtoStatic
	}
	if r.Gateway.IsValid() {
		nr.Gw = r.Gateway.AsSlice()
	} else {
		nr.Scope = netlink.SCOPE_LINK
	}
	return nr, nil
}

// waitRoutes polls the main table (RTM_GETROUTE) until every fixture route
// is in it with its gateway, interface, protocol and (if set) metric.
func (l *Lab) waitRoutes(ctx context.Context, h *netlink.Handle) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		missing, err := l.missingRoute(h)
		if err == nil && missing < 0 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("routes[%d] (%s) not in the main table of %s", missing, RouteString(l.Fixture, l.Fixture.Routes[missing]), l.Namespaces[HostRole])
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the lab's routes (%v): %w: %w", ReadyTimeout, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// missingRoute returns the index of the first fixture route not in the
// main table, or -1.
func (l *Lab) missingRoute(h *netlink.Handle) (int, error) {
	have, err := h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return 0, fmt.Errorf("listing routes: %w", err)
	}
	for i, r := range l.Fixture.Routes {
		want, err := netlinkRoute(h, l.Fixture, r)
		if err != nil {
			return 0, err
		}
		found := false
		for _, got := range have {
			if sameRoute(got, want) {
				found = true
				break
			}
		}
		if !found {
			return i, nil
		}
	}
	return -1, nil
}

// sameRoute compares a listed route with the one addRoutes installed: a
// metric of 0 matches the kernel's default.
func sameRoute(got netlink.Route, want *netlink.Route) bool {
	return prefixOfNet(got.Dst, want.Dst) == prefixOfNet(want.Dst, want.Dst) &&
		addrOf(got.Gw) == addrOf(want.Gw) &&
		got.LinkIndex == want.LinkIndex &&
		got.Protocol == want.Protocol &&
		(want.Priority == 0 || got.Priority == want.Priority)
}

// prefixOfNet is n as a prefix; a nil n (the kernel's default route) is the
// default of like's family.
func prefixOfNet(n, like *net.IPNet) netip.Prefix {
	if n == nil {
		if like.IP.To4() != nil {
			return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	a, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones)
}

func addrOf(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
