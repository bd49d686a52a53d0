package winhost

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
)

// OpenCommands opens a Windows host that is reached only by commands run
// through r: a remote guest, or this machine's stand-ins in tests. It needs
// nothing but netsh (Vista / Server 2008 and later): snapshots come from
// `netsh interface ipv4|ipv6 show interfaces|addresses|route
// store=active|persistent`; changes go through the command mechanisms its
// probes find working (route.exe, netsh, PowerShell, and AddIPAddress by
// P/Invoke from PowerShell: LegacyPS); change events come
// from polling the snapshot every poll (0: netcfg.DefaultPoll), since commands
// deliver no callbacks. winipcfg runs in-process: only on the machine
// itself.
func OpenCommands(ctx context.Context, name string, r netcfg.Runner, poll time.Duration) (netcfg.Host, error) {
	h := &commandHost{name: name, run: r, poll: poll}
	h.commands = Mechanisms(r, h.index)
	h.commands[netcfg.IPHlpAPILegacy] = &LegacyPS{Run: r, Index: h.index}
	if _, err := h.Snapshot(ctx); err != nil {
		return nil, fmt.Errorf("opening windows host %s: %w", name, err)
	}
	h.caps = netcfg.Capabilities{
		Dialect: netcfg.DialectWindows, PersistentStore: true, IPv6: true,
		Missing: map[netcfg.Mechanism]string{
			netcfg.WinIPCfg: "winipcfg calls iphlpapi in-process: only on the Windows machine itself",
		},
	}
	for _, m := range mechanismOrder {
		c, ok := h.commands[m]
		if !ok {
			continue
		}
		if err := c.Probe(ctx); err != nil {
			h.caps.Missing[m] = err.Error()
			continue
		}
		h.caps.Mechanisms = append(h.caps.Mechanisms, m)
	}
	return h, nil
}

type commandHost struct {
	name     string
	run      netcfg.Runner
	poll     time.Duration
	commands map[netcfg.Mechanism]Changer
	caps     netcfg.Capabilities

	mu      sync.Mutex
	indexes map[string]int // interface name -> index, from the last snapshot
}

func (h *commandHost) Name() string                      { return h.name }
func (h *commandHost) Capabilities() netcfg.Capabilities { return h.caps }
func (h *commandHost) Close() error                      { return nil }

// index resolves an interface name for route.exe's IF argument.
func (h *commandHost) index(alias string) (int, error) {
	h.mu.Lock()
	i, ok := h.indexes[alias]
	h.mu.Unlock()
	if ok {
		return i, nil
	}
	if _, err := h.Snapshot(context.Background()); err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if i, ok := h.indexes[alias]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("resolving interface %q on %s: %w", alias, h.name, netcfg.ErrNotFound)
}

// Snapshot runs netsh's show commands for both families and both stores.
func (h *commandHost) Snapshot(ctx context.Context) (*netcfg.Snapshot, error) {
	s := &netcfg.Snapshot{Taken: time.Now()}
	names := map[int]string{}
	for _, f := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
		out, err := h.show(ctx, netsh.ShowInterfaces(f))
		if err != nil {
			return nil, err
		}
		ifs, err := netsh.ParseInterfaces(out)
		if err != nil {
			return nil, fmt.Errorf("parsing %q: %w", netsh.ShowInterfaces(f), err)
		}
		for _, i := range ifs {
			if _, seen := names[i.Idx]; seen {
				continue
			}
			names[i.Idx] = i.Name
			mtu := int(i.MTU)
			if i.MTU > 1<<31-1 {
				mtu = -1 // the loopback pseudo-interface's 4294967295
			}
			s.Interfaces = append(s.Interfaces, netcfg.Interface{Index: i.Idx, Name: i.Name, Up: strings.EqualFold(i.State, "connected"), MTU: mtu})
		}
	}
	for _, f := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
		for _, store := range []netcfg.Store{netcfg.StoreActive, netcfg.StorePersistent} {
			argv := netsh.ShowRoute(f, store)
			out, err := h.show(ctx, argv)
			if err != nil {
				return nil, err
			}
			rows, err := netsh.ParseRoutes(out, store)
			if err != nil {
				return nil, fmt.Errorf("parsing %q: %w", argv, err)
			}
			for _, r := range rows {
				rt := r.Route
				if rt.Interface == "" {
					rt.Interface = names[r.IfIndex]
				}
				s.Routes = append(s.Routes, rt)
			}
		}
	}
	for _, f := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
		argv := netsh.ShowAddresses(f)
		out, err := h.show(ctx, argv)
		if err != nil {
			return nil, err
		}
		entries, err := netsh.ParseAddresses(out)
		if err != nil {
			return nil, fmt.Errorf("parsing %q: %w", argv, err)
		}
		for _, e := range entries {
			a := e.Address()
			if a.Interface == "" {
				a.Interface = names[e.IfIndex]
			}
			if e.Bits < 0 {
				a.Prefix = onLinkPrefix(s.Routes, e.Addr, a.Interface)
			}
			s.Addresses = append(s.Addresses, a)
		}
	}
	byName := map[string]int{}
	for idx, n := range names {
		byName[n] = idx
	}
	h.mu.Lock()
	h.indexes = byName
	h.mu.Unlock()
	return s, nil
}

// onLinkPrefix gives an address whose length netsh does not print (IPv6)
// the longest on-link prefix of its interface that holds it, else a
// single-address prefix.
func onLinkPrefix(routes []netcfg.Route, a netip.Addr, ifname string) netip.Prefix {
	best := netip.PrefixFrom(a, a.BitLen())
	found := false
	for _, r := range routes {
		if r.Store != netcfg.StoreActive || r.Gateway.IsValid() && !r.Gateway.IsUnspecified() || r.Interface != ifname {
			continue
		}
		if r.Dst.Bits() < a.BitLen() && r.Dst.Contains(a) && (!found || r.Dst.Bits() > best.Bits()) {
			best, found = netip.PrefixFrom(a, r.Dst.Bits()), true
		}
	}
	return best
}

func (h *commandHost) show(ctx context.Context, argv []string) (string, error) {
	out, err := h.run.Run(ctx, argv)
	if err != nil {
		return "", fmt.Errorf("snapshot of %s: %w", h.name, err)
	}
	return string(out.Stdout), nil
}

func (h *commandHost) changer(m netcfg.Mechanism) (Changer, error) {
	if !h.caps.Has(m) {
		return nil, netcfg.Unsupported("mechanism "+string(m), h.caps.Why(m))
	}
	return h.commands[m], nil
}

func (h *commandHost) AddAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	c, err := h.changer(m)
	if err == nil {
		err = c.AddAddress(ctx, a)
	}
	if err != nil {
		return fmt.Errorf("adding address %s on %s: %w", a.Prefix, a.Interface, err)
	}
	return nil
}

func (h *commandHost) DeleteAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	c, err := h.changer(m)
	if err == nil {
		err = c.DeleteAddress(ctx, a)
	}
	if err != nil {
		return fmt.Errorf("deleting address %s on %s: %w", a.Prefix, a.Interface, err)
	}
	return nil
}

func (h *commandHost) AddRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	c, err := h.changer(m)
	if err == nil {
		err = c.AddRoute(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("adding route %s on %s: %w", r.Dst, h.name, err)
	}
	return nil
}

func (h *commandHost) DeleteRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	c, err := h.changer(m)
	if err == nil {
		err = c.DeleteRoute(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("deleting route %s on %s: %w", r.Dst, h.name, err)
	}
	return nil
}

// Subscribe polls the snapshot every poll (netcfg.PollChanges).
func (h *commandHost) Subscribe(ctx context.Context, fn func(netcfg.Event)) (stop func(), err error) {
	return netcfg.PollChanges(ctx, h.name, h.poll, h.Snapshot, fn)
}
