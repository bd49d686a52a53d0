package explore

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/mirror"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// This file holds the hosts an exploration works on: a watched host (a host
// with an event-fed mirror of its normal form), the oracle's bare scratch
// lab, and the lab under test (built, prepared, injected, reset between
// sequences).

// watched is a host with an event-fed mirror of its normal form. A host
// without change events (Capabilities.Events false) is watched by full
// dumps instead.
type watched struct {
	host   netcfg.Host
	mirror *mirror.Mirror
	events bool
	linux  bool // the Linux dialect: addresses get their local routes from deferred kernel work
	stop   func()
}

// watch subscribes a mirror to h's change events and loads it with a full
// dump.
func watch(ctx context.Context, h netcfg.Host, ignore func(netcfg.Route) bool) (*watched, error) {
	c := h.Capabilities()
	w := &watched{host: h, mirror: mirror.New(ignore), events: c.Events, linux: c.Dialect == netcfg.DialectLinux, stop: func() {}}
	if w.events {
		stop, err := h.Subscribe(ctx, w.mirror.Apply)
		if err != nil {
			return nil, fmt.Errorf("watching %s: %w", h.Name(), err)
		}
		w.stop = stop
	}
	if err := w.mirror.Reload(ctx, h); err != nil {
		w.stop()
		return nil, err
	}
	return w, nil
}

// pollEvery is how often a host without change events is dumped while
// waiting for it.
const pollEvery = 50 * time.Millisecond

// waitMatch waits until the host shows want: on change events, each
// restarting the quiet window, or by full dumps until window ends.
func (w *watched) waitMatch(ctx context.Context, want netcfg.Lines, window time.Duration) bool {
	if w.events {
		return w.mirror.WaitMatch(ctx, want, window)
	}
	deadline := time.Now().Add(window)
	for {
		if err := w.mirror.Reload(ctx, w.host); err == nil && w.mirror.Matches(want) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(pollEvery) // no events to wait on
	}
}

// readyWindow bounds the wait for the kernel's deferred work after a change.
const readyWindow = 2 * time.Second

// waitReady waits, on change events and at most readyWindow, until every
// address of c has its local route: IPv6 installs it from the address's DAD
// work (also with IFA_F_NODAD), after RTM_NEWADDR has been acknowledged, so
// a dump taken at once can miss it. Only the Linux dialect has such
// routes; other hosts are ready at once.
func (w *watched) waitReady(ctx context.Context, c Config) {
	if !w.linux || !w.events {
		return
	}
	deadline := time.NewTimer(readyWindow)
	defer deadline.Stop()
	for {
		ch := w.mirror.Changed()
		if addressesReady(w.mirror.Lines(), c) {
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
func addressesReady(lines netcfg.Lines, c Config) bool {
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

// snapshot waits until c's addresses are ready and returns h's normal form
// from a full dump.
func (w *watched) snapshot(ctx context.Context, c Config) (netcfg.Lines, error) {
	w.waitReady(ctx, c)
	s, err := w.host.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.Normalize(nil), nil
}

// learnAlone measures e's delta on the watched host, which shows base: it
// applies e alone (addresses by addrBy, routes by routeBy), takes a full
// dump once the change has shown, undoes e and checks the host shows base
// again. This is how every reference learns: on a bare scratch lab
// (FreshLabs) or on the target itself at its start point (Baseline).
func learnAlone(ctx context.Context, w *watched, base netcfg.Lines, e Element, addrBy, routeBy netcfg.Mechanism) (Delta, error) {
	by := routeBy
	if e.Address != nil {
		by = addrBy
	}
	if err := applyElement(ctx, w.host, e, true, by); err != nil {
		return Delta{}, err
	}
	with, err := w.snapshot(ctx, ConfigOf(e))
	if err != nil {
		return Delta{}, err
	}
	if err := applyElement(ctx, w.host, e, false, by); err != nil {
		return Delta{}, err
	}
	w.waitMatch(ctx, base, readyWindow)
	back, err := w.snapshot(ctx, Config{})
	if err != nil {
		return Delta{}, err
	}
	if d := base.Diff(back); !d.Empty() {
		return Delta{}, fmt.Errorf("%s did not return to where it was after adding and deleting %s:\n%s", w.host.Name(), e, d.Explain("where it was", "the host"))
	}
	return DeltaOf(base, with), nil
}

// applyElement adds or deletes one element by mechanism m, with every field
// of its spec (a persistent route stays persistent).
func applyElement(ctx context.Context, h netcfg.Host, e Element, add bool, m netcfg.Mechanism) error {
	switch {
	case e.Address != nil && add:
		return h.AddAddress(ctx, m, *e.Address)
	case e.Address != nil:
		return h.DeleteAddress(ctx, m, *e.Address)
	case add:
		return h.AddRoute(ctx, m, *e.Route)
	}
	return h.DeleteRoute(ctx, m, *e.Route)
}

// apply performs one operation on h.
func apply(ctx context.Context, h netcfg.Host, o Op) error {
	return applyElement(ctx, h, o.Element(), o.IsAdd(), o.Mechanism)
}

// scratchLab is a bare lab of a fixture, watched, that FreshLabs learns
// element deltas on.
type scratchLab struct {
	lab  *lab.Lab
	w    *watched
	bare netcfg.Lines // its normal form with no element
}

// newScratchLab builds a bare lab of f and reads its normal form.
func newScratchLab(ctx context.Context, f *fixtures.Lab) (*scratchLab, error) {
	l, err := lab.New(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("building the oracle's scratch lab: %w", err)
	}
	s := &scratchLab{lab: l}
	if s.w, err = watch(ctx, l.Host, nil); err != nil {
		return nil, errors.Join(err, s.close())
	}
	if s.bare, err = s.w.snapshot(ctx, Config{}); err != nil {
		return nil, errors.Join(fmt.Errorf("reading the bare lab: %w", err), s.close())
	}
	return s, nil
}

func (s *scratchLab) close() error {
	if s.w != nil {
		s.w.stop()
	}
	return s.lab.Close()
}

// freshLines builds a fresh lab of f, gives it c directly (canonical order,
// netlink), and returns its normal form: the ground truth of history
// independence for a lab kbharness builds.
func freshLines(ctx context.Context, f *fixtures.Lab, c Config) (netcfg.Lines, error) {
	l, err := lab.New(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("building a fresh %s lab: %w", f.Name, err)
	}
	defer l.Close()
	w, err := watch(ctx, l.Host, nil)
	if err != nil {
		return nil, err
	}
	defer w.stop()
	for _, e := range c.Canonical() {
		if err := applyElement(ctx, l.Host, e, true, netcfg.Netlink); err != nil {
			return nil, fmt.Errorf("giving the fresh lab %s: %w", e, err)
		}
	}
	return w.snapshot(ctx, c)
}

// buildUnderTest builds the lab under test: prepared, injected, mirrored,
// and checked bare against the reference.
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
	if r.under, err = watch(ctx, r.lab.Host, r.opts.Ignore); err != nil {
		return fmt.Errorf("mirroring the lab under test: %w", err)
	}
	r.stops = append(r.stops, func() error { r.under.stop(); return nil })
	r.dropped = dropped(r.lab.Host)
	if d := r.ref.Base.Diff(r.under.mirror.Lines()); !d.Empty() {
		return fmt.Errorf("the lab under test differs from a bare lab at start:\n%s", d.Explain("a bare lab", "the lab under test"))
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

// dropped is the host's count of event-socket overflows (0 if it keeps none).
func dropped(h netcfg.Host) int64 {
	if d, ok := h.(interface{ Dropped() int64 }); ok {
		return d.Dropped()
	}
	return 0
}

// reset brings the lab under test back to bare: it deletes the main-table
// routes and the addresses the bare lab does not have, waits for the mirror
// to show the bare lines, and rebuilds the lab if they do not come back.
func (r *runner) reset(ctx context.Context) error {
	h := r.lab.Host
	bare := r.ref.Base
	// Undo the last sequence in the order it added things (FIFO, KB287032's
	// workaround), then sweep whatever else is left.
	// Errors here are not final: the sweep and, failing it, a rebuild follow.
	for _, e := range r.config.Elements() {
		_ = apply(ctx, h, e.Op(false, netcfg.Netlink))
	}
	r.config = Config{}
	if r.under.mirror.WaitMatch(ctx, bare, r.opts.Window) {
		return nil
	}
	have := r.under.mirror.Lines()
	extra := bare.Diff(have).Added
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
	if r.under.mirror.WaitMatch(ctx, bare, r.opts.Window) {
		return nil
	}
	r.reconciles++
	if err := r.under.mirror.Reload(ctx, h); err != nil {
		return err
	}
	if r.under.mirror.Matches(bare) {
		return nil
	}
	r.progress("explore: the lab under test did not return to bare; rebuilding it:\n%s", bare.Diff(r.under.mirror.Lines()).Explain("a bare lab", "the lab under test"))
	if err := r.closeUnderTest(); err != nil {
		return err
	}
	return r.buildUnderTest(ctx)
}
