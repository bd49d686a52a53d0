// Package netsh builds argv for `netsh interface ipv4|ipv6 ...` (add/delete
// address, add/delete route, show route/addresses/interfaces, show/set
// dynamicport) and parses what the show commands print.
//
// It is pure: it runs nothing, so it builds and is tested on every OS.
// Interface names are single argv elements without quotes: the Windows exec
// layer (syscall.EscapeArg) quotes names with spaces, so netsh receives
// "Local Area Connection 1" as one token.
package netsh

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"

	"github.com/kbharness/kbharness/netcfg"
)

// AddAddress returns the argv that adds an address:
//
//	netsh interface ipv4 add address NAME 192.0.2.21 255.255.255.0
//	netsh interface ipv6 add address NAME 2001:db8::21/64
func AddAddress(a netcfg.AddressSpec) ([]string, error) {
	if err := checkAddress(a); err != nil {
		return nil, err
	}
	argv := []string{"netsh", "interface", family(a.Prefix), "add", "address", a.Interface}
	if a.Prefix.Addr().Is4() {
		return append(argv, a.Prefix.Addr().String(), mask(a.Prefix.Bits())), nil
	}
	return append(argv, a.Prefix.String()), nil
}

// DeleteAddress returns the argv that deletes an address (the step that
// triggers secondary-ip-route-loss):
//
//	netsh interface ipv4 delete address NAME 192.0.2.21
//	netsh interface ipv6 delete address NAME 2001:db8::21
func DeleteAddress(a netcfg.AddressSpec) ([]string, error) {
	if err := checkAddress(a); err != nil {
		return nil, err
	}
	return []string{"netsh", "interface", family(a.Prefix), "delete", "address", a.Interface, a.Prefix.Addr().String()}, nil
}

// AddRoute returns the argv that adds a route:
//
//	netsh interface ipv4 add route 198.51.100.0/24 NAME 192.0.2.1 store=persistent metric=5
//
// The store is always explicit (netsh's own default is persistent):
// store=persistent for r.Persistent, store=active otherwise. An on-link
// route (no gateway) leaves out the next hop; metric 0 leaves out metric=.
//
// netsh documents metric= only as an integer: its own usage text gives
// "[[metric=]<integer>]" and "metric - Route metric." (`netsh interface ipv6
// add route` without arguments), and Microsoft's "Install and configure IP
// version 6" (KB 325449) says "[[metric =] integer]: Specifies the route
// metric." No bound is documented. The value lands in
// MIB_IPFORWARD_ROW2.Metric, a ULONG, so 0..4294967295 is all it can hold;
// a negative metric or one above that is an error naming it.
func AddRoute(r netcfg.RouteSpec) ([]string, error) {
	argv, err := routeArgv("add", r)
	if err != nil {
		return nil, err
	}
	if r.Metric < 0 || int64(r.Metric) > MaxMetric {
		return nil, fmt.Errorf("netsh route %s: metric %d: must be within 0..%d (a ULONG; 0 leaves it to netsh)", r.Dst, r.Metric, int64(MaxMetric))
	}
	if r.Metric > 0 {
		argv = append(argv, "metric="+strconv.Itoa(r.Metric))
	}
	return argv, nil
}

// MaxMetric is the largest route metric netsh can be given: the ULONG
// maximum of MIB_IPFORWARD_ROW2.Metric (netsh documents no bound).
const MaxMetric = math.MaxUint32

// DeleteRoute returns the argv that deletes a route from the store r names:
//
//	netsh interface ipv4 delete route 198.51.100.0/24 NAME 192.0.2.1 store=active
func DeleteRoute(r netcfg.RouteSpec) ([]string, error) {
	return routeArgv("delete", r)
}

func routeArgv(verb string, r netcfg.RouteSpec) ([]string, error) {
	if !r.Dst.IsValid() {
		return nil, errors.New("netsh route: Dst: invalid prefix")
	}
	if r.Interface == "" {
		return nil, fmt.Errorf("netsh route %s: Interface: netsh needs an interface name", r.Dst)
	}
	if r.Gateway.IsValid() && r.Gateway.Is4() != r.Dst.Addr().Is4() {
		return nil, fmt.Errorf("netsh route %s: Gateway %s: family differs from Dst", r.Dst, r.Gateway)
	}
	argv := []string{"netsh", "interface", family(r.Dst), verb, "route", r.Dst.Masked().String(), r.Interface}
	if r.Gateway.IsValid() {
		argv = append(argv, r.Gateway.String())
	}
	store := "store=active"
	if r.Persistent {
		store = "store=persistent"
	}
	return append(argv, store), nil
}

// ShowRoute returns `netsh interface ipv4|ipv6 show route [store=active|persistent]`;
// an empty store leaves the argument out (netsh then shows the active store).
func ShowRoute(f netcfg.Family, s netcfg.Store) []string {
	argv := []string{"netsh", "interface", familyName(f), "show", "route"}
	if s != "" {
		argv = append(argv, "store="+string(s))
	}
	return argv
}

// ShowAddresses returns `netsh interface ipv4|ipv6 show addresses`.
func ShowAddresses(f netcfg.Family) []string {
	return []string{"netsh", "interface", familyName(f), "show", "addresses"}
}

// ShowInterfaces returns `netsh interface ipv4|ipv6 show interfaces`.
func ShowInterfaces(f netcfg.Family) []string {
	return []string{"netsh", "interface", familyName(f), "show", "interfaces"}
}

// ShowDynamicPort returns `netsh interface ipv4|ipv6 show dynamicport tcp`.
func ShowDynamicPort(f netcfg.Family) []string {
	return []string{"netsh", "interface", familyName(f), "show", "dynamicport", "tcp"}
}

// DynamicPortRange is the TCP dynamic (ephemeral) port range, as `netsh int
// ipv4 show dynamicport tcp` prints it and `set dynamicport` takes it.
type DynamicPortRange struct {
	Start int // first port
	Num   int // number of ports; netsh requires at least 255
}

// Validate checks the range netsh accepts: num >= 255 and the range inside
// 1..65535. Errors name the field.
func (r DynamicPortRange) Validate() error {
	switch {
	case r.Start < 1 || r.Start > 65535:
		return fmt.Errorf("dynamic port range: start %d: must be within 1..65535", r.Start)
	case r.Num < 255:
		return fmt.Errorf("dynamic port range: num %d: must be at least 255", r.Num)
	case r.Start+r.Num-1 > 65535:
		return fmt.Errorf("dynamic port range: num %d: start %d + num - 1 exceeds 65535", r.Num, r.Start)
	}
	return nil
}

// SetDynamicPort returns `netsh interface ipv4|ipv6 set dynamicport tcp
// start=N num=M` after validating the range.
func SetDynamicPort(f netcfg.Family, r DynamicPortRange) ([]string, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return []string{"netsh", "interface", familyName(f), "set", "dynamicport", "tcp",
		"start=" + strconv.Itoa(r.Start), "num=" + strconv.Itoa(r.Num)}, nil
}

func checkAddress(a netcfg.AddressSpec) error {
	if !a.Prefix.IsValid() {
		return errors.New("netsh address: Prefix: invalid prefix")
	}
	if a.Interface == "" {
		return fmt.Errorf("netsh address %s: Interface: netsh needs an interface name", a.Prefix)
	}
	return nil
}

func family(p netip.Prefix) string { return familyName(netcfg.FamilyOf(p)) }

func familyName(f netcfg.Family) string {
	if f == netcfg.IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

func mask(bits int) string {
	return netip.AddrFrom4([4]byte(net.CIDRMask(bits, 32))).String()
}
