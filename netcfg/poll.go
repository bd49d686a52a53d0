package netcfg

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// DefaultPoll is how often PollChanges polls when the caller sets no
// interval.
const DefaultPoll = 200 * time.Millisecond

// PollChanges is Subscribe for hosts reached by commands, which deliver no
// callbacks: it takes a snapshot every interval (0: DefaultPoll) and hands
// fn what changed between two polls (Changes). A failed poll is retried at
// the next tick. stop ends the polling and waits for it; fn is not called
// after it returns.
func PollChanges(ctx context.Context, name string, every time.Duration, snapshot func(context.Context) (*Snapshot, error), fn func(Event)) (stop func(), err error) {
	if every <= 0 {
		every = DefaultPoll
	}
	prev, err := snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscribing to %s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now, err := snapshot(ctx)
			if err != nil {
				continue
			}
			for _, e := range Changes(prev, now) {
				fn(e)
			}
			prev = now
		}
	}()
	return func() { cancel(); <-done }, nil
}

// Changes are the events that turn snapshot a into b, stamped with b's
// time: routes before addresses, removals before additions, each in line
// order.
func Changes(a, b *Snapshot) []Event {
	at := b.Taken
	out := changesOf(a.Routes, b.Routes, Route.Line, func(k EventKind, r Route) Event { return Event{Time: at, Kind: k, Route: &r} }, RouteRemoved, RouteAdded)
	return append(out, changesOf(a.Addresses, b.Addresses, Address.Line, func(k EventKind, x Address) Event { return Event{Time: at, Kind: k, Address: &x} }, AddrRemoved, AddrAdded)...)
}

// changesOf lists the elements only in xs as removed, then those only in
// ys as added, each in line order.
func changesOf[T any](xs, ys []T, line func(T) string, event func(EventKind, T) Event, removed, added EventKind) []Event {
	a, b := byLine(xs, line), byLine(ys, line)
	var out []Event
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if _, ok := b[k]; !ok {
			out = append(out, event(removed, a[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			out = append(out, event(added, b[k]))
		}
	}
	return out
}

func byLine[T any](xs []T, line func(T) string) map[string]T {
	m := make(map[string]T, len(xs))
	for _, x := range xs {
		m[line(x)] = x
	}
	return m
}
