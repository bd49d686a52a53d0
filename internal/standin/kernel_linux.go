package standin

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// linuxKernel is the Kernel of one network namespace: a netlink handle
// bound to it (netlink.NewHandleAt) and /proc/sys/net read from inside it.
type linuxKernel struct {
	h  *netlink.Handle
	ns netns.NsHandle
}

// OpenKernel returns the Kernel of network namespace ns (netns.None() or
// the current namespace: the namespace this process runs in). Close
// releases the netlink socket.
func OpenKernel(ns netns.NsHandle) (Kernel, func() error, error) {
	if !ns.IsOpen() {
		cur, err := netns.Get()
		if err != nil {
			return nil, nil, fmt.Errorf("opening the current network namespace: %w", err)
		}
		ns = cur
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, nil, fmt.Errorf("opening a netlink socket in namespace %s: %w", ns, err)
	}
	k := &linuxKernel{h: h, ns: ns}
	return k, func() error { h.Close(); return nil }, nil
}

func (k *linuxKernel) Links() ([]Link, error) {
	ls, err := k.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing links (RTM_GETLINK): %w", err)
	}
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		a := l.Attrs()
		out = append(out, Link{
			Index:    a.Index,
			Name:     a.Name,
			MAC:      a.HardwareAddr,
			MTU:      a.MTU,
			Up:       a.Flags&net.FlagUp != 0 && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown),
			Loopback: a.Flags&net.FlagLoopback != 0,
		})
	}
	return out, nil
}

func (k *linuxKernel) Addrs() ([]Addr, error) {
	as, err := k.h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("listing addresses (RTM_GETADDR): %w", err)
	}
	out := make([]Addr, 0, len(as))
	for _, a := range as {
		p, ok := prefixOf(a.IPNet)
		if !ok {
			continue
		}
		out = append(out, Addr{
			Prefix:     p,
			Index:      a.LinkIndex,
			Permanent:  a.Flags&unix.IFA_F_PERMANENT != 0,
			Tentative:  a.Flags&unix.IFA_F_TENTATIVE != 0,
			Duplicate:  a.Flags&unix.IFA_F_DADFAILED != 0,
			Deprecated: a.Flags&unix.IFA_F_DEPRECATED != 0,
			Secondary:  a.Flags&unix.IFA_F_SECONDARY != 0,
			ValidLft:   lifetime(a.ValidLft),
			PrefLft:    lifetime(a.PreferedLft),
		})
	}
	return out, nil
}

// lifetime converts netlink's lifetime (0 or 0xffffffff for forever on
// permanent addresses, depending on the kernel) to seconds or Infinite.
func lifetime(v int) uint32 {
	if v <= 0 || uint32(v) == Infinite {
		return Infinite
	}
	return uint32(v)
}

func (k *linuxKernel) Routes() ([]Route, error) {
	var out []Route
	for _, t := range []struct {
		table int
		kinds map[int]RouteKind
	}{
		{unix.RT_TABLE_MAIN, map[int]RouteKind{unix.RTN_UNICAST: Unicast}},
		{unix.RT_TABLE_LOCAL, map[int]RouteKind{unix.RTN_LOCAL: Local, unix.RTN_BROADCAST: Broadcast, unix.RTN_MULTICAST: Multicast}},
	} {
		rs, err := k.h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: t.table}, netlink.RT_FILTER_TABLE)
		if err != nil {
			return nil, fmt.Errorf("listing routes of table %d (RTM_GETROUTE): %w", t.table, err)
		}
		for _, r := range rs {
			kind, ok := t.kinds[r.Type]
			if !ok || r.LinkIndex == 0 {
				continue // unreachable, prohibit, multipath: not Windows routes
			}
			dst, ok := routeDst(r)
			if !ok {
				continue
			}
			rt := Route{Dst: dst, Index: r.LinkIndex, Metric: r.Priority, Proto: int(r.Protocol), Kind: kind}
			if gw, ok := netip.AddrFromSlice(r.Gw); ok && !gw.Unmap().IsUnspecified() {
				rt.Gateway = gw.Unmap()
			}
			if src, ok := netip.AddrFromSlice(r.Src); ok {
				rt.Src = src.Unmap()
			}
			out = append(out, rt)
		}
	}
	return out, nil
}

// routeDst is the route's destination; netlink leaves Dst nil for a
// default route.
func routeDst(r netlink.Route) (netip.Prefix, bool) {
	if r.Dst == nil {
		if r.Family == netlink.FAMILY_V6 {
			return netip.PrefixFrom(netip.IPv6Unspecified(), 0), true
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	}
	p, ok := prefixOf(r.Dst)
	return p.Masked(), ok
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a, bits), true
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func (k *linuxKernel) link(idx int) (netlink.Link, error) {
	l, err := k.h.LinkByIndex(idx)
	if err != nil {
		return nil, fmt.Errorf("interface %d: %w", idx, ErrNotFound)
	}
	return l, nil
}

func (k *linuxKernel) AddAddr(a Addr) error {
	l, err := k.link(a.Index)
	if err != nil {
		return err
	}
	if err := k.h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(a.Prefix)}); err != nil {
		return fmt.Errorf("adding address %s on %s (RTM_NEWADDR): %w", a.Prefix, l.Attrs().Name, sentinel(err))
	}
	return nil
}

func (k *linuxKernel) DelAddr(a Addr) error {
	l, err := k.link(a.Index)
	if err != nil {
		return err
	}
	if err := k.h.AddrDel(l, &netlink.Addr{IPNet: ipNet(a.Prefix)}); err != nil {
		return fmt.Errorf("deleting address %s on %s (RTM_DELADDR): %w", a.Prefix, l.Attrs().Name, sentinel(err))
	}
	return nil
}

func (k *linuxKernel) nlRoute(r Route) *netlink.Route {
	nr := &netlink.Route{
		LinkIndex: r.Index,
		Dst:       ipNet(r.Dst.Masked()),
		Priority:  r.Metric,
		Protocol:  netlink.RouteProtocol(ProtoStatic),
		Table:     unix.RT_TABLE_MAIN,
		Type:      unix.RTN_UNICAST,
		Scope:     netlink.SCOPE_UNIVERSE,
	}
	if r.Gateway.IsValid() {
		nr.Gw = r.Gateway.AsSlice()
	} else {
		nr.Scope = netlink.SCOPE_LINK
	}
	return nr
}

func (k *linuxKernel) AddRoute(r Route) error {
	if err := k.h.RouteAdd(k.nlRoute(r)); err != nil {
		return fmt.Errorf("adding route %s (RTM_NEWROUTE): %w", r.Dst, sentinel(err))
	}
	return nil
}

func (k *linuxKernel) DelRoute(r Route) error {
	nr := k.nlRoute(r)
	nr.Protocol = 0                  // match whoever made it
	nr.Scope = netlink.SCOPE_NOWHERE // match any scope: 0 would miss on-link (scope link) routes
	if err := k.h.RouteDel(nr); err != nil {
		return fmt.Errorf("deleting route %s (RTM_DELROUTE): %w", r.Dst, sentinel(err))
	}
	return nil
}

// sentinel wraps the errnos that mean "exists" and "not found" with the
// package's sentinels.
func sentinel(err error) error {
	switch {
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("%w: %w", ErrExists, err)
	case errors.Is(err, unix.ESRCH), errors.Is(err, unix.EADDRNOTAVAIL), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func (k *linuxKernel) Sysctl(path string) (string, error) {
	var v string
	err := k.inNS(func() error {
		b, err := os.ReadFile(sysctlFile(path))
		v = strings.TrimSpace(string(b))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("reading sysctl net.%s: %w", strings.ReplaceAll(path, "/", "."), err)
	}
	return v, nil
}

func (k *linuxKernel) SetSysctl(path, value string) error {
	err := k.inNS(func() error { return os.WriteFile(sysctlFile(path), []byte(value), 0o644) })
	if err != nil {
		return fmt.Errorf("writing sysctl net.%s=%s: %w", strings.ReplaceAll(path, "/", "."), value, err)
	}
	return nil
}

func sysctlFile(path string) string {
	return filepath.Join("/proc/sys/net", filepath.Clean("/"+path))
}

// inNS runs fn on a locked OS thread inside the kernel's namespace:
// /proc/sys/net shows the namespace of the thread that opens the file.
func (k *linuxKernel) inNS(fn func() error) error {
	runtime.LockOSThread()
	cur, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer cur.Close()
	if cur.Equal(k.ns) {
		runtime.UnlockOSThread()
		return fn()
	}
	if err := netns.Set(k.ns); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %s: %w", k.ns, err)
	}
	ferr := fn()
	if err := netns.Set(cur); err != nil {
		// The thread stays locked and dies with its goroutine: it must
		// not run other goroutines inside the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("leaving namespace %s: %w", k.ns, err))
	}
	runtime.UnlockOSThread()
	return ferr
}
