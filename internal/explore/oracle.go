package explore

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/kbharness/kbharness/internal/mirror"
)

// Delta is what one element changes in a fresh lab's normalised tables.
type Delta struct {
	Adds    mirror.Lines // lines the element brings
	Removes mirror.Lines // lines of the bare lab the element takes away
}

// DeltaOf computes the delta between the bare lab's lines and the lines
// with the element applied.
func DeltaOf(base, with mirror.Lines) Delta {
	d := Delta{Adds: mirror.Lines{}, Removes: mirror.Lines{}}
	for k, v := range with {
		if _, ok := base[k]; !ok {
			d.Adds[k] = v
		}
	}
	for k, v := range base {
		if _, ok := with[k]; !ok {
			d.Removes[k] = v
		}
	}
	return d
}

// Learner measures an element's delta: on a bare lab, apply the element
// alone, snapshot, undo it (and check the lab is bare again).
type Learner func(ctx context.Context, e Element) (Delta, error)

// Fresher returns the lines of a fresh lab given c directly: the
// history-independence oracle's ground truth.
type Fresher func(ctx context.Context, c Config) (mirror.Lines, error)

// Oracle says which normalised lines a fresh lab given a configuration
// shows. Measuring that with a fresh lab per step would cost a lab build
// (hundreds of milliseconds) per step, so the oracle predicts it: the bare
// lab's lines plus each element's delta, measured once per element. The
// prediction is cached per configuration; when the host disagrees with a
// prediction, the caller asks Confirm, which builds a fresh lab for that
// configuration once and caches the truth. A failure is only ever declared
// against a confirmed expectation.
type Oracle struct {
	Base   mirror.Lines // the bare lab's lines (no element)
	learn  Learner
	fresh  Fresher
	mu     sync.Mutex
	deltas map[string]Delta
	cache  map[string]*expectation
	stats  OracleStats
}

type expectation struct {
	lines     mirror.Lines
	confirmed bool // measured on a fresh lab, not predicted
}

// OracleStats counts the oracle's work.
type OracleStats struct {
	Hits, Misses  int // Expect cache hits and misses
	Learned       int // element deltas measured
	Confirmations int // fresh labs built to confirm an expectation
	Corrections   int // confirmations that disagreed with the prediction
}

// NewOracle returns an oracle over the bare lab's lines.
func NewOracle(base mirror.Lines, learn Learner, fresh Fresher) *Oracle {
	return &Oracle{Base: base, learn: learn, fresh: fresh, deltas: map[string]Delta{}, cache: map[string]*expectation{}}
}

// Delta returns the element's delta, measuring it on first use.
func (o *Oracle) Delta(ctx context.Context, e Element) (Delta, error) {
	o.mu.Lock()
	d, ok := o.deltas[e.Key()]
	o.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := o.learn(ctx, e)
	if err != nil {
		return Delta{}, fmt.Errorf("measuring the delta of %s: %w", e, err)
	}
	o.mu.Lock()
	o.deltas[e.Key()] = d
	o.stats.Learned++
	o.mu.Unlock()
	return d, nil
}

// Predict computes a configuration's lines from the base and the deltas:
// (base minus every element's removals) plus every element's additions.
func Predict(base mirror.Lines, deltas []Delta) mirror.Lines {
	out := base.Clone()
	for _, d := range deltas {
		for k := range d.Removes {
			delete(out, k)
		}
	}
	for _, d := range deltas {
		for k, v := range d.Adds {
			out[k] = v
		}
	}
	return out
}

// Expect returns the lines a fresh lab given c shows, and whether they were
// confirmed on a fresh lab rather than predicted.
func (o *Oracle) Expect(ctx context.Context, c Config) (mirror.Lines, bool, error) {
	key := c.Key()
	o.mu.Lock()
	if x, ok := o.cache[key]; ok {
		o.stats.Hits++
		o.mu.Unlock()
		return x.lines, x.confirmed, nil
	}
	o.stats.Misses++
	o.mu.Unlock()
	var deltas []Delta
	for _, e := range c.Elements() {
		d, err := o.Delta(ctx, e)
		if err != nil {
			return nil, false, err
		}
		deltas = append(deltas, d)
	}
	lines := Predict(o.Base, deltas)
	o.mu.Lock()
	o.cache[key] = &expectation{lines: lines}
	o.mu.Unlock()
	return lines, false, nil
}

// Confirm builds a fresh lab given c, caches its lines as the confirmed
// expectation and returns them.
func (o *Oracle) Confirm(ctx context.Context, c Config) (mirror.Lines, error) {
	key := c.Key()
	o.mu.Lock()
	if x, ok := o.cache[key]; ok && x.confirmed {
		o.mu.Unlock()
		return x.lines, nil
	}
	o.mu.Unlock()
	lines, err := o.fresh(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("confirming the expectation of %s: %w", c, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stats.Confirmations++
	if x, ok := o.cache[key]; ok {
		if m, e := x.lines.Diff(lines); len(m)+len(e) > 0 {
			o.stats.Corrections++
		}
	}
	o.cache[key] = &expectation{lines: lines, confirmed: true}
	return lines, nil
}

// Stats returns the counters.
func (o *Oracle) Stats() OracleStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// Configs is the number of distinct configurations cached.
func (o *Oracle) Configs() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.cache)
}

// StepProblems checks one step's own expectation against the host's lines:
// the lines an element brings must be present for every present element
// (its address, its local and prefix routes, the manual routes), and after
// a removal the removed element's lines must be gone unless the expected
// configuration still has them (another address covers the prefix).
func (o *Oracle) StepProblems(ctx context.Context, op Op, after Config, want, have mirror.Lines) ([]string, error) {
	var out []string
	if !op.IsAdd() {
		d, err := o.Delta(ctx, op.Element())
		if err != nil {
			return nil, err
		}
		for _, k := range d.Adds.Sorted() {
			if _, still := want[k]; !still {
				if _, ok := have[k]; ok {
					out = append(out, fmt.Sprintf("stale after removing %s: %s", op.Element(), k))
				}
			}
		}
	}
	for _, e := range after.Elements() {
		d, err := o.Delta(ctx, e)
		if err != nil {
			return nil, err
		}
		for _, k := range d.Adds.Sorted() {
			if _, ok := have[k]; !ok {
				out = append(out, fmt.Sprintf("missing for present %s: %s", e, k))
			}
		}
	}
	return out, nil
}

// Failure is what the explorer saw when a check failed.
type Failure struct {
	Step      int    // 1-based index of the step after which the check failed; 0 for the final settle check
	Op        Op     // that step's operation
	Config    Config // the configuration expected after it
	Missing   []string
	Extra     []string
	Problems  []string     // the step's own expectation
	Want      mirror.Lines // the confirmed fresh-lab lines
	Have      mirror.Lines // the host's lines from a full dump
	Confirmed bool         // Want comes from a fresh lab
}

func (f *Failure) String() string {
	var b strings.Builder
	if f.Step > 0 {
		fmt.Fprintf(&b, "after step %d (%s):\n", f.Step, f.Op)
	} else {
		b.WriteString("after the sequence settled:\n")
	}
	fmt.Fprintf(&b, "  configuration: %s\n", f.Config)
	src := "predicted"
	if f.Confirmed {
		src = "a fresh lab given the configuration directly"
	}
	fmt.Fprintf(&b, "  history independence (host vs %s):\n", src)
	for _, l := range f.Missing {
		fmt.Fprintf(&b, "    - %s\n", l)
	}
	for _, l := range f.Extra {
		fmt.Fprintf(&b, "    + %s\n", l)
	}
	if len(f.Problems) > 0 {
		b.WriteString("  step expectation:\n")
		for _, p := range f.Problems {
			fmt.Fprintf(&b, "    %s\n", p)
		}
	}
	return b.String()
}
