//go:build windows

package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/winhost"
)

// New opens the Windows lab: this machine (a lab VM), whose lab adapters the
// fixture names by alias or MAC. Nothing is built: run-vm.ps1 wires and
// addresses the adapters. New first replays the journals dead runs left for
// this host (target "local"; see Recovered), then checks that every fixture
// adapter exists and carries the fixture's addresses, and refuses an
// adapter holding the host's own default route unless the fixture sets
// allowDefaultRouteInterface. A link chosen by MAC gets its alias filled
// in. Every change made through Host is journaled in journal.Dir(); Undo
// and Close revert them and check the baseline.
func New(ctx context.Context, f *fixtures.Lab) (*Lab, error) {
	l := &Lab{ID: "windows-local", Fixture: f, Namespaces: map[string]string{HostRole: ""}}
	if err := l.recoverDead(ctx, localTarget); err != nil {
		return nil, err
	}
	t, err := OpenTarget(ctx, localTarget)
	if err != nil {
		return nil, fmt.Errorf("opening the Windows lab host: %w", err)
	}
	resolved, err := checkAdapters(ctx, t.Host, f)
	if err != nil {
		t.Host.Close()
		return nil, err
	}
	l.ID, l.Fixture = "windows-"+t.Host.Name(), resolved
	if err := l.startJournal(ctx, localTarget, t); err != nil {
		t.Host.Close()
		return nil, err
	}
	return l, nil
}

// localTarget names this machine in journals.
const localTarget = "local"

// OpenTarget opens a journal's target: "local", this machine, with every
// mechanism, and commands run by exec.
func OpenTarget(ctx context.Context, target string) (*journal.Target, error) {
	if target != localTarget {
		return nil, fmt.Errorf("opening target %q: not a target of this host (want %s)", target, localTarget)
	}
	h, err := winhost.OpenLocal(netcfg.Exec)
	if err != nil {
		return nil, err
	}
	return &journal.Target{Host: h, Run: netcfg.Exec}, nil
}

func checkAdapters(ctx context.Context, h netcfg.Host, f *fixtures.Lab) (*fixtures.Lab, error) {
	snap, err := h.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking the lab adapters: %w", err)
	}
	out := *f
	out.Links = append([]fixtures.Link(nil), f.Links...)
	for i, link := range out.Links {
		iface, ok := findAdapter(snap, link)
		if !ok {
			return nil, fmt.Errorf("lab %s: links[%d]: no adapter %q (mac %q) on %s; adapters: %s", f.Name, i, link.Interface, link.MAC, h.Name(), adapterNames(snap))
		}
		out.Links[i].Interface = iface.Name
		for _, r := range snap.Routes {
			if r.Store == netcfg.StoreActive && r.Dst.Bits() == 0 && r.Interface == iface.Name && !f.AllowDefaultRouteInterface {
				return nil, fmt.Errorf("lab %s: links[%d]: adapter %q carries the host's default route (%s); refusing to use it (set allowDefaultRouteInterface to override)", f.Name, i, iface.Name, r.Line())
			}
		}
		for _, p := range link.Addresses {
			if !snap.HasAddress(p) {
				return nil, fmt.Errorf("lab %s: links[%d]: adapter %q lacks the fixture address %s", f.Name, i, iface.Name, p)
			}
		}
	}
	return &out, nil
}

func findAdapter(s *netcfg.Snapshot, link fixtures.Link) (netcfg.Interface, bool) {
	for _, i := range s.Interfaces {
		if link.MAC != "" && strings.EqualFold(strings.ReplaceAll(i.MAC, "-", ":"), strings.ReplaceAll(link.MAC, "-", ":")) {
			return i, true
		}
		if link.MAC == "" && i.Name == link.Interface {
			return i, true
		}
	}
	return netcfg.Interface{}, false
}

func adapterNames(s *netcfg.Snapshot) string {
	var names []string
	for _, i := range s.Interfaces {
		names = append(names, fmt.Sprintf("%q", i.Name))
	}
	return strings.Join(names, ", ")
}

// Attach is New on Windows: there are no namespaces to attach to.
func Attach(ctx context.Context, nsName string, f *fixtures.Lab) (*Lab, error) {
	if nsName != "" {
		return nil, netcfg.Unsupported("attaching to namespace "+nsName, "Windows has no network namespaces")
	}
	return New(ctx, f)
}

// Close undoes every journaled change, checks the baseline, and closes the
// host (which also removes addresses AddIPAddress added and still tracks).
// It is idempotent.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() { l.closeErr = errors.Join(l.finish(context.Background()), l.Host.Close()) })
	return l.closeErr
}

// Detach is a no-op on Windows: nothing is built, nothing is kept.
func (l *Lab) Detach() error { return nil }

// Do runs fn for the host role: Windows labs have one host, this one.
func (l *Lab) Do(role string, fn func() error) error {
	if role != HostRole {
		return netcfg.Unsupported("lab role "+role, "a Windows lab has only the host role")
	}
	return fn()
}

// Exec runs argv on this host for the host role.
func (l *Lab) Exec(ctx context.Context, role string, argv ...string) ([]byte, error) {
	if role != HostRole {
		return nil, netcfg.Unsupported("lab role "+role, "a Windows lab has only the host role")
	}
	out, err := netcfg.Exec.Run(ctx, argv)
	return out.Combined(), err
}

// List, Cleanup and Down find nothing: Windows labs leave no namespaces.
func List() ([]Info, error)                         { return nil, nil }
func Cleanup(ctx context.Context) ([]string, error) { return nil, nil }
func Down(ctx context.Context, id string) ([]string, error) {
	return nil, fmt.Errorf("no lab %s: Windows labs are not built by kbharness", id)
}
