//go:build windows

package lab

import (
	"context"
	"errors"
	"fmt"

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
func New(ctx context.Context, f *fixtures.Lab) (*Lab, error) { return openHost(ctx, localTarget, f) }

// LocalDialect is the dialect of the lab New opens here: this Windows
// machine.
const LocalDialect = netcfg.DialectWindows

// localTarget names this machine in journals.
const localTarget = "local"

// openLocalTarget opens "local", this machine, with every mechanism, and
// commands run by exec.
func openLocalTarget(ctx context.Context, target string) (*journal.Target, error) {
	if target != localTarget {
		return nil, fmt.Errorf("opening target %q: not a target of this host (want %s)", target, localTarget)
	}
	h, err := winhost.OpenLocal(netcfg.Exec)
	if err != nil {
		return nil, err
	}
	return &journal.Target{Host: h, Run: netcfg.Exec}, nil
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

// Do runs fn for the host role of a lab on this machine: Windows labs
// have one host.
func (l *Lab) Do(role string, fn func() error) error {
	if l.Remote() {
		return netcfg.Unsupported("running in-process on "+l.ID, "the host is remote: only its commands reach it (Exec)")
	}
	if role != HostRole {
		return netcfg.Unsupported("lab role "+role, "a Windows lab has only the host role")
	}
	return fn()
}

// Exec runs argv on the host for the host role: this machine, or the
// remote host through its transport.
func (l *Lab) Exec(ctx context.Context, role string, argv ...string) ([]byte, error) {
	if role != HostRole {
		return nil, netcfg.Unsupported("lab role "+role, "a Windows lab has only the host role")
	}
	r := netcfg.Exec
	if l.Remote() {
		r = l.remote
	}
	out, err := r.Run(ctx, argv)
	return out.Combined(), err
}

// List, Cleanup and Down find nothing: Windows labs leave no namespaces.
func List() ([]Info, error)                         { return nil, nil }
func Cleanup(ctx context.Context) ([]string, error) { return nil, nil }
func Down(ctx context.Context, id string) ([]string, error) {
	return nil, fmt.Errorf("no lab %s: Windows labs are not built by kbharness", id)
}
