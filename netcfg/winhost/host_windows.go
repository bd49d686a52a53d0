package winhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"

	"github.com/kbharness/kbharness/netcfg/winreg"
)

// WindowsOptions configures OpenWindowsHost.
type WindowsOptions struct {
	// Name is the host's Name(); empty means the computer name.
	Name string
	// Commands are the command mechanisms (see Mechanisms); one left out
	// is unsupported.
	Commands map[netcfg.Mechanism]Changer
}

// OpenWindowsHost returns the local Windows host: snapshots from
// GetAdaptersAddresses, GetUnicastIpAddressTable and GetIpForwardTable2 plus
// the registry's PersistentRoutes, change events from NotifyRouteChange2 and
// NotifyUnicastIpAddressChange, and changes by the mechanisms its probe
// found working (Capabilities). It fails only if even a snapshot is
// impossible.
func OpenWindowsHost(opts WindowsOptions) (netcfg.Host, error) {
	p := probeHost(opts.Commands)
	if p.snapshot != nil {
		return nil, fmt.Errorf("opening windows host: %w", p.snapshot)
	}
	name := opts.Name
	if name == "" {
		var err error
		if name, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("opening windows host: reading computer name: %w", err)
		}
	}
	return &windowsHost{name: name, probe: p, commands: opts.Commands, ntes: map[nteKey]uint32{}}, nil
}

type windowsHost struct {
	name     string
	probe    probe
	commands map[netcfg.Mechanism]Changer

	mu   sync.Mutex
	ntes map[nteKey]uint32 // NTE contexts of the addresses AddIPAddress added
}

func (h *windowsHost) Name() string { return h.name }

// Capabilities reports the mechanisms whose probe passed, in preference
// order. Events is true when the notification procedures exist; Wine has
// them but never calls back.
func (h *windowsHost) Capabilities() netcfg.Capabilities {
	c := netcfg.Capabilities{
		Dialect:         netcfg.DialectWindows,
		PersistentStore: h.probe.persistent == nil,
		Events:          h.probe.events == nil,
		IPv6:            h.probe.ipv6,
	}
	for _, m := range mechanismOrder {
		if err := h.probe.mechanisms[m]; err != nil {
			if c.Missing == nil {
				c.Missing = map[netcfg.Mechanism]string{}
			}
			c.Missing[m] = err.Error()
			var u *netcfg.UnsupportedError
			if errors.As(err, &u) {
				c.Missing[m] = u.Reason
			}
			continue
		}
		c.Mechanisms = append(c.Mechanisms, m)
	}
	return c
}

// mechanism returns the probe's verdict on m: nil if it works here.
func (h *windowsHost) mechanism(m netcfg.Mechanism) error {
	err, known := h.probe.mechanisms[m]
	if !known {
		return netcfg.Unsupported("mechanism "+string(m), "not a Windows mechanism")
	}
	return err
}

// Snapshot reads interfaces (GetAdaptersAddresses), addresses
// (GetUnicastIpAddressTable), active routes (GetIpForwardTable2) and
// persistent IPv4 routes (registry PersistentRoutes), both families.
func (h *windowsHost) Snapshot(ctx context.Context) (*netcfg.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("taking snapshot: %w", err)
	}
	s := &netcfg.Snapshot{Taken: time.Now()}
	adapters, err := winipcfg.GetAdaptersAddresses(windows.AF_UNSPEC, winipcfg.GAAFlagIncludeAllInterfaces)
	if err != nil {
		return nil, fmt.Errorf("taking snapshot: GetAdaptersAddresses: %w", err)
	}
	names := make(map[uint32]string, len(adapters))
	for _, a := range adapters {
		i := interfaceFromAdapter(a)
		s.Interfaces = append(s.Interfaces, i)
		names[a.IfIndex] = i.Name
		names[a.IPv6IfIndex] = i.Name
	}
	delete(names, 0)

	addrs, err := winipcfg.GetUnicastIPAddressTable(windows.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("taking snapshot: GetUnicastIpAddressTable: %w", err)
	}
	for i := range addrs {
		s.Addresses = append(s.Addresses, addressFromRow(&addrs[i], names))
	}

	routes, err := winipcfg.GetIPForwardTable2(windows.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("taking snapshot: GetIpForwardTable2: %w", err)
	}
	for i := range routes {
		s.Routes = append(s.Routes, routeFromRow(&routes[i], names))
	}

	if h.probe.persistent == nil {
		persistent, err := readPersistentRoutes()
		if err != nil {
			return nil, fmt.Errorf("taking snapshot: %w", err)
		}
		for _, r := range persistent {
			r.Interface = onLinkInterface(s.Addresses, r.Gateway)
			s.Routes = append(s.Routes, r)
		}
	}
	return s, nil
}

// probePersistentStore checks that the registry can be read at all; a
// missing PersistentRoutes key only means no persistent route yet.
func probePersistentStore() error {
	if _, err := readPersistentRoutes(); err != nil {
		return netcfg.Unsupported("persistent store", err.Error())
	}
	return nil
}

// readPersistentRoutes reads the value names of
// HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\PersistentRoutes
// (IPv4 only; see package winreg for IPv6).
func readPersistentRoutes() ([]netcfg.Route, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, winreg.PersistentRoutesKey, registry.QUERY_VALUE)
	if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening HKLM\\%s: %w", winreg.PersistentRoutesKey, err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return nil, fmt.Errorf("reading HKLM\\%s: %w", winreg.PersistentRoutesKey, err)
	}
	parsed, err := winreg.ParsePersistentRoutes(names)
	if err != nil {
		return nil, fmt.Errorf("reading HKLM\\%s: %w", winreg.PersistentRoutesKey, err)
	}
	routes := make([]netcfg.Route, 0, len(parsed))
	for _, p := range parsed {
		routes = append(routes, netcfg.Route{Dst: p.Dst, Gateway: p.Gateway, Metric: p.Metric, Protocol: "static", Store: netcfg.StorePersistent})
	}
	return routes, nil
}

// AddAddress adds an address by m: winipcfg (CreateUnicastIpAddressEntry),
// iphlpapi-legacy (AddIPAddress, IPv4 only, context kept for DeleteAddress
// and Close) or a command mechanism of WindowsOptions.Commands.
func (h *windowsHost) AddAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.mechanism(m); err != nil {
		return fmt.Errorf("adding address %s on %s: %w", a.Prefix, a.Interface, err)
	}
	var err error
	switch m {
	case netcfg.WinIPCfg:
		err = winipcfgAddAddress(a)
	case netcfg.IPHlpAPILegacy:
		err = h.legacyAddAddress(ctx, a)
	default:
		err = h.commands[m].AddAddress(ctx, a)
	}
	if err != nil {
		return fmt.Errorf("adding address %s on %s by %s: %w", a.Prefix, a.Interface, m, err)
	}
	return nil
}

// DeleteAddress deletes an address by m: winipcfg
// (DeleteUnicastIpAddressEntry), iphlpapi-legacy (DeleteIPAddress with the
// address's NTE context) or a command mechanism.
func (h *windowsHost) DeleteAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.mechanism(m); err != nil {
		return fmt.Errorf("deleting address %s on %s: %w", a.Prefix, a.Interface, err)
	}
	var err error
	switch m {
	case netcfg.WinIPCfg:
		err = winipcfgDeleteAddress(a)
	case netcfg.IPHlpAPILegacy:
		err = h.legacyDeleteAddress(a)
	default:
		err = h.commands[m].DeleteAddress(ctx, a)
	}
	if err != nil {
		return fmt.Errorf("deleting address %s on %s by %s: %w", a.Prefix, a.Interface, m, err)
	}
	return nil
}

// AddRoute adds a route by m: winipcfg (CreateIpForwardEntry2, active store
// only) or a command mechanism (route -p add, netsh ... store=persistent,
// New-NetRoute -PolicyStore for persistent routes); iphlpapi-legacy has no
// route procedure (ErrUnsupported).
func (h *windowsHost) AddRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.mechanism(m); err != nil {
		return fmt.Errorf("adding route %s via %s: %w", r.Dst, r.Gateway, err)
	}
	var err error
	switch m {
	case netcfg.WinIPCfg:
		err = winipcfgAddRoute(r)
	case netcfg.IPHlpAPILegacy:
		err = errLegacyRoutes()
	default:
		err = h.commands[m].AddRoute(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("adding route %s via %s by %s: %w", r.Dst, r.Gateway, m, err)
	}
	return nil
}

// DeleteRoute deletes the matching routes by m: winipcfg
// (DeleteIpForwardEntry2, active store only) or a command mechanism.
func (h *windowsHost) DeleteRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.mechanism(m); err != nil {
		return fmt.Errorf("deleting route %s via %s: %w", r.Dst, r.Gateway, err)
	}
	var err error
	switch m {
	case netcfg.WinIPCfg:
		err = winipcfgDeleteRoute(r)
	case netcfg.IPHlpAPILegacy:
		err = errLegacyRoutes()
	default:
		err = h.commands[m].DeleteRoute(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("deleting route %s via %s by %s: %w", r.Dst, r.Gateway, m, err)
	}
	return nil
}

// Close deletes the addresses still tracked from AddIPAddress (they would
// otherwise stay until the adapter resets or the host reboots).
func (h *windowsHost) Close() error { return h.legacyCleanup() }

// interfaceIndex resolves an alias to its interface index
// (ConvertInterfaceAliasToLuid semantics, through GetAdaptersAddresses).
func interfaceIndex(alias string) (uint32, error) {
	adapters, err := winipcfg.GetAdaptersAddresses(windows.AF_UNSPEC, winipcfg.GAAFlagIncludeAllInterfaces)
	if err != nil {
		return 0, fmt.Errorf("resolving interface %q: GetAdaptersAddresses: %w", alias, err)
	}
	for _, a := range adapters {
		if a.FriendlyName() == alias {
			return adapterIndex(a), nil
		}
	}
	return 0, fmt.Errorf("resolving interface %q: %w", alias, netcfg.ErrNotFound)
}

// bestInterface is the interface Windows would send to dst through
// (GetBestInterfaceEx): how a route without an interface finds one.
func bestInterface(dst netip.Addr) (uint32, error) {
	sa, err := sockaddrOf(dst)
	if err != nil {
		return 0, err
	}
	var idx uint32
	if err := windows.GetBestInterfaceEx(sa, &idx); err != nil {
		return 0, fmt.Errorf("finding the interface toward %s: GetBestInterfaceEx: %w", dst, err)
	}
	return idx, nil
}

func sockaddrOf(a netip.Addr) (windows.Sockaddr, error) {
	switch {
	case a.Is4():
		return &windows.SockaddrInet4{Addr: a.As4()}, nil
	case a.Is6():
		return &windows.SockaddrInet6{Addr: a.As16()}, nil
	}
	return nil, fmt.Errorf("address %v is not IPv4 or IPv6", a)
}

// errnoSentinel wraps err with ErrExists or ErrNotFound where the Windows
// error code means that.
func errnoSentinel(err error) error {
	switch {
	case errors.Is(err, windows.ERROR_OBJECT_ALREADY_EXISTS), errors.Is(err, windows.ERROR_ALREADY_EXISTS):
		return fmt.Errorf("%w: %w", netcfg.ErrExists, err)
	case errors.Is(err, windows.ERROR_NOT_FOUND), errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return fmt.Errorf("%w: %w", netcfg.ErrNotFound, err)
	}
	return err
}
