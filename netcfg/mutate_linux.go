//go:build linux

package netcfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kbharness/kbharness/netcfg/iproute2/ipcore"
)

// AddAddress adds a.Prefix to a.Interface: RTM_NEWADDR through the netlink
// handle, or `ip -n NS addr add PREFIX dev DEV [nodad]`. IPv6 addresses get
// IFA_F_NODAD, so they are never tentative.
func (h *nsHost) AddAddress(ctx context.Context, m Mechanism, a AddressSpec) error {
	if err := h.addr(ctx, m, a, true); err != nil {
		return fmt.Errorf("adding address %s on %s in %s: %w", a.Prefix, a.Interface, h.name, err)
	}
	return nil
}

// DeleteAddress deletes a.Prefix from a.Interface: RTM_DELADDR, or
// `ip -n NS addr del PREFIX dev DEV`.
func (h *nsHost) DeleteAddress(ctx context.Context, m Mechanism, a AddressSpec) error {
	if err := h.addr(ctx, m, a, false); err != nil {
		return fmt.Errorf("deleting address %s on %s in %s: %w", a.Prefix, a.Interface, h.name, err)
	}
	return nil
}

// AddRoute adds r to the main table: RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL),
// or `ip -n NS route add ...`. Persistent routes get proto static, others
// proto boot; without an interface the kernel resolves the gateway; metric 0
// leaves the kernel default (IPv4 0, IPv6 1024).
func (h *nsHost) AddRoute(ctx context.Context, m Mechanism, r RouteSpec) error {
	if err := h.route(ctx, m, r, true); err != nil {
		return fmt.Errorf("adding route %s on %s: %w", routeSpecString(r), h.name, err)
	}
	return nil
}

// DeleteRoute deletes the main-table route matching r's destination and,
// where set, gateway, interface and metric, whatever its protocol:
// RTM_DELROUTE, or `ip -n NS route del ...`.
func (h *nsHost) DeleteRoute(ctx context.Context, m Mechanism, r RouteSpec) error {
	if err := h.route(ctx, m, r, false); err != nil {
		return fmt.Errorf("deleting route %s on %s: %w", routeSpecString(r), h.name, err)
	}
	return nil
}

func routeSpecString(r RouteSpec) string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	if r.Interface != "" {
		s += " dev " + r.Interface
	}
	return s
}

func unsupportedMechanism(m Mechanism) error {
	return Unsupported("mechanism "+string(m), "a Linux namespace host changes configuration through netlink or iproute2 only")
}

func (h *nsHost) addr(ctx context.Context, m Mechanism, a AddressSpec, add bool) error {
	switch m {
	case Netlink:
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
	case IPRoute2:
		if add {
			return h.runIP(ctx, ipcore.AddrAdd(h.name, a.Prefix, a.Interface))
		}
		return h.runIP(ctx, ipcore.AddrDel(h.name, a.Prefix, a.Interface))
	}
	return unsupportedMechanism(m)
}

func (h *nsHost) route(ctx context.Context, m Mechanism, r RouteSpec, add bool) error {
	switch m {
	case Netlink:
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
		nr.Protocol = ipcore.ProtoBoot
		if r.Persistent {
			nr.Protocol = ipcore.ProtoStatic
		}
		if !r.Gateway.IsValid() {
			nr.Scope = netlink.SCOPE_LINK // what ip route add picks for an on-link route
		}
		return sentinel(h.h.RouteAdd(nr))
	case IPRoute2:
		if add {
			return h.runIP(ctx, ipcore.RouteAdd(h.name, r.Dst, r.Gateway, r.Interface, r.Metric, r.Persistent))
		}
		return h.runIP(ctx, ipcore.RouteDel(h.name, r.Dst, r.Gateway, r.Interface, r.Metric))
	}
	return unsupportedMechanism(m)
}

func (h *nsHost) link(name string) (netlink.Link, error) {
	l, err := h.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("interface %s: %w", name, ErrNotFound)
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
		return fmt.Errorf("%w: %w", ErrExists, err)
	case errors.Is(err, unix.ESRCH), errors.Is(err, unix.ENOENT), errors.Is(err, unix.EADDRNOTAVAIL), errors.Is(err, unix.ENODEV):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// ipOutputSentinels maps what ip prints for those errnos: strerror
// ("RTNETLINK answers: File exists") or, when the kernel sends an extended
// ack, its message ("Error: ipv4: Address already assigned.").
var ipOutputSentinels = []struct {
	text string
	err  error
}{
	{"File exists", ErrExists},
	{"Address already assigned", ErrExists},
	{"already exists", ErrExists},
	{"No such process", ErrNotFound},
	{"Cannot assign requested address", ErrNotFound},
	{"No such file or directory", ErrNotFound},
	{"address not found", ErrNotFound},
	{"Cannot find device", ErrNotFound},
}

// ipError is a failed `ip` command: its argv, combined output and exit
// error. It wraps a netcfg sentinel when the output names one.
type ipError struct {
	Argv     []string
	Output   string
	Err      error // the exec error (*exec.ExitError, ...)
	Sentinel error // ErrExists, ErrNotFound or nil
}

func (e *ipError) Error() string {
	return fmt.Sprintf("running %q: %v: %s", strings.Join(e.Argv, " "), e.Err, strings.TrimSpace(e.Output))
}

// Unwrap exposes both the sentinel and the exec error to errors.Is/As.
func (e *ipError) Unwrap() []error {
	if e.Sentinel != nil {
		return []error{e.Sentinel, e.Err}
	}
	return []error{e.Err}
}

// runIP runs argv (argv[0] is "ip") with the probed binary.
func (h *nsHost) runIP(ctx context.Context, argv []string) error {
	if h.ipPath == "" {
		return Unsupported("mechanism "+string(IPRoute2), "ip is not on PATH")
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, h.ipPath, argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		ce := &ipError{Argv: argv, Output: out.String(), Err: err}
		for _, s := range ipOutputSentinels {
			if strings.Contains(ce.Output, s.text) {
				ce.Sentinel = s.err
				break
			}
		}
		return ce
	}
	return nil
}
