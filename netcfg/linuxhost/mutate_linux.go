//go:build linux

package linuxhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// AddAddress adds a.Prefix to a.Interface: RTM_NEWADDR through the netlink
// handle, or `ip -n NS addr add PREFIX dev DEV [nodad]`. IPv6 addresses get
// IFA_F_NODAD, so they are never tentative.
func (h *nsHost) AddAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.addr(ctx, m, a, true); err != nil {
		return fmt.Errorf("adding address %s on %s in %s: %w", a.Prefix, a.Interface, h.name, err)
	}
	return nil
}

// DeleteAddress deletes a.Prefix from a.Interface: RTM_DELADDR, or
// `ip -n NS addr del PREFIX dev DEV`.
func (h *nsHost) DeleteAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.addr(ctx, m, a, false); err != nil {
		return fmt.Errorf("deleting address %s on %s in %s: %w", a.Prefix, a.Interface, h.name, err)
	}
	return nil
}

// AddRoute adds r to the main table: RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL),
// or `ip -n NS route add ...`. Persistent routes get proto static, others
// proto boot; without an interface the kernel resolves the gateway; metric 0
// leaves the kernel default (IPv4 0, IPv6 1024).
func (h *nsHost) AddRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.route(ctx, m, r, true); err != nil {
		return fmt.Errorf("adding route %s on %s: %w", routeSpecString(r), h.name, err)
	}
	return nil
}

// DeleteRoute deletes the main-table route matching r's destination and,
// where set, gateway, interface and metric, whatever its protocol:
// RTM_DELROUTE, or `ip -n NS route del ...`.
func (h *nsHost) DeleteRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.route(ctx, m, r, false); err != nil {
		return fmt.Errorf("deleting route %s on %s: %w", routeSpecString(r), h.name, err)
	}
	return nil
}

func routeSpecString(r netcfg.RouteSpec) string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	if r.Interface != "" {
		s += " dev " + r.Interface
	}
	return s
}

func unsupportedMechanism(m netcfg.Mechanism) error {
	return netcfg.Unsupported("mechanism "+string(m), "a Linux namespace host changes configuration through netlink or iproute2 only")
}

func (h *nsHost) addr(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec, add bool) error {
	switch m {
	case netcfg.Netlink:
		link, err := h.link(a.Interface)
		if err != nil {
			return err
		}
		na := &netlink.Addr{IPNet: ipNet(a.Prefix)}
		if a.Prefix.Addr().Is6() {
			na.Flags = unix.IFA_F_NODAD
		}
		if add {
			err = h.h.AddrAdd(link, na)
		} else {
			err = h.h.AddrDel(link, na)
		}
		return sentinel(err)
	case netcfg.IPRoute2:
		if add {
			return h.runIP(ctx, iproute2.AddrAdd(h.name, a))
		}
		return h.runIP(ctx, iproute2.AddrDel(h.name, a))
	}
	return unsupportedMechanism(m)
}

func (h *nsHost) route(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec, add bool) error {
	switch m {
	case netcfg.Netlink:
		nr := &netlink.Route{Dst: ipNet(r.Dst), Priority: r.Metric, Table: unix.RT_TABLE_MAIN}
		if r.Gateway.IsValid() {
			nr.Gw = r.Gateway.AsSlice()
		}
		if r.Interface != "" {
			link, err := h.link(r.Interface)
			if err != nil {
				return err
			}
			nr.LinkIndex = link.Attrs().Index
		}
		if !add {
			nr.Scope = netlink.SCOPE_NOWHERE // match any scope, like ip route del
			return sentinel(h.h.RouteDel(nr))
		}
		nr.Type = unix.RTN_UNICAST
		nr.Protocol = iproute2.ProtoBoot
		if r.Persistent {
			nr.Protocol = iproute2.ProtoStatic
		}
		if !r.Gateway.IsValid() {
			nr.Scope = netlink.SCOPE_LINK // what ip route add picks for an on-link route
		}
		return sentinel(h.h.RouteAdd(nr))
	case netcfg.IPRoute2:
		if add {
			return h.runIP(ctx, iproute2.RouteAdd(h.name, r))
		}
		return h.runIP(ctx, iproute2.RouteDel(h.name, r))
	}
	return unsupportedMechanism(m)
}

func (h *nsHost) link(name string) (netlink.Link, error) {
	l, err := h.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("interface %s: %w", name, netcfg.ErrNotFound)
		}
		return nil, fmt.Errorf("looking up interface %s: %w", name, err)
	}
	return l, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// sentinel wraps netlink errnos into netcfg's sentinels: EEXIST → ErrExists;
// ESRCH, ENOENT, EADDRNOTAVAIL, ENODEV → ErrNotFound. The errno stays in the
// chain.
func sentinel(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("%w: %w", netcfg.ErrExists, err)
	case errors.Is(err, unix.ESRCH), errors.Is(err, unix.ENOENT), errors.Is(err, unix.EADDRNOTAVAIL), errors.Is(err, unix.ENODEV):
		return fmt.Errorf("%w: %w", netcfg.ErrNotFound, err)
	}
	return err
}

// runIP runs argv (argv[0] is "ip", its -n naming the namespace) through
// netcfg.Exec. A failure names the netcfg sentinel the output implies, if
// any, beside the *netcfg.CommandError.
func (h *nsHost) runIP(ctx context.Context, argv []string) error {
	if h.ipPath == "" {
		return netcfg.Unsupported("mechanism "+string(netcfg.IPRoute2), "ip is not on PATH")
	}
	out, err := netcfg.Exec.Run(ctx, argv)
	return iproute2.Sentinel(out, err)
}
