package explore

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
	"github.com/kbharness/kbharness/netcfg/routeexe"
)

// Repro is what a failing sequence is rendered from.
type Repro struct {
	Lab     string   // lab fixture name
	Seed    uint64   // explorer seed
	Ops     []Op     // the (shrunk) sequence
	Failure *Failure // what the explorer saw; nil for a plain script
}

// IPScript renders the sequence as a POSIX sh script of `ip` commands, to run
// inside the host namespace of a fresh lab (`ip netns exec NS sh FILE`).
// Every step is the `ip` equivalent of its mechanism (iproute2's own argv
// builders, without -n). When the failure is known, the script ends by
// checking the lines the failure is about with `ip route show ... exact` and
// `ip addr show ... to`, prints FAIL lines, and exits 1 if it reproduced.
func IPScript(r Repro) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&b, "# kbharness explorer repro: lab %s, seed %d, %d steps.\n", r.Lab, r.Seed, len(r.Ops))
	b.WriteString("# Run it in the host namespace of a fresh lab:\n")
	fmt.Fprintf(&b, "#   kbharness lab up --fixture %s    (prints the namespaces)\n", r.Lab)
	b.WriteString("#   ip netns exec <host namespace> sh THIS_FILE\n")
	b.WriteString("set -u\n")
	for i, o := range r.Ops {
		fmt.Fprintf(&b, "# step %d: %s\n", i+1, o)
		fmt.Fprintf(&b, "%s || exit 2\n", shellJoin(ipArgv(o)))
	}
	if r.Failure == nil {
		return b.String()
	}
	b.WriteString("# The checks: what differs from a fresh lab given the final configuration.\n")
	b.WriteString("fail=0\n")
	writeChecks(&b, r.Failure.Diff.Removed, r.Failure.Want, false)
	writeChecks(&b, r.Failure.Diff.Added, r.Failure.Have, true)
	b.WriteString("if [ $fail = 0 ]; then echo \"OK: not reproduced\"; fi\n")
	b.WriteString("exit $fail\n")
	return b.String()
}

// ipArgv is the `ip` argv of one step.
func ipArgv(o Op) []string {
	switch o.Kind {
	case AddAddress:
		return iproute2.AddrAdd("", netcfg.AddressSpec{Prefix: o.Address, Interface: o.Interface})
	case DeleteAddress:
		return iproute2.AddrDel("", netcfg.AddressSpec{Prefix: o.Address, Interface: o.Interface})
	case AddRoute:
		return iproute2.RouteAdd("", netcfg.RouteSpec{Dst: o.Dst, Gateway: o.Gateway, Interface: o.Interface})
	}
	return iproute2.RouteDel("", netcfg.RouteSpec{Dst: o.Dst, Gateway: o.Gateway, Interface: o.Interface})
}

// writeChecks writes one test per line: present lines must show (extra
// ones are the failure when they do), missing ones must not.
func writeChecks(b *strings.Builder, lines []string, items netcfg.Lines, extra bool) {
	for _, l := range lines {
		q := showArgv(items[l])
		if q == nil {
			fmt.Fprintf(b, "# (no ip query for %q)\n", l)
			continue
		}
		test, what := "-z", "missing"
		if extra {
			test, what = "-n", "unexpected"
		}
		fmt.Fprintf(b, "if [ %s \"$(%s)\" ]; then echo %s; fail=1; fi\n", test, shellJoin(q), shellQuote("FAIL: "+what+": "+l))
	}
}

// showArgv is the `ip` query that prints the item if present.
func showArgv(it netcfg.Item) []string {
	switch {
	case it.Address != nil:
		a := it.Address
		return []string{"ip", "-o", "addr", "show", "dev", a.Interface, "to", netip.PrefixFrom(a.Prefix.Addr(), a.Prefix.Addr().BitLen()).String()}
	case it.Route != nil && it.Route.Store != netcfg.StorePersistent:
		r := it.Route
		fam := "-4"
		if r.Dst.Addr().Is6() {
			fam = "-6"
		}
		table := r.Table
		if table == "" {
			table = "main"
		}
		argv := []string{"ip", fam, "route", "show", "table", table, "exact", r.Dst.String()}
		if r.Gateway.IsValid() {
			argv = append(argv, "via", r.Gateway.String())
		}
		if r.Interface != "" {
			argv = append(argv, "dev", r.Interface)
		}
		if r.Protocol != "" {
			argv = append(argv, "proto", r.Protocol)
		}
		typ := r.Type
		if typ == "" {
			typ = "unicast"
		}
		return append(argv, "type", typ)
	}
	return nil
}

// WindowsScript renders the sequence as a cmd script for the Windows host
// under test: addresses with `netsh interface ipv4|ipv6 add|delete address`
// (also for iphlpapi-legacy AddIPAddress/DeleteIPAddress and winipcfg, which
// have no command of their own), routes with route.exe when the step used
// route.exe and `netsh interface ipv4|ipv6 add|delete route` otherwise,
// PowerShell steps with their cmdlets. It ends with `route print`.
func WindowsScript(r Repro) string {
	var b strings.Builder
	b.WriteString("@echo off\r\n")
	fmt.Fprintf(&b, "rem kbharness explorer repro (Windows dialect): lab %s, seed %d, %d steps.\r\n", r.Lab, r.Seed, len(r.Ops))
	b.WriteString("rem Run elevated on the host under test; adapters are named as in the lab fixture.\r\n")
	ifs := map[string]bool{}
	for _, o := range r.Ops {
		if o.Kind == AddRoute || o.Kind == DeleteRoute {
			if o.Mechanism == netcfg.RouteExe && !ifs[o.Interface] {
				ifs[o.Interface] = true
				fmt.Fprintf(&b, "for /f %%%%i in ('powershell -NoProfile -Command \"(Get-NetAdapter -Name '%s').ifIndex\"') do set %s=%%%%i\r\n", o.Interface, ifVar(o.Interface))
			}
		}
	}
	for i, o := range r.Ops {
		fmt.Fprintf(&b, "rem step %d: %s\r\n", i+1, o)
		b.WriteString(windowsCommand(o) + "\r\n")
	}
	b.WriteString("route print\r\n")
	if r.Failure != nil {
		b.WriteString("rem Expected difference from a fresh host given the final configuration (Linux lines):\r\n")
		for _, l := range r.Failure.Diff.Removed {
			b.WriteString("rem   missing: " + l + "\r\n")
		}
		for _, l := range r.Failure.Diff.Added {
			b.WriteString("rem   unexpected: " + l + "\r\n")
		}
	}
	return b.String()
}

func ifVar(name string) string {
	return "IF_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// windowsCommand is one step in the Windows dialect.
func windowsCommand(o Op) string {
	v := "ipv4"
	if (o.IsAddress() && o.Address.Addr().Is6()) || (!o.IsAddress() && o.Dst.Addr().Is6()) {
		v = "ipv6"
	}
	q := winQuote(o.Interface)
	switch o.Kind {
	case AddAddress:
		if o.Mechanism == netcfg.PowerShell {
			return fmt.Sprintf("powershell -NoProfile -Command \"New-NetIPAddress -InterfaceAlias '%s' -IPAddress %s -PrefixLength %d\"", o.Interface, o.Address.Addr(), o.Address.Bits())
		}
		if v == "ipv4" {
			return fmt.Sprintf("netsh interface ipv4 add address %s %s %s", q, o.Address.Addr(), mask(o.Address))
		}
		return fmt.Sprintf("netsh interface ipv6 add address %s %s", q, o.Address)
	case DeleteAddress:
		if o.Mechanism == netcfg.PowerShell {
			return fmt.Sprintf("powershell -NoProfile -Command \"Remove-NetIPAddress -InterfaceAlias '%s' -IPAddress %s -Confirm:$false\"", o.Interface, o.Address.Addr())
		}
		return fmt.Sprintf("netsh interface %s delete address %s %s", v, q, o.Address.Addr())
	}
	spec := netcfg.RouteSpec{Dst: o.Dst, Gateway: o.Gateway}
	switch o.Mechanism {
	case netcfg.RouteExe:
		build := routeexe.AddArgv
		if o.Kind == DeleteRoute {
			build = routeexe.DeleteArgv
		}
		argv, err := build(spec, 0)
		if err != nil {
			// Replay steps are validated; a step route.exe cannot take
			// stays visible in the script instead of vanishing.
			return "REM route.exe cannot take this step: " + err.Error()
		}
		return strings.Join(argv, " ") + " if %" + ifVar(o.Interface) + "%"
	case netcfg.PowerShell:
		if o.Kind == AddRoute {
			return fmt.Sprintf("powershell -NoProfile -Command \"New-NetRoute -InterfaceAlias '%s' -DestinationPrefix %s -NextHop %s -PolicyStore ActiveStore\"", o.Interface, o.Dst, o.Gateway)
		}
		return fmt.Sprintf("powershell -NoProfile -Command \"Remove-NetRoute -InterfaceAlias '%s' -DestinationPrefix %s -NextHop %s -Confirm:$false\"", o.Interface, o.Dst, o.Gateway)
	}
	verb := "add"
	if o.Kind == DeleteRoute {
		verb = "delete"
	}
	s := fmt.Sprintf("netsh interface %s %s route %s %s", v, verb, o.Dst, q)
	if o.Gateway.IsValid() {
		s += " " + o.Gateway.String()
	}
	if o.Kind == AddRoute {
		s += " store=active"
	}
	return s
}

func mask(p netip.Prefix) string {
	return net.IP(net.CIDRMask(p.Bits(), 32)).String()
}

func winQuote(s string) string { return "\"" + s + "\"" }

func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// shellQuote quotes a word for sh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
