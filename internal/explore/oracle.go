package explore

import (
	"context"
	"fmt"
	"sync"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// Reference is the history-independence oracle's reference: the normal form
// a target shows when it is given a configuration directly, on top of its
// start point, rather than through whatever history led there. A host whose
// lines differ from the reference's for the configuration it holds depends
// on its history.
//
// FreshLabs is the reference of a namespace lab kbharness builds (a fresh
// lab of the same fixture); Baseline is the reference of a host it did not
// build (an attached namespace, the Windows lab VM, a remote guest), where
// no fresh copy exists.
type Reference interface {
	// Expect returns the lines the target given c shows, and whether they
	// were measured (confirmed) rather than predicted from element deltas.
	Expect(ctx context.Context, c Config) (want netcfg.Lines, confirmed bool, err error)
	// Confirm returns the best lines the reference has for c: measured
	// where it can measure (FreshLabs builds a fresh lab), else the
	// prediction, which is then final. Callers confirm a predicted
	// expectation before declaring a mismatch.
	Confirm(ctx context.Context, c Config) (netcfg.Lines, error)
	// Delta returns what element e alone changes at the start point.
	Delta(ctx context.Context, e Element) (Delta, error)
	// Stats counts the reference's work.
	Stats() OracleStats
	// String names the reference in failure messages ("a fresh lab").
	String() string
	// Close releases what the reference holds (a scratch lab).
	Close() error
}

// Delta is what one element changes in the normal form of a host at its
// start point.
type Delta struct {
	Adds    netcfg.Lines // lines the element brings
	Removes netcfg.Lines // lines of the start point the element takes away
}

// DeltaOf computes the delta between the start point's lines and the lines
// with the element applied.
func DeltaOf(base, with netcfg.Lines) Delta {
	d := Delta{Adds: netcfg.Lines{}, Removes: netcfg.Lines{}}
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

// Predict computes a configuration's lines from the base and the deltas:
// (base minus every element's removals) plus every element's additions.
func Predict(base netcfg.Lines, deltas []Delta) netcfg.Lines {
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

// Learner measures an element's delta: on a host at the start point, apply
// the element alone, snapshot, undo it (and check the host is back).
type Learner func(ctx context.Context, e Element) (Delta, error)

// Fresher returns the lines of a fresh lab given c directly: the
// history-independence oracle's ground truth where a fresh lab exists.
type Fresher func(ctx context.Context, c Config) (netcfg.Lines, error)

// Oracle is the arithmetic and the cache every Reference shares. Measuring
// each configuration directly would cost a lab build (hundreds of
// milliseconds) per step, or be impossible on a host kbharness did not
// build, so the oracle predicts it: the start point's lines plus each
// element's delta, measured once per element. The prediction is cached per
// configuration; when the host disagrees with a prediction, the caller asks
// Confirm, which measures that configuration once where a Fresher exists
// and caches the truth.
type Oracle struct {
	Base   netcfg.Lines // the start point's lines (no element)
	learn  Learner
	fresh  Fresher // nil: predictions are final
	mu     sync.Mutex
	deltas map[string]Delta
	cache  map[string]*expectation
	stats  OracleStats
}

type expectation struct {
	lines     netcfg.Lines
	confirmed bool // measured, not predicted
}

// OracleStats counts the oracle's work.
type OracleStats struct {
	Hits, Misses  int // Expect cache hits and misses
	Learned       int // element deltas measured
	Confirmations int // fresh labs built to confirm an expectation
	Corrections   int // confirmations that disagreed with the prediction
}

// NewOracle returns an oracle over the start point's lines; fresh may be
// nil where no fresh measurement exists.
func NewOracle(base netcfg.Lines, learn Learner, fresh Fresher) *Oracle {
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

// Expect returns the lines the target given c shows, and whether they were
// confirmed by a measurement rather than predicted.
func (o *Oracle) Expect(ctx context.Context, c Config) (netcfg.Lines, bool, error) {
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

// Confirm measures c where a Fresher exists, caches the lines as the
// confirmed expectation and returns them; without one it returns the
// prediction.
func (o *Oracle) Confirm(ctx context.Context, c Config) (netcfg.Lines, error) {
	if o.fresh == nil {
		lines, _, err := o.Expect(ctx, c)
		return lines, err
	}
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
	if x, ok := o.cache[key]; ok && !x.lines.Equal(lines) {
		o.stats.Corrections++
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

// FreshLabs is the Reference of a namespace lab kbharness builds: a fresh
// lab of the same fixture given the configuration directly (canonical
// order, netlink). It predicts from element deltas learned on a bare
// scratch lab of the fixture, and Confirm builds a fresh lab.
type FreshLabs struct {
	*Oracle
	scratch *scratchLab
}

// NewFreshLabs builds the bare scratch lab of fixture f (Close tears it
// down) and the oracle over it.
func NewFreshLabs(ctx context.Context, f *fixtures.Lab) (*FreshLabs, error) {
	s, err := newScratchLab(ctx, f)
	if err != nil {
		return nil, err
	}
	r := &FreshLabs{scratch: s}
	learn := func(ctx context.Context, e Element) (Delta, error) {
		return learnAlone(ctx, s.w, s.bare, e, netcfg.Netlink, netcfg.Netlink)
	}
	fresh := func(ctx context.Context, c Config) (netcfg.Lines, error) { return freshLines(ctx, f, c) }
	r.Oracle = NewOracle(s.bare, learn, fresh)
	return r, nil
}

func (r *FreshLabs) String() string { return "a fresh lab" }

// Close tears the scratch lab down.
func (r *FreshLabs) Close() error { return r.scratch.close() }

// Baseline is the Reference of a host kbharness did not build (an attached
// namespace, the Windows lab VM, a remote guest), where no fresh copy of
// the host exists: the host's own start point (its journal's baseline
// snapshot, plus the fixture addresses attaching added, if any) plus the
// deltas of the configuration's elements, each learned on the host itself
// at that start point. Its predictions are final: Confirm has nothing
// better to measure.
type Baseline struct {
	*Oracle
	host string
}

// NewBaseline learns the delta of every element of universe on h, which
// must be at its start point: it applies each element alone (addresses by
// addrBy, routes by routeBy: the spec's own mechanisms, since what a host
// records can depend on the mechanism, e.g. a persistent route's metric on
// Windows; "" picks the first of the dialect's mechanisms h has),
// takes a snapshot, undoes it and checks h is back. h should be the lab's
// journaled host, so that a run killed while learning is undone too.
// Expect fails for an element outside universe: it cannot be learned once
// the host has left its start point.
func NewBaseline(ctx context.Context, h netcfg.Host, universe []Element, addrBy, routeBy netcfg.Mechanism) (*Baseline, error) {
	firstAddr, firstRoute, err := referenceMechanisms(h.Capabilities())
	if err != nil {
		return nil, fmt.Errorf("learning the baseline reference of %s: %w", h.Name(), err)
	}
	if addrBy == "" {
		addrBy = firstAddr
	}
	if routeBy == "" {
		routeBy = firstRoute
	}
	w, err := watch(ctx, h, nil)
	if err != nil {
		return nil, fmt.Errorf("learning the baseline reference of %s: %w", h.Name(), err)
	}
	defer w.stop()
	base, err := w.snapshot(ctx, startAddresses(w.mirror.Lines()))
	if err != nil {
		return nil, fmt.Errorf("reading the start point of %s: %w", h.Name(), err)
	}
	learned := map[string]Delta{}
	for _, e := range universe {
		if _, ok := learned[e.Key()]; ok {
			continue
		}
		d, err := learnAlone(ctx, w, base, e, addrBy, routeBy)
		if err != nil {
			return nil, fmt.Errorf("learning the delta of %s on %s: %w", e, h.Name(), err)
		}
		learned[e.Key()] = d
	}
	learn := func(ctx context.Context, e Element) (Delta, error) {
		if d, ok := learned[e.Key()]; ok {
			return d, nil
		}
		return Delta{}, fmt.Errorf("%s was not learned at the start point of %s (not in the reference's universe)", e, h.Name())
	}
	return &Baseline{Oracle: NewOracle(base, learn, nil), host: h.Name()}, nil
}

func (r *Baseline) String() string { return "the baseline plus learned deltas" }

// Close does nothing: the learning was undone as it went.
func (r *Baseline) Close() error { return nil }

// startAddresses is the configuration of the addresses a host shows, to
// wait for their local routes before reading its start point (an address
// attaching has just added may not have it yet).
func startAddresses(lines netcfg.Lines) Config {
	var c Config
	for _, it := range lines {
		if a := it.Address; a != nil {
			c.elems = append(c.elems, Element{Address: &netcfg.AddressSpec{Prefix: a.Prefix, Interface: a.Interface}})
		}
	}
	return c
}

// referenceMechanisms picks the mechanisms a Baseline learns by: the first
// of the host's dialect's address and route mechanisms that the host has.
func referenceMechanisms(c netcfg.Capabilities) (addrBy, routeBy netcfg.Mechanism, err error) {
	first := func(ms []netcfg.Mechanism) netcfg.Mechanism {
		for _, m := range ms {
			if c.Has(m) {
				return m
			}
		}
		return ""
	}
	addrBy, routeBy = first(c.Dialect.AddressMechanisms()), first(c.Dialect.RouteMechanisms())
	if addrBy == "" || routeBy == "" {
		return "", "", netcfg.Unsupported("learning element deltas",
			fmt.Sprintf("the host has none of the %s address or route mechanisms (%v)", c.Dialect, c.Mechanisms))
	}
	return addrBy, routeBy, nil
}

// StepProblems checks one step's own expectation against the host's lines:
// the lines an element brings must be present for every present element
// (its address, its local and prefix routes, the manual routes), and after
// a removal the removed element's lines must be gone unless the expected
// configuration still has them (another address covers the prefix). op is
// nil for a check that follows no step.
func StepProblems(ctx context.Context, ref Reference, op *Op, after Config, want, have netcfg.Lines) ([]string, error) {
	var out []string
	if op != nil && !op.IsAdd() {
		d, err := ref.Delta(ctx, op.Element())
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
		d, err := ref.Delta(ctx, e)
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
