// Package iproute2 is the pure side of netcfg's iproute2 mechanism: argv
// builders for the `ip` commands the Linux host runs, and parsers of `ip -j`
// JSON into netcfg types. Nothing here executes anything; it builds and is
// tested on every OS.
package iproute2

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
)

// RouteAdd is the argv of
//
//	ip [-n NS] route add DST [via GW] [dev DEV] [metric N] [proto static]
//
// proto static when r.Persistent (netcfg's persistent view on Linux), else
// ip's default, proto boot. Metric 0 and an empty interface are left out.
func RouteAdd(ns string, r netcfg.RouteSpec) []string {
	args := routeArgs("add", r)
	if r.Persistent {
		args = append(args, "proto", "static")
	}
	return ipCmd(ns, args...)
}

// RouteDel is the argv of
//
//	ip [-n NS] route del DST [via GW] [dev DEV] [metric N]
//
// It names no protocol, so it deletes a matching route of any protocol.
func RouteDel(ns string, r netcfg.RouteSpec) []string {
	return ipCmd(ns, routeArgs("del", r)...)
}

func routeArgs(verb string, r netcfg.RouteSpec) []string {
	args := []string{"route", verb, r.Dst.String()}
	if r.Gateway.IsValid() {
		args = append(args, "via", r.Gateway.String())
	}
	if r.Interface != "" {
		args = append(args, "dev", r.Interface)
	}
	if r.Metric != 0 {
		args = append(args, "metric", strconv.Itoa(r.Metric))
	}
	return args
}

// AddrAdd is the argv of `ip [-n NS] addr add PREFIX dev DEV`, with `nodad`
// appended for IPv6 so the address is never tentative.
func AddrAdd(ns string, a netcfg.AddressSpec) []string {
	argv := ipCmd(ns, "addr", "add", a.Prefix.String(), "dev", a.Interface)
	if a.Prefix.Addr().Is6() {
		argv = append(argv, "nodad")
	}
	return argv
}

// AddrDel is the argv of `ip [-n NS] addr del PREFIX dev DEV`.
func AddrDel(ns string, a netcfg.AddressSpec) []string {
	return ipCmd(ns, "addr", "del", a.Prefix.String(), "dev", a.Interface)
}

// ShowRoutes is the argv of `ip [-n NS] -j route show table all`, the input
// of ParseRoutes.
func ShowRoutes(ns string) []string { return show(ns, "route", "show", "table", "all") }

// ShowAddrs is the argv of `ip [-n NS] -j -d addr show`, the input of
// ParseAddrs (and of ParseLinks).
func ShowAddrs(ns string) []string { return show(ns, "-d", "addr", "show") }

// ShowLinks is the argv of `ip [-n NS] -j link show`, the input of ParseLinks.
func ShowLinks(ns string) []string { return show(ns, "link", "show") }

func show(ns string, args ...string) []string {
	return ipCmd(ns, append([]string{"-j"}, args...)...)
}

func ipCmd(ns string, args ...string) []string {
	argv := []string{"ip"}
	if ns != "" {
		argv = append(argv, "-n", ns)
	}
	return append(argv, args...)
}

// Sentinel adds to a failed ip command's error the netcfg sentinel its
// output implies (ErrExists, ErrNotFound), if any: ip prints strerror
// ("RTNETLINK answers: File exists") or, when the kernel sends an extended
// ack, its message ("Error: ipv4: Address already assigned.").
func Sentinel(out netcfg.Output, err error) error {
	if err == nil {
		return nil
	}
	for _, s := range outputSentinels {
		if strings.Contains(string(out.Combined()), s.text) {
			return fmt.Errorf("%w: %w", s.err, err)
		}
	}
	return err
}

var outputSentinels = []struct {
	text string
	err  error
}{
	{"File exists", netcfg.ErrExists},
	{"Address already assigned", netcfg.ErrExists},
	{"already exists", netcfg.ErrExists},
	{"No such process", netcfg.ErrNotFound},
	{"Cannot assign requested address", netcfg.ErrNotFound},
	{"No such file or directory", netcfg.ErrNotFound},
	{"address not found", netcfg.ErrNotFound},
	{"Cannot find device", netcfg.ErrNotFound},
}
