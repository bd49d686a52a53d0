// Package routeexe builds argv for Windows route.exe (`route -p add`,
// `route delete`, `route print`) and parses what `route print` (and
// `netstat -r`, which prints the same tables) writes.
//
// It is pure: it runs nothing, so it builds and is tested on every OS. The
// Windows host runs the argv and feeds the output back here.
package routeexe

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/kbharness/kbharness/netcfg"
)

// Add returns the argv that adds r with route.exe:
//
//	route [-p] add DEST mask MASK GATEWAY [metric N] [if IDX]     (IPv4)
//	route [-p] add PREFIX/LEN GATEWAY [metric N] [if IDX]         (IPv6)
//
// -p (r.Persistent) writes the persistent store as well as the active
// table. ifIndex 0 leaves out `if`, so Windows picks the interface from the
// gateway: the variant the secondary-ip-route-loss article is about. An
// on-link route (no r.Gateway) is written with gateway 0.0.0.0 (IPv4) or
// :: (IPv6); route.exe then needs an ifIndex to place it. Metric 0 leaves
// out `metric`, which lets route.exe choose.
func Add(r netcfg.RouteSpec, ifIndex int) []string {
	argv := []string{"route"}
	if r.Persistent {
		argv = append(argv, "-p")
	}
	argv = append(argv, "add")
	argv = append(argv, destination(r.Dst)...)
	argv = append(argv, gateway(r).String())
	if r.Metric > 0 {
		argv = append(argv, "metric", strconv.Itoa(r.Metric))
	}
	return appendIf(argv, ifIndex)
}

// Delete returns the argv that deletes r with route.exe:
//
//	route delete DEST mask MASK [GATEWAY] [if IDX]     (IPv4)
//	route delete PREFIX/LEN [GATEWAY] [if IDX]         (IPv6)
//
// route delete removes the route from the persistent store too; -p is
// meaningless for it and never written. The gateway narrows the match and is
// left out for an on-link spec; ifIndex 0 leaves out `if`.
func Delete(r netcfg.RouteSpec, ifIndex int) []string {
	argv := append([]string{"route", "delete"}, destination(r.Dst)...)
	if r.Gateway.IsValid() {
		argv = append(argv, r.Gateway.String())
	}
	return appendIf(argv, ifIndex)
}

// Print returns the argv of `route print -4` or `route print -6`; any other
// family gives plain `route print` (both tables).
func Print(f netcfg.Family) []string {
	switch f {
	case netcfg.IPv4:
		return []string{"route", "print", "-4"}
	case netcfg.IPv6:
		return []string{"route", "print", "-6"}
	}
	return []string{"route", "print"}
}

// destination renders DEST mask MASK for IPv4 and PREFIX/LEN for IPv6. An
// invalid prefix renders as "invalid Prefix", which route.exe rejects.
func destination(p netip.Prefix) []string {
	if p.IsValid() && p.Addr().Is4() {
		return []string{p.Addr().String(), "mask", maskString(p.Bits())}
	}
	return []string{p.String()}
}

func gateway(r netcfg.RouteSpec) netip.Addr {
	if r.Gateway.IsValid() {
		return r.Gateway
	}
	if r.Dst.Addr().Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

func appendIf(argv []string, ifIndex int) []string {
	if ifIndex > 0 {
		argv = append(argv, "if", strconv.Itoa(ifIndex))
	}
	return argv
}

// maskString renders an IPv4 prefix length as a dotted netmask.
func maskString(bits int) string {
	m := net.CIDRMask(bits, 32)
	return netip.AddrFrom4([4]byte(m)).String()
}
