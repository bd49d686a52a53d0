package linuxhost

import (
	"context"
	"fmt"
	"time"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// OpenCommands opens a Linux host reached only by commands run through r
// (a remote lab host over SSH): snapshots parse `ip -j -d addr show` and
// `ip -j route show table all` (with the persistent view of
// iproute2.WithPersistentView, as the namespace host gives), changes run
// `ip addr|route add|del` (mechanism iproute2; netlink runs in-process, only
// on this machine), and change events come from polling every poll (0:
// netcfg.DefaultPoll). It builds on every OS: the controller may be Windows.
func OpenCommands(ctx context.Context, name string, r netcfg.Runner, poll time.Duration) (netcfg.Host, error) {
	h := &commandHost{name: name, run: r, poll: poll}
	s, err := h.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening linux host %s: %w", name, err)
	}
	h.caps = netcfg.Capabilities{
		Dialect:    netcfg.DialectLinux,
		Mechanisms: []netcfg.Mechanism{netcfg.IPRoute2},
		Missing:    map[netcfg.Mechanism]string{netcfg.Netlink: "netlink runs in-process: only on this machine, not on a host reached by commands"},
		IPv6:       hasIPv6(s),
	}
	return h, nil
}

// hasIPv6 reports a host whose loopback (or any interface) has an IPv6
// address: one with IPv6 disabled has none.
func hasIPv6(s *netcfg.Snapshot) bool {
	for _, a := range s.Addresses {
		if a.Prefix.Addr().Is6() {
			return true
		}
	}
	return false
}

type commandHost struct {
	name string
	run  netcfg.Runner
	poll time.Duration
	caps netcfg.Capabilities
}

func (h *commandHost) Name() string                      { return h.name }
func (h *commandHost) Capabilities() netcfg.Capabilities { return h.caps }
func (h *commandHost) Close() error                      { return nil }

// Snapshot runs ip's two show commands and parses their JSON.
func (h *commandHost) Snapshot(ctx context.Context) (*netcfg.Snapshot, error) {
	taken := time.Now()
	addrs, err := h.run.Run(ctx, iproute2.ShowAddrs(""))
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", h.name, err)
	}
	routes, err := h.run.Run(ctx, iproute2.ShowRoutes(""))
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", h.name, err)
	}
	s, err := iproute2.ParseSnapshot(addrs.Stdout, routes.Stdout)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", h.name, err)
	}
	s.Taken = taken
	s.Routes = iproute2.WithPersistentView(s.Routes)
	return s, nil
}

func (h *commandHost) change(ctx context.Context, m netcfg.Mechanism, argv []string) error {
	if m != netcfg.IPRoute2 {
		return netcfg.Unsupported("mechanism "+string(m), h.caps.Why(m))
	}
	out, err := h.run.Run(ctx, argv)
	return iproute2.Sentinel(out, err)
}

func (h *commandHost) AddAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	return h.change(ctx, m, iproute2.AddrAdd("", a))
}

func (h *commandHost) DeleteAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	return h.change(ctx, m, iproute2.AddrDel("", a))
}

func (h *commandHost) AddRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	return h.change(ctx, m, iproute2.RouteAdd("", r))
}

func (h *commandHost) DeleteRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	return h.change(ctx, m, iproute2.RouteDel("", r))
}

// Subscribe polls the snapshot every poll (netcfg.PollChanges).
func (h *commandHost) Subscribe(ctx context.Context, fn func(netcfg.Event)) (stop func(), err error) {
	return netcfg.PollChanges(ctx, h.name, h.poll, h.Snapshot, fn)
}
