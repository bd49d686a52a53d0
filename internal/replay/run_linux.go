//go:build linux

package replay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// Run builds a fresh lab from opts.Fixture (lab.New, with its routes),
// starts the injectors, runs the scenario's steps and says whether the
// defect reproduced. The lab is removed before Run returns.
func Run(ctx context.Context, opts Options) (*Result, error) {
	sc, err := Lookup(opts.Scenario)
	if err != nil {
		return nil, err
	}
	if opts.Window == 0 {
		opts.Window = 500 * time.Millisecond
	}
	res := &Result{Scenario: sc.ID, Lab: opts.Fixture.Name, Injectors: opts.Injectors}
	switch sc.ID {
	case SecondaryIP:
		err = runSecondaryIP(ctx, opts, res)
	case KB287032:
		err = runKB287032(ctx, opts, res)
	case Explorer:
		err = runExplorer(ctx, opts, res)
	}
	if err != nil {
		return nil, fmt.Errorf("replaying %s on lab %s: %w", sc.ID, opts.Fixture.Name, err)
	}
	return res, nil
}

// runSecondaryIP runs PlanSecondaryIP's steps by netlink on a lab built
// from the fixture, with the change events recorded. After each address
// delete the persistent routes must survive for the window: a
// route-removed event of one of them ends the wait early. Then every
// persistent route must be in the main table as proto static; the missing
// ones and the event timeline are the evidence.
func runSecondaryIP(ctx context.Context, opts Options, res *Result) (err error) {
	steps, survive, err := PlanSecondaryIP(opts.Fixture)
	if err != nil {
		return err
	}
	res.Steps, res.Survive = steps, survive
	l, stop, err := build(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stop()) }()
	tl := netcfg.NewTimeline()
	unsubscribe, err := l.Host.Subscribe(ctx, tl.Record)
	if err != nil {
		return fmt.Errorf("subscribing to the lab's changes: %w", err)
	}
	defer unsubscribe()
	isSurvivor := func(e netcfg.Event) bool {
		if e.Kind != netcfg.RouteRemoved || e.Route == nil {
			return false
		}
		for _, r := range survive {
			if e.Route.Dst == r.Dst && e.Route.Gateway == r.Gateway && e.Route.Interface == r.Interface {
				return true
			}
		}
		return false
	}
	for _, s := range steps {
		name := s.String()
		tl.Step(name)
		progress(opts, "step: %s", name)
		if err := apply(ctx, l.Host, s); err != nil {
			return err
		}
		if s.Kind != explore.DeleteAddress {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, opts.Window)
		select {
		case e := <-tl.Watch(wctx, 0, isSurvivor):
			progress(opts, "  %s", e)
		case <-wctx.Done():
		}
		cancel()
	}
	tl.Step("check")
	snap, err := l.Host.Snapshot(ctx)
	if err != nil {
		return err
	}
	res.Ran = append(res.Ran, fmt.Sprintf("%d steps, %d persistent routes checked after a %s window per delete", len(steps), len(survive), opts.Window))
	for _, r := range survive {
		if !snap.HasRoute(netcfg.StorePersistent, netcfg.Route{Dst: r.Dst, Gateway: r.Gateway, Interface: r.Interface}) {
			res.Reproduced = true
			res.Evidence = append(res.Evidence, "missing after the steps: "+routeLine(r)+" proto static (persistent)")
		}
	}
	if res.Reproduced {
		res.Evidence = append(res.Evidence, "--- event timeline:")
		res.Evidence = append(res.Evidence, strings.Split(strings.TrimRight(tl.String(), "\n"), "\n")...)
	}
	return nil
}

// apply runs one step by netlink.
func apply(ctx context.Context, h netcfg.Host, s Step) error {
	switch s.Kind {
	case explore.AddAddress:
		return h.AddAddress(ctx, netcfg.Netlink, netcfg.AddressSpec{Prefix: s.Address, Interface: s.Interface})
	case explore.DeleteAddress:
		return h.DeleteAddress(ctx, netcfg.Netlink, netcfg.AddressSpec{Prefix: s.Address, Interface: s.Interface})
	case explore.AddRoute:
		return h.AddRoute(ctx, netcfg.Netlink, s.route())
	}
	return h.DeleteRoute(ctx, netcfg.Netlink, s.route())
}

// build builds the lab and starts the injectors; stop stops them and
// removes the lab.
func build(ctx context.Context, opts Options) (*lab.Lab, func() error, error) {
	l, err := lab.New(ctx, opts.Fixture)
	if err != nil {
		return nil, nil, err
	}
	progress(opts, "built lab %s from fixture %s", l.ID, opts.Fixture.Name)
	stopInject := func() error { return nil }
	if opts.Inject != nil {
		s, err := opts.Inject(ctx, l)
		if err != nil {
			return nil, nil, errors.Join(err, l.Close())
		}
		stopInject = s
	}
	return l, func() error { return errors.Join(stopInject(), l.Close()) }, nil
}

func progress(opts Options, format string, args ...any) {
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, format+"\n", args...)
	}
}

// runKB287032 replays KB287032Sequence in each order with explore.Replay:
// after every step the host must equal a fresh lab of the fixture given
// the same configuration.
func runKB287032(ctx context.Context, opts Options, res *Result) error {
	if len(opts.Fixture.Links) < 2 {
		return fmt.Errorf("%s needs a multihomed fixture (two links or more); lab %s has %d", KB287032, opts.Fixture.Name, len(opts.Fixture.Links))
	}
	u, err := explore.DefaultUniverse(opts.Fixture, []netcfg.Mechanism{netcfg.Netlink})
	if err != nil {
		return err
	}
	for _, order := range kbOrders {
		ops := KB287032Sequence(u, order)
		progress(opts, "%s order: %d steps", order, len(ops))
		r, err := explore.Replay(ctx, explore.Options{Lab: opts.Fixture, Inject: opts.Inject, Progress: opts.Progress}, ops)
		if err != nil {
			return err
		}
		if r.OpError != nil {
			return r.OpError
		}
		repro := r.Repro
		res.Repro = &repro
		if r.Failure == nil {
			res.Ran = append(res.Ran, fmt.Sprintf("%s removal, %d steps: the host equals a fresh lab after every step", order, len(ops)))
			continue
		}
		res.Ran = append(res.Ran, fmt.Sprintf("%s removal, %d steps: FAILED", order, len(ops)))
		res.Reproduced = true
		res.Evidence = append(res.Evidence, order+" removal:")
		res.Evidence = append(res.Evidence, strings.Split(strings.TrimRight(r.Failure.String(), "\n"), "\n")...)
		break
	}
	return nil
}

// runExplorer runs the churn explorer on the fixture.
func runExplorer(ctx context.Context, opts Options, res *Result) error {
	steps := opts.Steps
	if steps == 0 {
		steps = 200
	}
	r, err := explore.Explore(ctx, explore.Options{Lab: opts.Fixture, Seed: opts.Seed, Steps: steps, Inject: opts.Inject, Progress: opts.Progress})
	if err != nil {
		return err
	}
	res.Ran = append(res.Ran, r.Summary())
	if r.OpError != nil {
		return r.OpError
	}
	if r.Failure != nil {
		repro := r.Repro
		res.Repro = &repro
		res.Reproduced = true
		res.Evidence = append(res.Evidence, strings.Split(strings.TrimRight(r.Failure.String(), "\n"), "\n")...)
	}
	return nil
}
