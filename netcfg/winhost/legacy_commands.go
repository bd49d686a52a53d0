package winhost

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

// LegacyPS is the iphlpapi-legacy mechanism of a Windows host reached by
// commands: AddIPAddress and DeleteIPAddress called by P/Invoke from
// PowerShell (Add-Type; PowerShell 2.0 and later, Windows 7 / 2008 R2
// included). DeleteIPAddress takes the NTE context AddIPAddress returned:
// LegacyPS keeps the contexts of the addresses it added, and hands each
// one's DeleteIPAddress to the undo journal (netcfg.RecordUndo), so a dead
// run's addresses are deleted by their contexts too. Routes are not its
// business.
type LegacyPS struct {
	Run   netcfg.Runner
	Index Indexer

	mu  sync.Mutex
	nte map[netip.Prefix]uint32 // NTE context by the address AddIPAddress added
}

// Probe compiles the P/Invoke class and calls GetNumberOfInterfaces.
func (c *LegacyPS) Probe(ctx context.Context) error {
	return probeRead(ctx, c.Run, netcfg.IPHlpAPILegacy, pwsh.LegacyProbeArgv(), func(out string) error {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(out), &n); err != nil || n < 1 {
			return fmt.Errorf("no interface count from GetNumberOfInterfaces")
		}
		return nil
	})
}

// AddAddress runs AddIPAddress on the interface's index and keeps the NTE
// context.
func (c *LegacyPS) AddAddress(ctx context.Context, a netcfg.AddressSpec) error {
	idx, err := c.Index(a.Interface)
	if err != nil {
		return err
	}
	argv, err := pwsh.LegacyAddArgv(a.Prefix, idx)
	if err != nil {
		return netcfg.Unsupported("mechanism "+string(netcfg.IPHlpAPILegacy), err.Error())
	}
	out, err := run(ctx, c.Run, argv)
	if err != nil {
		return fmt.Errorf("AddIPAddress(%s, if %d) by P/Invoke: %w", a.Prefix, idx, err)
	}
	nte, _, err := pwsh.ParseLegacyAdd(string(out))
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.nte == nil {
		c.nte = map[netip.Prefix]uint32{}
	}
	c.nte[a.Prefix] = nte
	c.mu.Unlock()
	return netcfg.RecordUndo(ctx, netcfg.UndoCommand{
		Undoes: fmt.Sprintf("AddIPAddress %s dev %s (NTE context %d)", a.Prefix, a.Interface, nte),
		Argv:   pwsh.LegacyDeleteArgv(nte), Guard: &a,
	})
}

// DeleteAddress runs DeleteIPAddress with the NTE context of an address
// this mechanism added; others it cannot name.
func (c *LegacyPS) DeleteAddress(ctx context.Context, a netcfg.AddressSpec) error {
	c.mu.Lock()
	nte, ok := c.nte[a.Prefix]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("DeleteIPAddress %s: no NTE context (the address was not added by AddIPAddress in this run): %w", a.Prefix, netcfg.ErrNotFound)
	}
	if _, err := run(ctx, c.Run, pwsh.LegacyDeleteArgv(nte)); err != nil {
		return fmt.Errorf("DeleteIPAddress(NTE context %d) of %s by P/Invoke: %w", nte, a.Prefix, err)
	}
	c.mu.Lock()
	delete(c.nte, a.Prefix)
	c.mu.Unlock()
	return nil
}

func (c *LegacyPS) AddRoute(context.Context, netcfg.RouteSpec) error { return errLegacyRoutes() }

func (c *LegacyPS) DeleteRoute(context.Context, netcfg.RouteSpec) error { return errLegacyRoutes() }

// errLegacyRoutes is the answer of the iphlpapi-legacy mechanism, in
// process or by P/Invoke, to a route change: it has none.
func errLegacyRoutes() error {
	return netcfg.Unsupported("routes by "+string(netcfg.IPHlpAPILegacy), "AddIPAddress adds addresses only")
}
