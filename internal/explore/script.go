package explore

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/routeexe"
	"github.com/kbharness/kbharness/netcfg/target"
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
		fmt.Fprintf(&b, "%s || exit 2\n", target.ShellCommandLine(ipArgv(o)))
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
		fmt.Fprintf(b, "if [ %s \"$(%s)\" ]; then echo %s; fail=1; fi\n", test, target.ShellCommandLine(q), target.ShellCommandLine([]string{"FAIL: " + what + ": " + l}))
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

// WindowsVersion is the Windows Server release a per-release repro.cmd
// (WindowsScriptFor) is written for.
type WindowsVersion string

const (
	Server2008   WindowsVersion = "2008"
	Server2008R2 WindowsVersion = "2008r2"
	Server2012   WindowsVersion = "2012"
	Server2012R2 WindowsVersion = "2012r2"
	Server2016   WindowsVersion = "2016"
	Server2019   WindowsVersion = "2019"
	Server2022   WindowsVersion = "2022"
	Server2025   WindowsVersion = "2025"
)

// WindowsVersions lists the releases WindowsScriptFor knows, oldest first.
var WindowsVersions = []WindowsVersion{Server2008, Server2008R2, Server2012, Server2012R2, Server2016, Server2019, Server2022, Server2025}

// ParseWindowsVersion reads a release as the --os flag gives it ("2008r2",
// also "2008R2" and "2008-r2").
func ParseWindowsVersion(s string) (WindowsVersion, error) {
	v := WindowsVersion(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", ""))
	for _, k := range WindowsVersions {
		if v == k {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown Windows Server release %q (want one of %s)", s, WindowsVersionList())
}

// NetTCPIP reports whether the release has the NetTCPIP PowerShell module
// (New-NetRoute, New-NetIPAddress, ...): Server 2012 and later.
func (v WindowsVersion) NetTCPIP() bool { return v != Server2008 && v != Server2008R2 }

// WinStep is one step of a per-release Windows script: an operation with
// what a KB scenario's route steps carry beside it (the explorer's own
// routes are never persistent and keep the default metric).
type WinStep struct {
	Op         Op
	Metric     int  // route metric; 0 leaves it to the command
	Persistent bool // route -p, store=persistent, both policy stores
}

// WinCheck is a route the script checks at its end: it must be in the
// active table (and, Persistent, in the persistent store).
type WinCheck struct {
	Route      netcfg.RouteSpec
	Persistent bool
}

// WinScript is what WindowsScriptFor renders.
type WinScript struct {
	Title  string    // first comment line
	Steps  []WinStep // in order
	Checks []WinCheck
	Notes  []string // comment lines at the end (the expected difference)
}

// WinStepsOf turns explorer operations into per-release steps.
func WinStepsOf(ops []Op) []WinStep {
	out := make([]WinStep, len(ops))
	for i, o := range ops {
		out[i] = WinStep{Op: o}
	}
	return out
}

// ReproWinScript is the explorer repro as a per-release script: its steps,
// and its expected difference as notes (Linux lines; the explorer's checks
// have no Windows query).
func ReproWinScript(r Repro) WinScript {
	s := WinScript{Title: fmt.Sprintf("kbharness explorer repro: lab %s, seed %d, %d steps", r.Lab, r.Seed, len(r.Ops)), Steps: WinStepsOf(r.Ops)}
	if r.Failure != nil {
		s.Notes = append(s.Notes, "Expected difference from a fresh host given the final configuration (Linux lines):")
		for _, l := range r.Failure.Diff.Removed {
			s.Notes = append(s.Notes, "  missing: "+l)
		}
		for _, l := range r.Failure.Diff.Added {
			s.Notes = append(s.Notes, "  unexpected: "+l)
		}
	}
	return s
}

// WindowsScriptFor renders s as a cmd script in release v's own commands,
// whatever mechanism a step used on the lab:
//
//   - Server 2008 and 2008 R2 (no NetTCPIP module): addresses with `netsh
//     interface ipv4|ipv6 add|delete address`, routes with route.exe
//     (`route [-p] add ... if IDX`, the KB articles' tool) with the
//     interface index looked up in `netsh interface ipv4 show interfaces`,
//     checks with `netsh interface ipv4|ipv6 show route store=...`;
//   - Server 2012 and later: the NetTCPIP cmdlets (New-NetIPAddress,
//     Remove-NetIPAddress, New-NetRoute, Remove-NetRoute, Get-NetRoute) from
//     package pwsh, run by powershell.exe.
//
// Each step stops the script on failure (exit /b 2); each check prints a
// FAIL line; the script ends with `route print` and exits 1 when a check
// failed (the defect reproduced), 0 otherwise.
func WindowsScriptFor(v WindowsVersion, s WinScript) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	line("@echo off")
	line("rem %s", s.Title)
	line("rem For Windows Server %s: %s. Run elevated on the host under test;", v, map[bool]string{true: "PowerShell NetTCPIP cmdlets", false: "netsh and route.exe"}[v.NetTCPIP()])
	line("rem adapters are named as in the lab fixture (rename them, or edit the names here).")
	line("setlocal")
	if !v.NetTCPIP() {
		seen := map[string]bool{}
		for _, st := range s.Steps {
			if !st.Op.IsAddress() && !seen[st.Op.Interface] {
				seen[st.Op.Interface] = true
				line(`for /f "tokens=1,4*" %%%%a in ('netsh interface ipv4 show interfaces') do if /i "%%%%c"=="%s" set %s=%%%%a`, st.Op.Interface, ifVar(st.Op.Interface))
			}
		}
	}
	for i, st := range s.Steps {
		line("rem step %d: %s", i+1, st.Op)
		cmd, err := winCommandFor(v, st)
		if err != nil {
			line("rem this step has no %s command: %v", v, err)
			continue
		}
		line("%s || exit /b 2", cmd)
	}
	if len(s.Checks) > 0 {
		line("rem The checks: every route below must still be there.")
		line("set fail=0")
		for _, c := range s.Checks {
			for _, persistent := range []bool{false, true} {
				if persistent && !c.Persistent {
					continue
				}
				what := routeLine(c.Route)
				store := "active"
				if persistent {
					store = "persistent"
				}
				line("%s || (echo FAIL: missing from the %s store: %s& set fail=1)", winCheckFor(v, c.Route, persistent), store, what)
			}
		}
	}
	line("route print")
	for _, n := range s.Notes {
		line("rem %s", n)
	}
	if len(s.Checks) > 0 {
		line(`if "%%fail%%"=="0" echo OK: not reproduced`)
		line("exit /b %%fail%%")
	}
	return b.String()
}

func routeLine(r netcfg.RouteSpec) string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	return s + " on " + r.Interface
}

// winCommandFor is one step in release v's commands.
func winCommandFor(v WindowsVersion, st WinStep) (string, error) {
	o := st.Op
	a := netcfg.AddressSpec{Prefix: o.Address, Interface: o.Interface}
	r := netcfg.RouteSpec{Dst: o.Dst, Gateway: o.Gateway, Interface: o.Interface, Metric: st.Metric, Persistent: st.Persistent}
	if v.NetTCPIP() {
		var script string
		var err error
		switch o.Kind {
		case AddAddress:
			script, err = pwsh.NewNetIPAddress(a, pwsh.BothStores)
		case DeleteAddress:
			script, err = pwsh.RemoveNetIPAddress(a, pwsh.BothStores)
		case AddRoute:
			script, err = pwsh.NewNetRoute(r, pwsh.StoreFor(st.Persistent))
		default:
			script, err = pwsh.RemoveNetRoute(r, pwsh.BothStores)
		}
		if err != nil {
			return "", err
		}
		return cmdJoin(pwsh.Argv(script)), nil
	}
	var argv []string
	var err error
	switch o.Kind {
	case AddAddress:
		argv, err = netsh.AddAddress(a)
	case DeleteAddress:
		argv, err = netsh.DeleteAddress(a)
	case AddRoute:
		argv, err = routeexe.AddArgv(r, 0)
	default:
		argv, err = routeexe.DeleteArgv(r, 0)
	}
	if err != nil {
		return "", err
	}
	s := cmdJoin(argv)
	if !o.IsAddress() {
		s += " if %" + ifVar(o.Interface) + "%"
	}
	return s, nil
}

// winCheckFor is a command that succeeds when route r is in the store.
func winCheckFor(v WindowsVersion, r netcfg.RouteSpec, persistent bool) string {
	if v.NetTCPIP() {
		store := pwsh.ActiveStore
		if persistent {
			store = pwsh.PersistentStore
		}
		q := "if (-not (Get-NetRoute -DestinationPrefix " + pwsh.Quote(r.Dst.Masked().String()) + " -InterfaceAlias " + pwsh.Quote(r.Interface)
		if r.Gateway.IsValid() {
			q += " -NextHop " + pwsh.Quote(r.Gateway.String())
		}
		q += " -PolicyStore " + string(store) + " -ErrorAction SilentlyContinue)) { exit 1 }"
		return cmdJoin(pwsh.Argv(q))
	}
	fam := netcfg.IPv4
	if r.Dst.Addr().Is6() {
		fam = netcfg.IPv6
	}
	store := netcfg.StoreActive
	if persistent {
		store = netcfg.StorePersistent
	}
	s := cmdJoin(netsh.ShowRoute(fam, store)) + ` | findstr /l /c:"` + r.Dst.Masked().String() + `"`
	if r.Gateway.IsValid() {
		s += ` | findstr /l /c:"` + r.Gateway.String() + `"`
	}
	return s + " >nul"
}

// cmdJoin joins argv for cmd.exe, double-quoting words with spaces or
// characters cmd treats specially (names; PowerShell scripts).
func cmdJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t&|<>^()\"'") {
			a = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// WindowsVersionList names the releases WindowsVersions holds, for usage
// texts and errors: "2008, 2008r2, ...".
func WindowsVersionList() string { return joinAny(WindowsVersions) }
