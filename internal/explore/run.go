package explore

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/mirror"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// Options configure an exploration or a replay.
type Options struct {
	Lab    *fixtures.Lab // the lab topology (multihomed)
	Seed   uint64        // rapid's seed; 0 picks one from the clock (reported in Result)
	Steps  int           // step budget of the exploration (shrinking comes on top)
	MaxLen int           // longest sequence; default 12
	// Universe is what may change; its zero value is DefaultUniverse(Lab,
	// the host's mechanisms).
	Universe Universe
	// Inject starts the defect injectors on a lab (the lab under test and
	// the lab a repro script is checked in); nil starts none.
	Inject func(ctx context.Context, l *lab.Lab) (stop func() error, err error)
	// Prepare runs once on the lab under test before the mirror starts (for
	// example InstallBackground).
	Prepare func(ctx context.Context, l *lab.Lab) error
	// Ignore selects background routes the checks leave out (they are in
	// neither the host's expected nor its observed lines).
	Ignore   func(netcfg.Route) bool
	Progress io.Writer // progress lines; nil for none
	// Window is how long the mirror may stay quiet while it disagrees with
	// the expectation before a full dump reconciles it; default 50ms. The
	// kernel queues a change's notifications before it acknowledges the
	// change, so they are normally there at once.
	Window time.Duration
	// Settle is a quiet window closing each sequence before a last check,
	// for defects that act asynchronously after a step (the injectors);
	// default 0, or 50ms when Inject is set.
	Settle time.Duration
	Shrink time.Duration // rapid's shrink time bound before the minimize pass; default 20s
	// Rescan checks every step against a full dump instead of the mirror:
	// the naive baseline the mirror is measured against.
	Rescan bool
}

func (o *Options) defaults() {
	if o.MaxLen == 0 {
		o.MaxLen = 12
	}
	if o.Window == 0 {
		o.Window = 50 * time.Millisecond
	}
	if o.Settle == 0 && o.Inject != nil {
		o.Settle = 50 * time.Millisecond
	}
	if o.Shrink == 0 {
		o.Shrink = 20 * time.Second
	}
}

// Result is what an exploration found and what it cost.
type Result struct {
	Seed        uint64
	Steps       int // steps run while exploring (not shrinking)
	ShrinkSteps int // steps run while shrinking
	Sequences   int
	Elapsed     time.Duration // exploring only
	Failure     *Failure      // nil when every check passed
	Repro       Repro         // the minimal failing sequence (Failure != nil)
	OpError     error         // an operation failed instead of a check
	Reconciles  int           // full dumps taken because the mirror disagreed or lost events
	Oracle      OracleStats
	Mirror      mirror.Stats
	Log         string // rapid's own output
}

// StepsPerSecond is the exploration rate.
func (r *Result) StepsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Steps) / r.Elapsed.Seconds()
}

// Summary is a one-line account of the run.
func (r *Result) Summary() string {
	s := fmt.Sprintf("seed %d: %d steps in %d sequences, %.1fs, %.1f steps/s; oracle: %d configs (%d hits, %d deltas, %d fresh labs, %d corrections); mirror: %d events, %d reconciles",
		r.Seed, r.Steps, r.Sequences, r.Elapsed.Seconds(), r.StepsPerSecond(), r.Oracle.Misses, r.Oracle.Hits, r.Oracle.Learned, r.Oracle.Confirmations, r.Oracle.Corrections, r.Mirror.Events, r.Reconciles)
	if r.Failure != nil {
		s += fmt.Sprintf("; FAILED, shrunk to %d steps (%d shrink steps)", len(r.Repro.Ops), r.ShrinkSteps)
	}
	return s
}

// runner holds the labs of one exploration.
type runner struct {
	opts       Options
	lab        *lab.Lab     // the lab under test
	scratch    *lab.Lab     // bare lab the oracle measures element deltas on
	scratchSet mirror.Lines // its bare lines
	scratchM   *mirror.Mirror
	mirror     *mirror.Mirror
	oracle     *Oracle
	stops      []func() error // of the lab under test
	scratchOff func()
	config     Config // what the last sequence left on the lab under test
	dropped    int64
	reconciles int
}

// open builds the lab under test (prepared, injected, mirrored) and the
// oracle's scratch lab.
func open(ctx context.Context, opts Options) (*runner, error) {
	r := &runner{opts: opts}
	if err := r.build(ctx); err != nil {
		return nil, errors.Join(err, r.close())
	}
	return r, nil
}

func (r *runner) build(ctx context.Context) error {
	if err := r.buildScratch(ctx); err != nil {
		return err
	}
	return r.buildUnderTest(ctx)
}

// buildScratch builds the oracle's scratch lab and the oracle.
func (r *runner) buildScratch(ctx context.Context) error {
	var err error
	if r.scratch, err = lab.New(ctx, r.opts.Lab); err != nil {
		return fmt.Errorf("building the oracle's scratch lab: %w", err)
	}
	s, err := r.scratch.Host.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reading the bare lab: %w", err)
	}
	r.scratchSet = mirror.LinesOf(s, nil)
	r.scratchM = mirror.New(nil)
	stop, err := r.scratch.Host.Subscribe(ctx, r.scratchM.Apply)
	if err != nil {
		return fmt.Errorf("watching the scratch lab: %w", err)
	}
	r.scratchOff = stop
	if err := r.scratchM.Reload(ctx, r.scratch.Host); err != nil {
		return err
	}
	r.oracle = NewOracle(r.scratchSet, r.learn, r.fresh)
	return nil
}

func (r *runner) buildUnderTest(ctx context.Context) error {
	var err error
	if r.lab, err = lab.New(ctx, r.opts.Lab); err != nil {
		return fmt.Errorf("building the lab under test: %w", err)
	}
	if r.opts.Prepare != nil {
		if err := r.opts.Prepare(ctx, r.lab); err != nil {
			return fmt.Errorf("preparing the lab under test: %w", err)
		}
	}
	if r.opts.Inject != nil {
		stop, err := r.opts.Inject(ctx, r.lab)
		if err != nil {
			return err
		}
		r.stops = append(r.stops, stop)
	}
	r.mirror = mirror.New(r.opts.Ignore)
	stop, err := r.lab.Host.Subscribe(ctx, r.mirror.Apply)
	if err != nil {
		return fmt.Errorf("mirroring the lab under test: %w", err)
	}
	r.stops = append(r.stops, func() error { stop(); return nil })
	if err := r.mirror.Reload(ctx, r.lab.Host); err != nil {
		return err
	}
	r.dropped = dropped(r.lab.Host)
	if m, e := r.mirror.Lines().Diff(r.scratchSet); len(m)+len(e) > 0 {
		return fmt.Errorf("the lab under test differs from a bare lab at start:\n%s", diffText(m, e))
	}
	return nil
}

func (r *runner) closeUnderTest() error {
	var errs []error
	for i := len(r.stops) - 1; i >= 0; i-- {
		errs = append(errs, r.stops[i]())
	}
	r.stops = nil
	if r.lab != nil {
		errs = append(errs, r.lab.Close())
		r.lab = nil
	}
	return errors.Join(errs...)
}

func (r *runner) close() error {
	err := r.closeUnderTest()
	if r.scratchOff != nil {
		r.scratchOff()
	}
	if r.scratch != nil {
		err = errors.Join(err, r.scratch.Close())
	}
	return err
}

// dropped is the host's count of event-socket overflows (0 if it keeps none).
func dropped(h netcfg.Host) int64 {
	if d, ok := h.(interface{ Dropped() int64 }); ok {
		return d.Dropped()
	}
	return 0
}

// learn measures an element's delta on the scratch lab: apply it alone by
// netlink, dump, undo, and check the lab is bare again.
func (r *runner) learn(ctx context.Context, e Element) (Delta, error) {
	h := r.scratch.Host
	if err := apply(ctx, h, e.Op(true, netcfg.Netlink)); err != nil {
		return Delta{}, err
	}
	one, _ := Config{}.Apply(e.Op(true, netcfg.Netlink))
	waitReady(ctx, r.scratchM, one)
	s, err := h.Snapshot(ctx)
	if err != nil {
		return Delta{}, err
	}
	if err := apply(ctx, h, e.Op(false, netcfg.Netlink)); err != nil {
		return Delta{}, err
	}
	r.scratchM.WaitMatch(ctx, r.scratchSet, readyWindow)
	back, err := h.Snapshot(ctx)
	if err != nil {
		return Delta{}, err
	}
	if m, x := mirror.LinesOf(back, nil).Diff(r.scratchSet); len(m)+len(x) > 0 {
		return Delta{}, fmt.Errorf("the scratch lab did not return to bare after %s:\n%s", e, diffText(m, x))
	}
	return DeltaOf(r.scratchSet, mirror.LinesOf(s, nil)), nil
}

// readyWindow bounds the wait for the kernel's deferred work after a change.
const readyWindow = 2 * time.Second

// waitReady waits, on m's change events and at most readyWindow, until
// every address of c has its local route: IPv6 installs it from the
// address's DAD work (also with IFA_F_NODAD), after RTM_NEWADDR has been
// acknowledged, so a dump taken at once can miss it.
func waitReady(ctx context.Context, m *mirror.Mirror, c Config) {
	deadline := time.NewTimer(readyWindow)
	defer deadline.Stop()
	for {
		ch := m.Changed()
		if addressesReady(m.Lines(), c) {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// addressesReady reports whether every address of c has a `local` route.
func addressesReady(lines mirror.Lines, c Config) bool {
	have := map[netcfg.AddressSpec]bool{}
	for _, it := range lines {
		if rt := it.Route; rt != nil && rt.Type == "local" {
			have[netcfg.AddressSpec{Prefix: netip.PrefixFrom(rt.Dst.Addr(), rt.Dst.Addr().BitLen()), Interface: rt.Interface}] = true
		}
	}
	for _, e := range c.Elements() {
		if a := e.Address; a != nil && !have[netcfg.AddressSpec{Prefix: netip.PrefixFrom(a.Prefix.Addr(), a.Prefix.Addr().BitLen()), Interface: a.Interface}] {
			return false
		}
	}
	return true
}

// fresh builds a fresh lab, gives it c directly (canonical order, netlink),
// dumps it and tears it down: the oracle's ground truth.
func (r *runner) fresh(ctx context.Context, c Config) (mirror.Lines, error) {
	l, err := lab.New(ctx, r.opts.Lab)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	m := mirror.New(nil)
	stop, err := l.Host.Subscribe(ctx, m.Apply)
	if err != nil {
		return nil, err
	}
	defer stop()
	for _, e := range c.Canonical() {
		if err := apply(ctx, l.Host, e.Op(true, netcfg.Netlink)); err != nil {
			return nil, err
		}
	}
	waitReady(ctx, m, c)
	s, err := l.Host.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return mirror.LinesOf(s, nil), nil
}

// apply performs one operation on h.
func apply(ctx context.Context, h netcfg.Host, o Op) error {
	e := o.Element()
	switch o.Kind {
	case AddAddress:
		return h.AddAddress(ctx, o.Mechanism, *e.Address)
	case DeleteAddress:
		return h.DeleteAddress(ctx, o.Mechanism, *e.Address)
	case AddRoute:
		return h.AddRoute(ctx, o.Mechanism, *e.Route)
	}
	return h.DeleteRoute(ctx, o.Mechanism, *e.Route)
}

// reset brings the lab under test back to bare: it deletes the main-table
// routes and the addresses the bare lab does not have, waits for the mirror
// to show the bare lines, and rebuilds the lab if they do not come back.
func (r *runner) reset(ctx context.Context) error {
	h := r.lab.Host
	// Undo the last sequence in the order it added things (FIFO, KB287032's
	// workaround), then sweep whatever else is left.
	// Errors here are not final: the sweep and, failing it, a rebuild follow.
	for _, e := range r.config.Elements() {
		_ = apply(ctx, h, e.Op(false, netcfg.Netlink))
	}
	r.config = Config{}
	if r.mirror.WaitMatch(ctx, r.scratchSet, r.opts.Window) {
		return nil
	}
	have := r.mirror.Lines()
	_, extra := have.Diff(r.scratchSet)
	for _, k := range extra {
		it := have[k]
		if rt := it.Route; rt != nil && rt.Store == netcfg.StoreActive && (rt.Table == "" || rt.Table == "main") && (rt.Type == "" || rt.Type == "unicast") {
			spec := netcfg.RouteSpec{Dst: rt.Dst, Gateway: rt.Gateway, Interface: rt.Interface, Metric: rt.Metric}
			if err := h.DeleteRoute(ctx, netcfg.Netlink, spec); err != nil && !errors.Is(err, netcfg.ErrNotFound) {
				return fmt.Errorf("resetting the lab: %w", err)
			}
		}
	}
	for _, k := range extra {
		if a := have[k].Address; a != nil {
			spec := netcfg.AddressSpec{Prefix: a.Prefix, Interface: a.Interface}
			if err := h.DeleteAddress(ctx, netcfg.Netlink, spec); err != nil && !errors.Is(err, netcfg.ErrNotFound) {
				return fmt.Errorf("resetting the lab: %w", err)
			}
		}
	}
	if r.mirror.WaitMatch(ctx, r.scratchSet, r.opts.Window) {
		return nil
	}
	r.reconciles++
	if err := r.mirror.Reload(ctx, h); err != nil {
		return err
	}
	if r.mirror.Matches(r.scratchSet) {
		return nil
	}
	r.progress("explore: the lab under test did not return to bare; rebuilding it:\n%s", diffText(r.mirror.Lines().Diff(r.scratchSet)))
	if err := r.closeUnderTest(); err != nil {
		return err
	}
	return r.buildUnderTest(ctx)
}

// check compares the lab under test with the oracle after a step: the
// mirror must show the expected lines within the window; if not, a full
// dump reconciles the mirror, and a predicted expectation is confirmed on a
// fresh lab, before a failure is declared.
func (r *runner) check(ctx context.Context, step int, op Op, c Config) (*Failure, error) {
	want, confirmed, err := r.oracle.Expect(ctx, c)
	if err != nil {
		return nil, err
	}
	if d := dropped(r.lab.Host); d != r.dropped {
		r.dropped = d
		r.reconciles++
		if err := r.mirror.Reload(ctx, r.lab.Host); err != nil {
			return nil, err
		}
	}
	if r.opts.Rescan {
		waitReady(ctx, r.mirror, c)
		if err := r.mirror.Reload(ctx, r.lab.Host); err != nil {
			return nil, err
		}
	}
	if r.mirror.WaitMatch(ctx, want, r.opts.Window) {
		return nil, nil
	}
	// Reconcile: a full dump, after giving deferred kernel work (IPv6 local
	// routes) a longer quiet window to show.
	r.mirror.WaitMatch(ctx, want, confirmWindow)
	r.reconciles++
	if err := r.mirror.Reload(ctx, r.lab.Host); err != nil {
		return nil, err
	}
	if r.mirror.Matches(want) {
		return nil, nil
	}
	if !confirmed {
		if want, err = r.oracle.Confirm(ctx, c); err != nil {
			return nil, err
		}
		if r.mirror.Matches(want) {
			return nil, nil
		}
	}
	have := r.mirror.Lines()
	missing, extra := have.Diff(want)
	f := &Failure{Step: step, Op: op, Config: c, Missing: missing, Extra: extra, Want: want, Have: have, Confirmed: true}
	if step > 0 {
		if f.Problems, err = r.oracle.StepProblems(ctx, op, c, want, have); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// confirmWindow is the quiet window a mismatch must outlast before the
// mirror is reconciled with a full dump.
const confirmWindow = 200 * time.Millisecond

// sequence runs ops from the bare lab, checking after every step and once
// more after the lab has been quiet for Settle. It returns the first
// failure, or an error when an operation fails.
func (r *runner) sequence(ctx context.Context, ops []Op, count func()) (*Failure, error) {
	if err := r.reset(ctx); err != nil {
		return nil, err
	}
	var c Config
	for i, o := range ops {
		next, err := c.Apply(o)
		if err != nil {
			return nil, err
		}
		c = next
		r.config = c
		if err := apply(ctx, r.lab.Host, o); err != nil {
			return nil, &OpError{Step: i + 1, Op: o, Err: err}
		}
		count()
		if f, err := r.check(ctx, i+1, o, c); f != nil || err != nil {
			return f, err
		}
	}
	r.mirror.Quiet(ctx, r.opts.Settle)
	return r.check(ctx, 0, ops[len(ops)-1], c)
}

// OpError is an operation the host refused during a sequence.
type OpError struct {
	Step int
	Op   Op
	Err  error
}

func (e *OpError) Error() string { return fmt.Sprintf("step %d (%s): %v", e.Step, e.Op, e.Err) }
func (e *OpError) Unwrap() error { return e.Err }

func (r *runner) progress(format string, args ...any) {
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, format+"\n", args...)
	}
}

func (r *runner) universe() (Universe, error) {
	if len(r.opts.Universe.Addresses)+len(r.opts.Universe.Routes) > 0 {
		return r.opts.Universe, nil
	}
	return DefaultUniverse(r.opts.Lab, r.lab.Host.Capabilities().Mechanisms)
}

// Explore runs rapid over operation sequences on a fresh lab until the step
// budget is spent or a check fails; a failure is shrunk to a minimal
// sequence (Result.Repro).
func Explore(ctx context.Context, opts Options) (*Result, error) {
	opts.defaults()
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	r, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer r.close()
	u, err := r.universe()
	if err != nil {
		return nil, err
	}
	res := &Result{Seed: opts.Seed, Repro: Repro{Lab: opts.Lab.Name, Seed: opts.Seed}}
	var (
		failing   bool
		start     = time.Now()
		lastPrint = start
		gen       = Sequences(u, opts.MaxLen)
	)
	count := func() {
		if failing {
			res.ShrinkSteps++
			return
		}
		res.Steps++
		if time.Since(lastPrint) >= 2*time.Second || res.Steps == opts.Steps {
			lastPrint = time.Now()
			el := time.Since(start)
			r.progress("explore: %d/%d steps, %d sequences, %.1f steps/s, %d configs cached, %d reconciles",
				res.Steps, opts.Steps, res.Sequences, float64(res.Steps)/el.Seconds(), r.oracle.Configs(), r.reconciles)
		}
	}
	const (
		tablesDiffer = "the host's tables differ from a fresh lab given the same configuration"
		opFailed     = "an operation failed"
	)
	prop := func(t *rapid.T) {
		if !failing && res.Steps >= opts.Steps {
			return // budget spent: the remaining checks pass trivially
		}
		ops := gen.Draw(t, "ops")
		if !failing {
			res.Sequences++
		}
		f, err := r.sequence(ctx, ops, count)
		var oe *OpError
		switch {
		case errors.As(err, &oe):
			if !failing {
				res.Elapsed = time.Since(start)
			}
			failing = true
			res.Failure, res.OpError, res.Repro.Ops = nil, oe, ops
			t.Fatal(opFailed)
		case err != nil:
			panic(err) // lab trouble, not a finding: rapid reports it and Explore returns it
		case f != nil:
			if !failing {
				res.Elapsed = time.Since(start)
				r.progress("explore: failure after %d steps; shrinking", res.Steps)
			}
			failing = true
			res.Failure, res.OpError, res.Repro.Ops, res.Repro.Failure = f, nil, ops, f
			t.Fatal(tablesDiffer)
		}
	}
	log, err := runRapid(opts, prop)
	res.Log = log
	if !failing {
		res.Elapsed = time.Since(start)
	}
	if err == nil && res.Failure != nil {
		r.progress("explore: rapid shrank it to %d steps; dropping steps that do not matter", len(res.Repro.Ops))
		ops, f, merr := r.minimize(ctx, res.Repro.Ops, res.Failure, count)
		if merr != nil {
			return res, fmt.Errorf("minimizing the failing sequence: %w", merr)
		}
		res.Repro.Ops, res.Failure, res.Repro.Failure = ops, f, f
	}
	res.Reconciles, res.Oracle, res.Mirror = r.reconciles, r.oracle.Stats(), r.mirror.Stats()
	if err != nil {
		return res, err
	}
	if res.Failure == nil && res.OpError == nil && strings.Contains(log, "panic") {
		return res, fmt.Errorf("exploring: %s", log)
	}
	return res, nil
}

// Replay runs one sequence on a fresh lab and reports its first failure.
func Replay(ctx context.Context, opts Options, ops []Op) (*Result, error) {
	opts.defaults()
	r, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer r.close()
	res := &Result{Seed: opts.Seed, Repro: Repro{Lab: opts.Lab.Name, Seed: opts.Seed, Ops: ops}}
	start := time.Now()
	f, err := r.sequence(ctx, ops, func() { res.Steps++ })
	res.Elapsed = time.Since(start)
	res.Sequences = 1
	res.Reconciles, res.Oracle, res.Mirror = r.reconciles, r.oracle.Stats(), r.mirror.Stats()
	var oe *OpError
	switch {
	case errors.As(err, &oe):
		res.OpError = oe
	case err != nil:
		return res, err
	}
	res.Failure, res.Repro.Failure = f, f
	return res, nil
}

var rapidMu sync.Mutex // rapid's settings are process-wide flags

// runRapid runs rapid.Check with the options' seed and budget through a
// recording TB. rapid reads its settings from the process's flags
// (-rapid.seed, -rapid.checks, ...) and calls testing.Short, which needs
// testing.Init and parsed flags: outside a test binary, runRapid provides
// both.
func runRapid(opts Options, prop func(*rapid.T)) (string, error) {
	rapidMu.Lock()
	defer rapidMu.Unlock()
	if flag.Lookup("test.short") == nil {
		testing.Init()
	}
	if !flag.Parsed() {
		if err := flag.CommandLine.Parse(nil); err != nil {
			return "", err
		}
	}
	for k, v := range map[string]string{
		"rapid.seed":       strconv.FormatUint(opts.Seed, 10),
		"rapid.checks":     strconv.Itoa(max(opts.Steps, 1)),
		"rapid.nofailfile": "true",
		"rapid.shrinktime": opts.Shrink.String(),
		"rapid.v":          "false",
	} {
		old := flag.Lookup(k).Value.String()
		if err := flag.Set(k, v); err != nil {
			return "", fmt.Errorf("setting -%s: %w", k, err)
		}
		defer flag.Set(k, old)
	}
	tb := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rapid.Check(tb, prop)
	}()
	<-done
	return tb.String(), nil
}

// recorder is the rapid.TB of an exploration: it records rapid's output
// and ends the checking goroutine on FailNow as testing.T does.
type recorder struct {
	mu     sync.Mutex
	b      strings.Builder
	failed bool
}

func (t *recorder) Helper()        {}
func (t *recorder) Name() string   { return "explore" }
func (t *recorder) Log(a ...any)   { t.Logf("%s", fmt.Sprint(a...)) }
func (t *recorder) Error(a ...any) { t.Errorf("%s", fmt.Sprint(a...)) }
func (t *recorder) Fatal(a ...any) { t.Fatalf("%s", fmt.Sprint(a...)) }
func (t *recorder) Skip(a ...any)  { t.Log(a...); t.SkipNow() }
func (t *recorder) SkipNow()       { runtime.Goexit() }
func (t *recorder) Fail()          { t.mu.Lock(); t.failed = true; t.mu.Unlock() }
func (t *recorder) FailNow()       { t.Fail(); runtime.Goexit() }
func (t *recorder) Failed() bool   { t.mu.Lock(); defer t.mu.Unlock(); return t.failed }
func (t *recorder) Skipf(format string, a ...any) {
	t.Logf(format, a...)
	t.SkipNow()
}
func (t *recorder) Logf(format string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(&t.b, format+"\n", a...)
}
func (t *recorder) Errorf(format string, a ...any) { t.Logf(format, a...); t.Fail() }
func (t *recorder) Fatalf(format string, a ...any) { t.Errorf(format, a...); t.FailNow() }
func (t *recorder) String() string                 { t.mu.Lock(); defer t.mu.Unlock(); return t.b.String() }

func diffText(missing, extra []string) string {
	var b strings.Builder
	for _, l := range missing {
		fmt.Fprintf(&b, "  - %s\n", l)
	}
	for _, l := range extra {
		fmt.Fprintf(&b, "  + %s\n", l)
	}
	return b.String()
}

// Background is the range of the benchmark's background routes.
var Background = netip.MustParsePrefix("198.18.0.0/15")

// IsBackground selects routes inside Background.
func IsBackground(r netcfg.Route) bool {
	return Background.Overlaps(r.Dst) && r.Dst.Bits() >= Background.Bits()
}

// LabOracle is the explorer's oracle with its scratch lab, for suites that
// drive their own lab: Expect predicts a configuration's lines, Confirm
// measures them on a fresh lab, StepProblems checks a step's own routes.
type LabOracle struct {
	*Oracle
	r *runner
}

// NewLabOracle builds the scratch lab of fixture f and its oracle.
func NewLabOracle(ctx context.Context, f *fixtures.Lab) (*LabOracle, error) {
	r := &runner{opts: Options{Lab: f}}
	if err := r.buildScratch(ctx); err != nil {
		return nil, errors.Join(err, r.close())
	}
	return &LabOracle{Oracle: r.oracle, r: r}, nil
}

// Close tears the scratch lab down.
func (o *LabOracle) Close() error { return o.r.close() }
