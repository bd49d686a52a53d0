// Package mirror keeps an in-memory copy of a host's normal form
// (netcfg.Lines: addresses and routes of every table, both families, and
// links), fed by the host's
// change events (netcfg.Host.Subscribe: RTM_NEWROUTE/RTM_DELROUTE,
// RTM_NEWADDR/RTM_DELADDR on Linux) and reloaded from a full dump
// (netcfg.Host.Snapshot) only when asked: at start, after an event-socket
// overflow, or before a caller declares a mismatch.
//
// Checking the mirror against an expectation costs the size of the
// expectation, not of the table: routes the caller declares background (for
// example 100,000 benchmark routes) are dropped on arrival and never stored.
package mirror

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// Mirror is the event-fed copy of a host's normalised tables. It is safe for
// concurrent use; Apply is a ready-made Subscribe callback.
type Mirror struct {
	ignore func(netcfg.Route) bool

	mu      sync.Mutex
	entries map[string]*entry
	changed chan struct{} // closed and replaced on every change
	stats   Stats
}

type entry struct {
	n    int // how many kernel objects render to this line
	item netcfg.Item
}

// Stats counts what the mirror has done.
type Stats struct {
	Events  int // change events applied
	Ignored int // route events dropped as background or noise
	Loads   int // full dumps loaded (start and reconciles)
}

// New returns an empty mirror that drops routes ignore selects (nil keeps
// every route).
func New(ignore func(netcfg.Route) bool) *Mirror {
	return &Mirror{ignore: ignore, entries: map[string]*entry{}, changed: make(chan struct{})}
}

// Load replaces the mirror's content with a full dump.
func (m *Mirror) Load(s *netcfg.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = map[string]*entry{}
	// Count duplicates as the kernel holds them, so a later removal of one
	// of two routes rendering the same line keeps the line.
	for i := range s.Addresses {
		m.add(netcfg.Item{Address: &s.Addresses[i]}, +1)
	}
	for i := range s.Routes {
		m.add(netcfg.Item{Route: &s.Routes[i]}, +1)
	}
	for i := range s.Interfaces {
		m.add(netcfg.Item{Link: &s.Interfaces[i]}, +1)
	}
	m.stats.Loads++
	m.notify()
}

// Reload takes a full dump of h (RTM_GETADDR, RTM_GETROUTE) and loads it.
func (m *Mirror) Reload(ctx context.Context, h netcfg.Host) error {
	s, err := h.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("reloading the mirror of %s: %w", h.Name(), err)
	}
	m.Load(s)
	return nil
}

// Apply applies one change event. A main-table route the persistent-view
// rule selects (iproute2.IsPersistent) changes its StorePersistent copy too,
// as Snapshot reports it.
func (m *Mirror) Apply(e netcfg.Event) {
	d := +1
	if e.Kind == netcfg.RouteRemoved || e.Kind == netcfg.AddrRemoved {
		d = -1
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case e.Address != nil:
		m.add(netcfg.Item{Address: e.Address}, d)
	case e.Route != nil:
		r := *e.Route
		if !m.add(netcfg.Item{Route: &r}, d) {
			m.stats.Ignored++
			return
		}
		if r.Store == netcfg.StoreActive && iproute2.IsPersistent(r.Table, r.Protocol) {
			p := r
			p.Store = netcfg.StorePersistent
			m.add(netcfg.Item{Route: &p}, d)
		}
	}
	m.stats.Events++
	m.notify()
}

// add counts an item in or out; it reports false for an ignored item.
func (m *Mirror) add(it netcfg.Item, d int) bool {
	if it.IsNoise() || (it.Route != nil && m.ignore != nil && m.ignore(*it.Route)) {
		return false
	}
	line := it.Line()
	e := m.entries[line]
	if e == nil {
		if d < 0 {
			return true // removal of something never seen: nothing to do
		}
		e = &entry{item: it}
		m.entries[line] = e
	}
	e.n += d
	if e.n <= 0 {
		delete(m.entries, line)
	}
	return true
}

func (m *Mirror) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Changed returns a channel closed at the next change.
func (m *Mirror) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Matches reports whether the mirror holds exactly want's lines. It costs
// len(want) lookups.
func (m *Mirror) Matches(want netcfg.Lines) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) != len(want) {
		return false
	}
	for k := range want {
		if _, ok := m.entries[k]; !ok {
			return false
		}
	}
	return true
}

// Lines returns a copy of the mirrored lines: the host's normal form as
// Snapshot.Normalize(ignore) renders it, kept by events.
func (m *Mirror) Lines() netcfg.Lines {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(netcfg.Lines, len(m.entries))
	for k, e := range m.entries {
		out[k] = e.item
	}
	return out
}

// Len is the number of distinct mirrored lines.
func (m *Mirror) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// Stats returns the counters.
func (m *Mirror) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// WaitMatch waits until the mirror matches want, woken by each change. It
// gives up when no change has arrived for quiet (each change restarts the
// window) and reports whether it matched. A caller that gives up reconciles
// with a full dump before believing a mismatch.
func (m *Mirror) WaitMatch(ctx context.Context, want netcfg.Lines, quiet time.Duration) bool {
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for {
		ch := m.Changed()
		if m.Matches(want) {
			return true
		}
		select {
		case <-ch:
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(quiet)
		case <-timer.C:
			return m.Matches(want)
		case <-ctx.Done():
			return false
		}
	}
}

// Quiet waits until no change has arrived for window (each change restarts
// it), or ctx ends; it reports whether the mirror went quiet.
func (m *Mirror) Quiet(ctx context.Context, window time.Duration) bool {
	timer := time.NewTimer(window)
	defer timer.Stop()
	for {
		ch := m.Changed()
		select {
		case <-ch:
			timer.Reset(window)
		case <-timer.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
}
