package netcfg

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// PollChanges is Subscribe for hosts reached by commands, which deliver no
// callbacks: it takes a snapshot every interval and hands fn what changed
// between two polls (Changes). A failed poll is retried at the next tick.
// stop ends the polling and waits for it; fn is not called after it returns.
func PollChanges(ctx context.Context, name string, every time.Duration, snapshot func(context.Context) (*Snapshot, error), fn func(Event)) (stop func(), err error) {
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
	var out []Event
	at := b.Taken
	ra, rb := byLine(a.Routes, Route.Line), byLine(b.Routes, Route.Line)
	for _, k := range sortedKeys(ra) {
		if _, ok := rb[k]; !ok {
			r := ra[k]
			out = append(out, Event{Time: at, Kind: RouteRemoved, Route: &r})
		}
	}
	for _, k := range sortedKeys(rb) {
		if _, ok := ra[k]; !ok {
			r := rb[k]
			out = append(out, Event{Time: at, Kind: RouteAdded, Route: &r})
		}
	}
	aa, ab := byLine(a.Addresses, Address.Line), byLine(b.Addresses, Address.Line)
	for _, k := range sortedKeys(aa) {
		if _, ok := ab[k]; !ok {
			x := aa[k]
			out = append(out, Event{Time: at, Kind: AddrRemoved, Address: &x})
		}
	}
	for _, k := range sortedKeys(ab) {
		if _, ok := aa[k]; !ok {
			x := ab[k]
			out = append(out, Event{Time: at, Kind: AddrAdded, Address: &x})
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
