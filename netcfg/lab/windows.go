package lab

import (
	"context"
	"fmt"
	"strings"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/internal/standin"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/winhost"
)

// StandinScheme starts a target that is a Windows-dialect host reached
// through the command stand-ins' server (cmd/kbh-standin) at ADDR:
// "standin://127.0.0.1:PORT". Any OS can drive it; it is how the Windows
// suites run against a real kernel without Windows or Wine.
const StandinScheme = "standin://"

// Open opens the lab on a target named by URL: today a StandinScheme
// target (namespaces are attached with Attach, this Windows machine is New
// on Windows).
func Open(ctx context.Context, target string, f *fixtures.Lab) (*Lab, error) {
	if strings.HasPrefix(target, StandinScheme) && len(target) > len(StandinScheme) {
		return openWindows(ctx, target, f)
	}
	return nil, fmt.Errorf("target %q: unknown (known: %sHOST:PORT)", target, StandinScheme)
}

// openStandin opens a StandinScheme target: its command host, and commands
// run through the stand-ins.
func openStandin(ctx context.Context, target string) (*journal.Target, error) {
	addr := strings.TrimPrefix(target, StandinScheme)
	r := standin.Runner(addr)
	h, err := winhost.OpenCommands(ctx, "standin-"+addr, r, 0)
	if err != nil {
		return nil, err
	}
	return &journal.Target{Host: h, Run: r}, nil
}

// openWindows opens a Windows host kbharness did not build as the lab:
// this machine ("local") or one reached by commands. Dead runs' journals for
// target are replayed first (see Recovered); the fixture's adapters are
// checked (see New on Windows); every change goes through a durable
// journal, undone by Undo and Close with a baseline check.
func openWindows(ctx context.Context, target string, f *fixtures.Lab) (*Lab, error) {
	l := &Lab{ID: "windows", Fixture: f, Namespaces: map[string]string{HostRole: ""}}
	if err := l.recoverDead(ctx, target); err != nil {
		return nil, err
	}
	t, err := OpenTarget(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("opening the Windows lab host %s: %w", target, err)
	}
	resolved, err := checkAdapters(ctx, t.Host, f)
	if err != nil {
		t.Host.Close()
		return nil, err
	}
	l.ID, l.Fixture = "windows-"+t.Host.Name(), resolved
	if err := l.startJournal(ctx, target, t); err != nil {
		t.Host.Close()
		return nil, err
	}
	return l, nil
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
