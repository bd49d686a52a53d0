package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/internal/standin"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
	"github.com/kbharness/kbharness/netcfg/target"
	"github.com/kbharness/kbharness/netcfg/winhost"
)

// StandinScheme starts a target that is a Windows-dialect host reached
// through the command stand-ins' server (cmd/kbh-standin) at ADDR:
// "standin://127.0.0.1:PORT". Any OS can drive it; it is how the Windows
// suites run against a real kernel without Windows or Wine.
const StandinScheme = "standin://"

// IsRemote reports a target reached over a transport (see package
// netcfg/target) or the stand-ins, rather than on this machine.
func IsRemote(t string) bool {
	for _, p := range []string{StandinScheme, target.SSH, target.WinRM, target.PSDirect} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// OpenTarget opens a target by URL as a journal target (its host and
// its command runner): "netns:NAME" on Linux and "local" on Windows on this
// machine; ssh://, winrm://, psdirect:// (settings from target.Default)
// and standin:// anywhere. A remote host is driven by commands only, in the
// dialect its probe found (linuxhost.OpenCommands, winhost.OpenCommands).
func OpenTarget(ctx context.Context, t string) (*journal.Target, error) {
	switch {
	case strings.HasPrefix(t, StandinScheme):
		return openStandin(ctx, t)
	case IsRemote(t):
		return openRemote(ctx, t, 0)
	}
	return openLocalTarget(ctx, t)
}

// openStandin opens a StandinScheme target: its command host, and commands
// run through the stand-ins.
func openStandin(ctx context.Context, t string) (*journal.Target, error) {
	addr := strings.TrimPrefix(t, StandinScheme)
	r := standin.Runner(addr)
	h, err := winhost.OpenCommands(ctx, "standin-"+addr, r, 0)
	if err != nil {
		return nil, err
	}
	return &journal.Target{Host: h, Run: r}, nil
}

// openRemote connects to a transport target, probes it and opens its host
// in the probed dialect, polled every poll (0: target.Default's; the URL's
// ?poll= wins). Closing the host closes the connection.
func openRemote(ctx context.Context, t string, poll time.Duration) (*journal.Target, error) {
	conn, err := target.Open(ctx, t, target.Default)
	if err != nil {
		return nil, err
	}
	settings := target.Default
	if poll != 0 {
		settings.Poll = poll
	}
	poll, err = settings.PollFor(conn.URL)
	if err != nil {
		conn.Close()
		return nil, err
	}
	var h netcfg.Host
	if conn.Dialect() == netcfg.DialectWindows {
		h, err = winhost.OpenCommands(ctx, conn.URL.Host, conn, poll)
	} else {
		h, err = linuxhost.OpenCommands(ctx, conn.URL.Host, conn, poll)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s (%s): %w", t, conn.Info, err)
	}
	return &journal.Target{Host: connHost{h, conn}, Run: conn}, nil
}

// connHost closes its connection with the host.
type connHost struct {
	netcfg.Host
	conn *target.Conn
}

func (h connHost) Close() error { return errors.Join(h.Host.Close(), h.conn.Close()) }

// Open opens the lab on a remote target named by URL (IsRemote): a host
// kbharness did not build. Namespaces are attached with Attach; this
// Windows machine is New on Windows.
func Open(ctx context.Context, t string, f *fixtures.Lab) (*Lab, error) {
	if !IsRemote(t) {
		return nil, fmt.Errorf("target %q: not a remote target (known: %s, %sHOST:PORT)", t, target.Known, StandinScheme)
	}
	return openHost(ctx, t, f)
}

// openHost opens a host kbharness did not build as the lab: this Windows
// machine ("local") or one reached by commands. Dead runs' journals for the
// target are replayed first (see Recovered); the fixture's adapters are
// found by name or MAC and checked (checkAdapters); every change goes
// through a durable journal, undone by Undo and Close with a baseline
// check. A Linux host gets the fixture addresses it lacks added through
// the journal (as Attach does); a Windows host must have them (run-vm.ps1
// assigns them). A fixture with routes is refused (ErrRoutesNotBuilt).
func openHost(ctx context.Context, t string, f *fixtures.Lab) (*Lab, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("lab %s on %s: %w", f.Name, t, err)
	}
	if err := refuseRoutes(f, t); err != nil {
		return nil, err
	}
	l := &Lab{ID: t, Fixture: f, Namespaces: map[string]string{}}
	if !IsRemote(t) {
		l.Namespaces[HostRole] = ""
	}
	if err := l.recoverDead(ctx, t); err != nil {
		return nil, err
	}
	var jt *journal.Target
	var err error
	if IsRemote(t) && !strings.HasPrefix(t, StandinScheme) {
		jt, err = openRemote(ctx, t, f.Poll)
	} else {
		jt, err = OpenTarget(ctx, t)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the lab host %s: %w", t, err)
	}
	if IsRemote(t) {
		l.remote = jt.Run
	}
	dialect := jt.Host.Capabilities().Dialect
	resolved, err := checkAdapters(ctx, jt.Host, f, dialect == netcfg.DialectWindows)
	if err != nil {
		jt.Host.Close()
		return nil, err
	}
	l.ID, l.Fixture = string(dialect)+"-"+jt.Host.Name(), resolved
	if err := l.startJournal(ctx, t, jt); err != nil {
		jt.Host.Close()
		return nil, err
	}
	if dialect == netcfg.DialectLinux {
		if err := l.addMissingAddresses(ctx); err != nil {
			return nil, errors.Join(err, l.finish(ctx), jt.Host.Close())
		}
	}
	return l, nil
}

// addMissingAddresses adds, through the journal, the fixture addresses the
// baseline lacks, by the host's first address mechanism.
func (l *Lab) addMissingAddresses(ctx context.Context) error {
	caps := l.Host.Capabilities()
	for _, k := range l.Fixture.Links {
		for _, p := range k.Addresses {
			if l.journal.Baseline().HasAddress(p) {
				continue
			}
			m, ok := firstMechanism(caps, caps.Dialect.AddressMechanisms())
			if !ok {
				return fmt.Errorf("adding the fixture address %s on %s: no address mechanism works on %s", p, k.Interface, l.Host.Name())
			}
			if err := l.Host.AddAddress(ctx, m, netcfg.AddressSpec{Prefix: p, Interface: k.Interface}); err != nil {
				return err
			}
		}
	}
	return nil
}

func firstMechanism(c netcfg.Capabilities, ms []netcfg.Mechanism) (netcfg.Mechanism, bool) {
	for _, m := range ms {
		if c.Has(m) {
			return m, true
		}
	}
	return "", false
}

// checkAdapters finds every fixture link's adapter on h (by MAC, else by
// name), refuses one that carries the host's default route unless the
// fixture allows it, and, with needAddresses, requires the fixture's
// addresses on it. It returns the fixture with each link's interface
// resolved to the adapter's name.
func checkAdapters(ctx context.Context, h netcfg.Host, f *fixtures.Lab, needAddresses bool) (*fixtures.Lab, error) {
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
			if needAddresses && !snap.HasAddress(p) {
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

// ErrRoutesNotBuilt refuses a fixture with routes on a host kbharness did
// not build (an attached namespace, the Windows lab VM, a remote target):
// a fixture's routes are installed only in labs New builds, and a host we
// did not build is changed no further than a spec changes it.
var ErrRoutesNotBuilt = errors.New("a lab fixture's routes are built only in namespace labs kbharness builds")

// refuseRoutes returns ErrRoutesNotBuilt, naming the target, when f has
// routes.
func refuseRoutes(f *fixtures.Lab, target string) error {
	if len(f.Routes) == 0 {
		return nil
	}
	return fmt.Errorf("lab %s on %s: %d routes: %w; build it with lab.New (kbharness lab up --fixture), or drop routes: to use this host", f.Name, target, len(f.Routes), ErrRoutesNotBuilt)
}
