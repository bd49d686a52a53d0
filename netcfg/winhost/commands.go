// Package winhost is netcfg's Windows backend. The host it opens on a
// Windows machine (host_windows.go and friends) snapshots through iphlpapi
// (winipcfg), subscribes to NotifyRouteChange2 and
// NotifyUnicastIpAddressChange, and changes the host in-process (winipcfg,
// the legacy AddIPAddress) or by command: route.exe, netsh and PowerShell,
// with the argv builders and parsers of netcfg/routeexe, netcfg/netsh and
// netcfg/pwsh. The command mechanisms run through a netcfg.Runner, so they
// serve any Windows target and are tested on every OS with a fake one.
package winhost

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/routeexe"
	"github.com/kbharness/kbharness/netcfg/winreg"
)

// mechanismOrder is the preference order Capabilities reports.
var mechanismOrder = []netcfg.Mechanism{netcfg.WinIPCfg, netcfg.IPHlpAPILegacy, netcfg.RouteExe, netcfg.Netsh, netcfg.PowerShell}

// Changer changes the host by one mechanism.
type Changer interface {
	// Probe reports whether the mechanism works here: nil, or an error
	// matching ErrUnsupported that says why not.
	Probe(ctx context.Context) error
	AddAddress(ctx context.Context, a netcfg.AddressSpec) error
	DeleteAddress(ctx context.Context, a netcfg.AddressSpec) error
	AddRoute(ctx context.Context, r netcfg.RouteSpec) error
	DeleteRoute(ctx context.Context, r netcfg.RouteSpec) error
}

// Mechanisms returns the command mechanisms running through r, with
// interface indexes from index.
func Mechanisms(r netcfg.Runner, index Indexer) map[netcfg.Mechanism]Changer {
	return map[netcfg.Mechanism]Changer{
		netcfg.RouteExe:   RouteExe{Run: r, Index: index},
		netcfg.Netsh:      Netsh{Run: r},
		netcfg.PowerShell: PowerShell{Run: r},
	}
}

// Indexer resolves an interface alias to its index (route.exe's `if N`).
type Indexer func(alias string) (int, error)

// NetIndex is the Indexer of the running host: Go's net package names
// Windows interfaces by their alias.
func NetIndex(alias string) (int, error) {
	i, err := net.InterfaceByName(alias)
	if err != nil {
		return 0, fmt.Errorf("resolving interface %q: %w", alias, err)
	}
	return i.Index, nil
}

// run runs argv and returns what it printed, stdout then stderr (Windows
// tools print their errors on either).
func run(ctx context.Context, r netcfg.Runner, argv []string) ([]byte, error) {
	out, err := r.Run(ctx, argv)
	return out.Combined(), err
}

// RouteExe is the route.exe mechanism: `route [-p] add` and `route delete`.
// route.exe changes routes only.
type RouteExe struct {
	Run   netcfg.Runner
	Index Indexer
}

// AddRoute runs `route [-p] add DEST mask MASK GW [metric N] [if IDX]`.
func (c RouteExe) AddRoute(ctx context.Context, r netcfg.RouteSpec) error {
	idx, err := c.ifIndex(r)
	if err != nil {
		return err
	}
	argv, err := routeexe.AddArgv(r, idx)
	if err != nil {
		return err
	}
	return c.runChecked(ctx, argv)
}

// DeleteRoute runs `route delete DEST mask MASK [GW] [if IDX]`, which also
// removes the route from the persistent store.
func (c RouteExe) DeleteRoute(ctx context.Context, r netcfg.RouteSpec) error {
	idx, err := c.ifIndex(r)
	if err != nil {
		return err
	}
	argv, err := routeexe.DeleteArgv(r, idx)
	if err != nil {
		return err
	}
	return c.runChecked(ctx, argv)
}

// AddAddress is unsupported: route.exe has no address commands.
func (RouteExe) AddAddress(context.Context, netcfg.AddressSpec) error {
	return netcfg.Unsupported("route.exe address", "route.exe changes routes only")
}

// DeleteAddress is unsupported: route.exe has no address commands.
func (RouteExe) DeleteAddress(context.Context, netcfg.AddressSpec) error {
	return netcfg.Unsupported("route.exe address", "route.exe changes routes only")
}

func (c RouteExe) ifIndex(r netcfg.RouteSpec) (int, error) {
	if r.Interface == "" {
		return 0, nil // route.exe picks the interface from the gateway
	}
	return c.Index(r.Interface)
}

// runChecked runs a route.exe change. route.exe may exit 0 after "The route
// addition failed: ..."; success is the exit status and its " OK!" line.
func (c RouteExe) runChecked(ctx context.Context, argv []string) error {
	out, err := run(ctx, c.Run, argv)
	if err != nil {
		return err
	}
	if !bytes.Contains(out, []byte("OK!")) {
		return fmt.Errorf("running %q: no OK! in its output: %s", strings.Join(argv, " "), bytes.TrimSpace(out))
	}
	return nil
}

// Netsh is the netsh mechanism: `netsh interface ipv4|ipv6 add|delete
// address|route`, which fails with a non-zero exit status.
type Netsh struct{ Run netcfg.Runner }

// AddAddress runs `netsh interface ipv4 add address NAME ADDR MASK`.
func (c Netsh) AddAddress(ctx context.Context, a netcfg.AddressSpec) error {
	return c.runBuilt(ctx)(netsh.AddAddress(a))
}

// DeleteAddress runs `netsh interface ipv4 delete address NAME ADDR`.
func (c Netsh) DeleteAddress(ctx context.Context, a netcfg.AddressSpec) error {
	return c.runBuilt(ctx)(netsh.DeleteAddress(a))
}

// AddRoute runs `netsh interface ipv4 add route PREFIX NAME GW store=...`.
func (c Netsh) AddRoute(ctx context.Context, r netcfg.RouteSpec) error {
	return c.runBuilt(ctx)(netsh.AddRoute(r))
}

// DeleteRoute runs `netsh interface ipv4 delete route PREFIX NAME GW`.
func (c Netsh) DeleteRoute(ctx context.Context, r netcfg.RouteSpec) error {
	return c.runBuilt(ctx)(netsh.DeleteRoute(r))
}

func (c Netsh) runBuilt(ctx context.Context) func([]string, error) error {
	return func(argv []string, err error) error {
		if err != nil {
			return err
		}
		_, err = run(ctx, c.Run, argv)
		return err
	}
}

// PowerShell is the powershell mechanism: New-/Remove-NetRoute and
// New-/Remove-NetIPAddress, run as -EncodedCommand with
// $ErrorActionPreference = 'Stop' so a failure exits non-zero.
type PowerShell struct{ Run netcfg.Runner }

// AddAddress runs New-NetIPAddress (both stores, the cmdlet's default).
func (c PowerShell) AddAddress(ctx context.Context, a netcfg.AddressSpec) error {
	return c.runScript(ctx)(pwsh.NewNetIPAddress(a, pwsh.BothStores))
}

// DeleteAddress runs Remove-NetIPAddress (both stores).
func (c PowerShell) DeleteAddress(ctx context.Context, a netcfg.AddressSpec) error {
	return c.runScript(ctx)(pwsh.RemoveNetIPAddress(a, pwsh.BothStores))
}

// AddRoute runs New-NetRoute -PolicyStore ActiveStore, or without
// -PolicyStore (both stores) for a persistent route.
func (c PowerShell) AddRoute(ctx context.Context, r netcfg.RouteSpec) error {
	return c.runScript(ctx)(pwsh.NewNetRoute(r, pwsh.StoreFor(r.Persistent)))
}

// DeleteRoute runs Remove-NetRoute on both stores, like `route delete`.
func (c PowerShell) DeleteRoute(ctx context.Context, r netcfg.RouteSpec) error {
	return c.runScript(ctx)(pwsh.RemoveNetRoute(r, pwsh.BothStores))
}

func (c PowerShell) runScript(ctx context.Context) func(string, error) error {
	return func(script string, err error) error {
		if err != nil {
			return err
		}
		if _, err := c.Run.Run(ctx, pwsh.EncodedArgv(script)); err != nil {
			// The encoded argv says nothing to a reader: show the script.
			return fmt.Errorf("running powershell %q: %w", script, err)
		}
		return nil
	}
}

// PersistentRoutes reads the IPv4 persistent store as `route print -4`
// shows it under "Persistent Routes:", in the registry's terms ("Default"
// metric as winreg.DefaultMetric).
func PersistentRoutes(ctx context.Context, r netcfg.Runner) ([]winreg.Route, error) {
	argv := routeexe.Print(netcfg.IPv4)
	out, err := run(ctx, r, argv)
	if err != nil {
		return nil, fmt.Errorf("reading the persistent store: %w", err)
	}
	t, err := routeexe.ParsePrint(string(out))
	if err != nil {
		return nil, fmt.Errorf("reading the persistent store from %q: %w", strings.Join(argv, " "), err)
	}
	var routes []winreg.Route
	for _, row := range t.Rows {
		if row.Store != netcfg.StorePersistent || row.Family != netcfg.IPv4 {
			continue
		}
		wr := winreg.Route{Dst: row.Dst, Metric: row.Metric}
		if !row.OnLink && !row.Gateway.IsUnspecified() {
			wr.Gateway = row.Gateway
		}
		if row.DefaultMetric {
			wr.Metric = winreg.DefaultMetric
		}
		routes = append(routes, wr)
	}
	return routes, nil
}

// RegistryRoutes reads the IPv4 persistent store from the registry with
// `reg query HKLM\...\PersistentRoutes` run through r: how a host reached
// by commands shows it. A missing key is an empty store.
func RegistryRoutes(ctx context.Context, r netcfg.Runner) ([]winreg.Route, error) {
	out, err := r.Run(ctx, winreg.QueryArgv())
	if err != nil {
		if strings.Contains(string(out.Combined()), winreg.ErrNoKey) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading PersistentRoutes: %w", err)
	}
	names, err := winreg.ParseQuery(string(out.Stdout))
	if err != nil {
		return nil, err
	}
	return winreg.ParsePersistentRoutes(names)
}

// CheckRegistry cross-checks, by commands through r, the registry's
// PersistentRoutes (`reg query`) against `route print -4`.
func CheckRegistry(ctx context.Context, r netcfg.Runner) (winreg.Mismatch, error) {
	registry, err := RegistryRoutes(ctx, r)
	if err != nil {
		return winreg.Mismatch{}, err
	}
	printed, err := PersistentRoutes(ctx, r)
	if err != nil {
		return winreg.Mismatch{}, err
	}
	return winreg.CrossCheck(registry, printed), nil
}

// CheckPersistentStore cross-checks the two views of the IPv4 persistent
// store: the registry's PersistentRoutes (the persistent routes of s, taken
// by the Windows host) against `route print -4`.
func CheckPersistentStore(ctx context.Context, r netcfg.Runner, s *netcfg.Snapshot) (winreg.Mismatch, error) {
	printed, err := PersistentRoutes(ctx, r)
	if err != nil {
		return winreg.Mismatch{}, err
	}
	var registry []winreg.Route
	for _, rt := range s.Routes {
		if rt.Store == netcfg.StorePersistent && rt.Dst.Addr().Is4() {
			registry = append(registry, winreg.Route{Dst: rt.Dst, Gateway: rt.Gateway, Metric: rt.Metric})
		}
	}
	return winreg.CrossCheck(registry, printed), nil
}

// onLinkInterface names the interface with the longest on-link prefix that
// holds gw: where Windows installs a persistent route (whose registry value
// names no interface) at boot. "" if no address's prefix holds it.
func onLinkInterface(addrs []netcfg.Address, gw netip.Addr) string {
	best, bits := "", -1
	for _, a := range addrs {
		if a.Prefix.Bits() > bits && a.Prefix.Masked().Contains(gw) {
			best, bits = a.Interface, a.Prefix.Bits()
		}
	}
	return best
}
