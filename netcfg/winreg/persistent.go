// Package winreg parses the registry views that Windows keeps of its TCP/IP
// configuration. It is pure: the registry is read by netcfg's Windows host,
// and the parsing is tested on every OS. It does not import netcfg, which
// imports it; netcfg converts Route to netcfg.Route (Store persistent).
//
// IPv4 persistent routes (`route -p add`, `netsh interface ipv4 add route
// store=persistent`, `New-NetRoute -PolicyStore PersistentStore`) appear as
// value names under PersistentRoutesKey, kept by the TCP/IP Registry
// Compatibility service (Tcpipreg) for legacy readers. IPv6 persistent routes
// have no such documented registry view: Windows keeps them in the
// undocumented binary NSI store (HKLM\SYSTEM\CurrentControlSet\Control\Nsi\
// {eb004a01-9b1a-11d4-9123-0050047759bc}\..., REG_BINARY values named by
// NET_LUID and address); read them with `Get-NetRoute -PolicyStore
// PersistentStore` or `netsh interface ipv6 show route store=persistent`.
package winreg

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// PersistentRoutesKey is the key, under HKEY_LOCAL_MACHINE, whose value names
// are the IPv4 persistent routes, one "dest,mask,gateway,metric" each (REG_SZ,
// empty data).
const PersistentRoutesKey = `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\PersistentRoutes`

// Route is one persistent IPv4 route as the registry records it.
type Route struct {
	Dst     netip.Prefix
	Gateway netip.Addr // invalid (zero) for on-link: the value name says 0.0.0.0
	Metric  int        // DefaultMetric when route -p add was given none
}

// DefaultMetric is the metric of a persistent route added without one
// (`route -p add` without METRIC): the value name carries -1 and `route
// print` shows "Default".
const DefaultMetric = -1

// ParsePersistentRoute parses one PersistentRoutes value name,
// "dest,mask,gateway,metric" (e.g. "0.0.0.0,0.0.0.0,192.0.2.1,1"), into a
// Route. A gateway of 0.0.0.0 is on-link. The registry does not record the
// interface.
func ParsePersistentRoute(name string) (Route, error) {
	fields := strings.Split(name, ",")
	if len(fields) != 4 {
		return Route{}, fmt.Errorf("parsing persistent route %q: want 4 comma-separated fields dest,mask,gateway,metric, have %d", name, len(fields))
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	dst, err := parseIPv4(fields[0], "destination")
	if err != nil {
		return Route{}, fmt.Errorf("parsing persistent route %q: %w", name, err)
	}
	mask, err := parseIPv4(fields[1], "mask")
	if err != nil {
		return Route{}, fmt.Errorf("parsing persistent route %q: %w", name, err)
	}
	bits, err := maskBits(mask)
	if err != nil {
		return Route{}, fmt.Errorf("parsing persistent route %q: %w", name, err)
	}
	prefix := netip.PrefixFrom(dst, bits)
	if prefix.Masked() != prefix {
		return Route{}, fmt.Errorf("parsing persistent route %q: destination %s has bits outside mask %s", name, dst, mask)
	}
	gw, err := parseIPv4(fields[2], "gateway")
	if err != nil {
		return Route{}, fmt.Errorf("parsing persistent route %q: %w", name, err)
	}
	if gw.IsUnspecified() {
		gw = netip.Addr{}
	}
	metric, err := parseMetric(fields[3])
	if err != nil {
		return Route{}, fmt.Errorf("parsing persistent route %q: %w", name, err)
	}
	return Route{Dst: prefix, Gateway: gw, Metric: metric}, nil
}

// ParsePersistentRoutes parses every value name of PersistentRoutesKey. An
// invalid name is an error that quotes it; the routes parsed before it are
// not returned.
func ParsePersistentRoutes(names []string) ([]Route, error) {
	routes := make([]Route, 0, len(names))
	for _, n := range names {
		r, err := ParsePersistentRoute(n)
		if err != nil {
			return nil, err
		}
		routes = append(routes, r)
	}
	return routes, nil
}

// PersistentRouteName is the inverse of ParsePersistentRoute: the value name
// under which Windows records r.
func PersistentRouteName(r Route) (string, error) {
	if !r.Dst.Addr().Is4() {
		return "", fmt.Errorf("naming persistent route %s: the PersistentRoutes key holds IPv4 routes only", r.Dst)
	}
	gw := netip.IPv4Unspecified()
	if r.Gateway.IsValid() {
		gw = r.Gateway
	}
	return fmt.Sprintf("%s,%s,%s,%d", r.Dst.Addr(), maskOf(r.Dst.Bits()), gw, r.Metric), nil
}

// parseMetric reads the metric field: -1 (DefaultMetric) or a ULONG. Route
// keeps it in an int (netcfg.Route.Metric is one); where int is 32 bits a
// metric above 2147483647 is an error naming it, not a wrapped number.
func parseMetric(s string) (int, error) {
	if s == "-1" {
		return DefaultMetric, nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("metric %q is neither %d nor an integer in 0..4294967295", s, DefaultMetric)
	}
	return wintext.Int("metric", uint32(v))
}

func parseIPv4(s, field string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%s %q is not a dotted IPv4 address", field, s)
	}
	return a, nil
}

// maskBits returns the prefix length of a contiguous netmask.
func maskBits(mask netip.Addr) (int, error) {
	b := mask.As4()
	ones, bits := net.IPMask(b[:]).Size()
	if bits == 0 {
		return 0, fmt.Errorf("mask %s is not contiguous", mask)
	}
	return ones, nil
}

func maskOf(bits int) netip.Addr {
	return netip.AddrFrom4([4]byte(net.CIDRMask(bits, 32)))
}
