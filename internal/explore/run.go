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

// runner holds the labs of one exploration: the lab under test (lab.go)
// and the reference with its scratch lab (oracle.go).
type runner struct {
	opts       Options
	ref        *FreshLabs     // the oracle: deltas learned on a bare scratch lab, confirmed by fresh labs
	lab        *lab.Lab       // the lab under test
	under      *watched       // the lab under test's host with its event-fed normal form
	stops      []func() error // of the lab under test
	config     Config         // what the last sequence left on the lab under test
	dropped    int64
	reconciles int
}

// open builds the oracle's scratch lab and the lab under test (prepared,
// injected, mirrored).
func open(ctx context.Context, opts Options) (*runner, error) {
	r := &runner{opts: opts}
	var err error
	if r.ref, err = NewFreshLabs(ctx, opts.Lab); err != nil {
		return nil, err
	}
	if err := r.buildUnderTest(ctx); err != nil {
		return nil, errors.Join(err, r.close())
	}
	return r, nil
}

func (r *runner) close() error {
	err := r.closeUnderTest()
	if r.ref != nil {
		err = errors.Join(err, r.ref.Close())
	}
	return err
}

// check compares the lab under test with the oracle after a step: the
// mirror must show the expected lines within the window; if not, a full
// dump reconciles the mirror, and a predicted expectation is confirmed on a
// fresh lab, before a failure is declared.
func (r *runner) check(ctx context.Context, step int, op Op, c Config) (*Failure, error) {
	want, confirmed, err := r.ref.Expect(ctx, c)
	if err != nil {
		return nil, err
	}
	if d := dropped(r.lab.Host); d != r.dropped {
		r.dropped = d
		r.reconciles++
		if err := r.under.mirror.Reload(ctx, r.lab.Host); err != nil {
			return nil, err
		}
	}
	if r.opts.Rescan {
		r.under.waitReady(ctx, c)
		if err := r.under.mirror.Reload(ctx, r.lab.Host); err != nil {
			return nil, err
		}
	}
	if r.under.mirror.WaitMatch(ctx, want, r.opts.Window) {
		return nil, nil
	}
	// Reconcile: a full dump, after giving deferred kernel work (IPv6 local
	// routes) a longer quiet window to show.
	r.under.mirror.WaitMatch(ctx, want, confirmWindow)
	r.reconciles++
	if err := r.under.mirror.Reload(ctx, r.lab.Host); err != nil {
		return nil, err
	}
	if r.under.mirror.Matches(want) {
		return nil, nil
	}
	if !confirmed {
		if want, err = r.ref.Confirm(ctx, c); err != nil {
			return nil, err
		}
		if r.under.mirror.Matches(want) {
			return nil, nil
		}
	}
	have := r.under.mirror.Lines()
	f := &Failure{Step: step, Op: op, Config: c, Diff: want.Diff(have), Want: want, Have: have, Reference: r.ref.String(), Confirmed: true}
	if step > 0 {
		if f.Problems, err = StepProblems(ctx, r.ref, &op, c, want, have); err != nil {
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
	r.under.mirror.Quiet(ctx, r.opts.Settle)
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
				res.Steps, opts.Steps, res.Sequences, float64(res.Steps)/el.Seconds(), r.ref.Configs(), r.reconciles)
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
	res.Reconciles, res.Oracle, res.Mirror = r.reconciles, r.ref.Stats(), r.under.mirror.Stats()
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
	res.Reconciles, res.Oracle, res.Mirror = r.reconciles, r.ref.Stats(), r.under.mirror.Stats()
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

// Background is the range of the benchmark's background routes.
var Background = netip.MustParsePrefix("198.18.0.0/15")

// IsBackground selects routes inside Background.
func IsBackground(r netcfg.Route) bool {
	return Background.Overlaps(r.Dst) && r.Dst.Bits() >= Background.Bits()
}

// Failure is what the explorer saw when a check failed.
type Failure struct {
	Step      int                 // 1-based index of the step after which the check failed; 0 for the final settle check
	Op        Op                  // that step's operation
	Config    Config              // the configuration expected after it
	Diff      netcfg.SnapshotDiff // the reference's lines (-) against the host's (+)
	Problems  []string            // the step's own expectation
	Want      netcfg.Lines        // the reference's lines
	Have      netcfg.Lines        // the host's lines from a full dump
	Reference string              // which reference Want comes from ("a fresh lab")
	Confirmed bool                // Want was measured, not predicted
}

func (f *Failure) String() string {
	var b strings.Builder
	if f.Step > 0 {
		fmt.Fprintf(&b, "after step %d (%s):\n", f.Step, f.Op)
	} else {
		b.WriteString("after the sequence settled:\n")
	}
	fmt.Fprintf(&b, "  configuration: %s\n", f.Config)
	ref := f.Reference
	if !f.Confirmed {
		ref += " (predicted)"
	}
	fmt.Fprintf(&b, "  history independence: the host differs from %s given the configuration directly\n", ref)
	b.WriteString(indent(f.Diff.Explain(f.Reference, "the host"), "    "))
	if len(f.Problems) > 0 {
		b.WriteString("  step expectation:\n")
		for _, p := range f.Problems {
			fmt.Fprintf(&b, "    %s\n", p)
		}
	}
	return b.String()
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
