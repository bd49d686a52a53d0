// Package mirror keeps an in-memory copy of a host's normalised tables
// (addresses and routes of every table, both families), fed by the host's
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
	"sort"
	"sync"
	"time"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// Item is one normalised line and what it was rendered from. Exactly one
// of Route, Address and Link is set.
type Item struct {
	Route   *netcfg.Route
	Address *netcfg.Address
	Link    *netcfg.Interface
}

// Line is the item's normalised line (netcfg's Line methods).
func (i Item) Line() string {
	switch {
	case i.Route != nil:
		return i.Route.Line()
	case i.Address != nil:
		return i.Address.Line()
	case i.Link != nil:
		return i.Link.Line()
	}
	return "?"
}

// Lines is a set of normalised lines, each with an item it came from.
type Lines map[string]Item

// Sorted returns the lines in order.
func (l Lines) Sorted() []string {
	out := make([]string, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Clone returns a copy.
func (l Lines) Clone() Lines {
	out := make(Lines, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// Diff returns the lines of want missing from l and the lines of l that
// want does not have, both sorted.
func (l Lines) Diff(want Lines) (missing, extra []string) {
	for k := range want {
		if _, ok := l[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range l {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// LinesOf returns the normalised lines of a snapshot (the same set as
// Snapshot.Lines), leaving out routes ignore selects.
func LinesOf(s *netcfg.Snapshot, ignore func(netcfg.Route) bool) Lines {
	out := Lines{}
	for i := range s.Interfaces {
		it := Item{Link: &s.Interfaces[i]}
		out[it.Line()] = it
	}
	for i := range s.Addresses {
		if !s.Addresses[i].IsNoise() {
			it := Item{Address: &s.Addresses[i]}
			out[it.Line()] = it
		}
	}
	for i := range s.Routes {
		r := &s.Routes[i]
		if !r.IsNoise() && (ignore == nil || !ignore(*r)) {
			it := Item{Route: r}
			out[it.Line()] = it
		}
	}
	return out
}

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
	item Item
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
		m.add(Item{Address: &s.Addresses[i]}, +1)
	}
	for i := range s.Routes {
		m.add(Item{Route: &s.Routes[i]}, +1)
	}
	for i := range s.Interfaces {
		m.add(Item{Link: &s.Interfaces[i]}, +1)
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
		m.add(Item{Address: e.Address}, d)
	case e.Route != nil:
		r := *e.Route
		if !m.add(Item{Route: &r}, d) {
			m.stats.Ignored++
			return
		}
		if r.Store == netcfg.StoreActive && iproute2.IsPersistent(r.Table, r.Protocol) {
			p := r
			p.Store = netcfg.StorePersistent
			m.add(Item{Route: &p}, d)
		}
	}
	m.stats.Events++
	m.notify()
}

// add counts an item in or out; it reports false for an ignored item.
func (m *Mirror) add(it Item, d int) bool {
	switch {
	case it.Route != nil && (it.Route.IsNoise() || (m.ignore != nil && m.ignore(*it.Route))):
		return false
	case it.Address != nil && it.Address.IsNoise():
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
func (m *Mirror) Matches(want Lines) bool {
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

// Lines returns a copy of the mirrored lines.
func (m *Mirror) Lines() Lines {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(Lines, len(m.entries))
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
func (m *Mirror) WaitMatch(ctx context.Context, want Lines, quiet time.Duration) bool {
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
