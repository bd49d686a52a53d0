// Package framework is what every kbharness suite stands on: it builds the
// namespace lab for a spec (or attaches to an existing host), records every
// change event into a timeline tagged with the running step, undoes every
// change from the lab's journal when the spec ends, starts the requested
// defect injectors (in labs it built only), and on failure prints the
// normalised before/after tables, their diff and the timeline.
package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/netcfg/target"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

// Env is one spec's environment.
type Env struct {
	Lab      *lab.Lab
	Host     netcfg.Host
	Fixture  *fixtures.Lab
	Timeline *netcfg.Timeline
	Start    *netcfg.Snapshot // the start point, taken when the lab was ready
}

// NewEnv builds the lab named labFixture ("default", "multihomed", or a
// file) for the running spec, or opens -kb.target (netns:NAME attaches to
// a namespace; ssh://, winrm://, psdirect:// reach a remote host). On Windows the lab
// is this machine's adapters the fixture names (see lab.New). Call it from a
// BeforeEach or an It. It skips the spec, with the reason, where a lab
// cannot be had, and registers the teardown and the failure diagnostics.
func NewEnv(labFixture string) *Env {
	GinkgoHelper()
	if TargetDialect() == netcfg.DialectLinux {
		requireRoot()
	}
	f, err := LoadLab(labFixture)
	Expect(err).NotTo(HaveOccurred())

	ctx := context.Background()
	var l *lab.Lab
	switch t := Options.Target; {
	case t == "" || t == target.Local:
		l, err = lab.New(ctx, f)
	case strings.HasPrefix(t, target.Netns):
		l, err = lab.Attach(ctx, strings.TrimPrefix(t, target.Netns), f)
	default:
		l, err = lab.Open(ctx, t, f)
	}
	if errors.Is(err, netcfg.ErrUnsupported) {
		Skip(err.Error())
	}
	Expect(err).NotTo(HaveOccurred(), "building lab %q", f.Name)
	DeferCleanup(l.Close)
	for _, r := range l.Recovered {
		fmt.Fprintf(GinkgoWriter, "recovered a dead run's changes: %s", r)
		AddReportEntry("recovered a dead run's changes", r.String())
	}

	e := &Env{Lab: l, Host: l.Host, Fixture: f, Timeline: netcfg.NewTimeline()}
	stop, err := l.Host.Subscribe(ctx, e.Timeline.Record)
	Expect(err).NotTo(HaveOccurred(), "subscribing to change events in %s", l.Host.Name())
	DeferCleanup(stop)

	for _, name := range Injectors() {
		stopInjector, err := inject.Start(ctx, name, l)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(stopInjector)
		AddReportEntry("injector", name)
	}

	e.Start = e.Snapshot()
	e.Timeline.Step("start point")
	// Registered last, so it runs first, while the lab and every change
	// still exist: diagnostics see the state the spec failed in.
	DeferCleanup(e.teardown)
	return e
}

// teardown dumps the diagnostics of a failed spec, then undoes the spec's
// changes from the lab's journal, newest first (also when the spec failed
// or was interrupted). On a host kbharness did not build it fails if the
// host is not back at its baseline.
func (e *Env) teardown(ctx context.Context) error {
	e.dumpOnFailure()
	e.Timeline.Step("teardown")
	return e.Lab.Undo(ctx)
}

// LoadLab loads a lab fixture by name or path, preferring NAME.yaml in
// -kb.lab-dir when that is set.
func LoadLab(nameOrPath string) (*fixtures.Lab, error) {
	if Options.LabDir != "" && !strings.ContainsAny(nameOrPath, `/\`) && !strings.HasSuffix(nameOrPath, ".yaml") {
		p := filepath.Join(Options.LabDir, nameOrPath+".yaml")
		if _, err := os.Stat(p); err == nil {
			return fixtures.LoadLab(p)
		}
	}
	return fixtures.LoadLab(nameOrPath)
}

// Step starts a scenario phase: Ginkgo's By, and the timeline's step marker
// so that events show which phase they happened in.
func (e *Env) Step(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	By(text)
	e.Timeline.Step(text)
}

// Snapshot takes a snapshot of the host under test.
func (e *Env) Snapshot() *netcfg.Snapshot {
	GinkgoHelper()
	s, err := e.Host.Snapshot(context.Background())
	Expect(err).NotTo(HaveOccurred(), "taking a snapshot of %s", e.Host.Name())
	return s
}

// RecordUndo journals a command that undoes a change made outside Host (a
// setting such as the dynamic port range) before the change is made; it
// runs on the lab's host when the spec ends, also after a crash.
func (e *Env) RecordUndo(undoes string, argv []string) error {
	return e.Lab.Journal().Record(journal.Op{Kind: journal.Run, Argv: argv, Undoes: undoes})
}

// RequireBuiltLab skips the spec on a host kbharness did not build (an
// attached namespace, a Windows lab VM), saying what it needs.
func (e *Env) RequireBuiltLab(needs string) {
	if !e.Lab.Owned() {
		Skip(fmt.Sprintf("needs %s: only labs kbharness builds have them, not %s", needs, e.Lab.ID))
	}
}

// RequireLocalHost skips the spec on a remote host (Lab.Remote), which
// only commands reach: what it needs runs in-process on the host.
func (e *Env) RequireLocalHost(needs string) {
	if e.Lab.Remote() {
		Skip(fmt.Sprintf("needs %s on the host itself; %s is reached only by commands", needs, Options.Target))
	}
}

// RequireMechanism skips the spec when the host cannot use m.
func (e *Env) RequireMechanism(m netcfg.Mechanism) {
	if c := e.Host.Capabilities(); !c.Has(m) {
		Skip(fmt.Sprintf("mechanism %s unsupported on this host: %s", m, c.Why(m)))
	}
}

// FirstMechanism is the first of ms the host can use (a remote Linux host
// has iproute2, not netlink); it skips the spec when there is none.
func (e *Env) FirstMechanism(ms []netcfg.Mechanism) netcfg.Mechanism {
	c := e.Host.Capabilities()
	for _, m := range ms {
		if c.Has(m) {
			return m
		}
	}
	Skip(fmt.Sprintf("none of the mechanisms %v works on this host", ms))
	return ""
}

// AddAddress adds an address by mechanism m; the lab's journal undoes it
// when the spec ends.
func (e *Env) AddAddress(m netcfg.Mechanism, a netcfg.AddressSpec) {
	GinkgoHelper()
	e.RequireMechanism(m)
	Expect(e.Host.AddAddress(context.Background(), m, a)).To(Succeed())
}

// DeleteAddress deletes an address by mechanism m.
func (e *Env) DeleteAddress(m netcfg.Mechanism, a netcfg.AddressSpec) {
	GinkgoHelper()
	e.RequireMechanism(m)
	Expect(e.Host.DeleteAddress(context.Background(), m, a)).To(Succeed())
}

// AddRoute adds a route by mechanism m; the lab's journal undoes it when
// the spec ends.
func (e *Env) AddRoute(m netcfg.Mechanism, r netcfg.RouteSpec) {
	GinkgoHelper()
	e.RequireMechanism(m)
	Expect(e.Host.AddRoute(context.Background(), m, r)).To(Succeed())
}

// DeleteRoute deletes a route by mechanism m.
func (e *Env) DeleteRoute(m netcfg.Mechanism, r netcfg.RouteSpec) {
	GinkgoHelper()
	e.RequireMechanism(m)
	Expect(e.Host.DeleteRoute(context.Background(), m, r)).To(Succeed())
}

// WaitFor waits, fed by change notifications, until check passes or the
// window ends; it returns check's last error.
func (e *Env) WaitFor(window time.Duration, check func(*netcfg.Snapshot) error) error {
	deadline := time.NewTimer(window)
	defer deadline.Stop()
	for {
		changed := e.Timeline.Changed()
		err := check(e.Snapshot())
		if err == nil {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return check(e.Snapshot())
		}
	}
}

// dumpOnFailure prints and attaches to the report the normalised tables at
// the start point and now, their diff and the event timeline.
func (e *Env) dumpOnFailure() {
	if !CurrentSpecReport().Failed() {
		return
	}
	now, err := e.Host.Snapshot(context.Background())
	var b strings.Builder
	fmt.Fprintf(&b, "host %s, lab %s\n", e.Host.Name(), e.Lab.ID)
	fmt.Fprintf(&b, "--- at the start point:\n%s", e.Start)
	if err != nil {
		fmt.Fprintf(&b, "--- now: snapshot failed: %v\n", err)
	} else {
		fmt.Fprintf(&b, "--- now:\n%s", now)
		fmt.Fprintf(&b, "--- diff %s", netcfg.Diff(e.Start, now).Explain("the start point", "the host now"))
	}
	fmt.Fprintf(&b, "--- event timeline:\n%s", e.Timeline)
	fmt.Fprint(GinkgoWriter, b.String())
	AddReportEntry("network state at failure", b.String())
}
