// Package routeexe builds argv for Windows route.exe (`route -p add`,
// `route delete`, `route print`) and parses what `route print` (and
// `netstat -r`, which prints the same tables) writes.
//
// It is pure: it runs nothing, so it builds and is tested on every OS. The
// Windows host runs the argv and feeds the output back here.
package routeexe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/kbharness/kbharness/netcfg"
)

// AddArgv returns the argv that adds r with route.exe:
//
//	route [-p] add DEST mask MASK GATEWAY [metric N] [if IDX]     (IPv4)
//	route [-p] add PREFIX/LEN GATEWAY [metric N] [if IDX]         (IPv6)
//
// -p (r.Persistent) writes the persistent store as well as the active
// table. ifIndex 0 leaves out `if`, so Windows picks the interface from the
// gateway: the variant the secondary-ip-route-loss article is about. An
// on-link route (no r.Gateway) is written with gateway 0.0.0.0 (IPv4) or
// :: (IPv6); route.exe then needs an ifIndex to place it.
//
// DEST is r.Dst masked (netcfg.RouteSpec.Dst is a prefix; the netsh and
// PowerShell builders mask it too): route.exe refuses a destination with
// host bits under the mask ("The route addition failed: The specified mask
// parameter is invalid. (Destination & Mask) != Destination.").
//
// Metric 0 leaves out `metric` (route.exe chooses); otherwise it must be
// within 1..9999, the range the route command documents ("metric <Metric>
// Specifies an integer cost metric (ranging from 1 to 9999) for the route",
// learn.microsoft.com/windows-server/administration/windows-commands/route_ws2008).
// A metric outside it, an invalid Dst or a gateway of the other family is
// an error naming the value.
func AddArgv(r netcfg.RouteSpec, ifIndex int) ([]string, error) {
	if err := check(r, ifIndex); err != nil {
		return nil, fmt.Errorf("route add: %w", err)
	}
	if r.Metric < 0 || r.Metric > MaxMetric {
		return nil, fmt.Errorf("route add %s: metric %d: route.exe takes 1..%d (0 leaves it to route.exe)", r.Dst, r.Metric, MaxMetric)
	}
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
	return appendIf(argv, ifIndex), nil
}

// DeleteArgv returns the argv that deletes r with route.exe:
//
//	route delete DEST mask MASK [GATEWAY] [if IDX]     (IPv4)
//	route delete PREFIX/LEN [GATEWAY] [if IDX]         (IPv6)
//
// route delete removes the route from the persistent store too; -p is
// meaningless for it and never written, nor is the metric (route delete
// matches on destination, gateway and interface). DEST is r.Dst masked. The
// gateway narrows the match and is left out for an on-link spec; ifIndex 0
// leaves out `if`.
func DeleteArgv(r netcfg.RouteSpec, ifIndex int) ([]string, error) {
	if err := check(r, ifIndex); err != nil {
		return nil, fmt.Errorf("route delete: %w", err)
	}
	argv := append([]string{"route", "delete"}, destination(r.Dst)...)
	if r.Gateway.IsValid() {
		argv = append(argv, r.Gateway.String())
	}
	return appendIf(argv, ifIndex), nil
}

// MaxMetric is the largest METRIC route.exe takes.
const MaxMetric = 9999

func check(r netcfg.RouteSpec, ifIndex int) error {
	switch {
	case !r.Dst.IsValid():
		return errors.New("Dst: invalid prefix")
	case r.Gateway.IsValid() && r.Gateway.Is4() != r.Dst.Addr().Is4():
		return fmt.Errorf("%s: Gateway %s: family differs from Dst", r.Dst, r.Gateway)
	case ifIndex < 0:
		return fmt.Errorf("%s: interface index %d is negative", r.Dst, ifIndex)
	}
	return nil
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

// destination renders the masked network as DEST mask MASK for IPv4 and
// PREFIX/LEN for IPv6. An invalid prefix renders as "invalid Prefix", which
// route.exe rejects.
func destination(p netip.Prefix) []string {
	p = p.Masked()
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
