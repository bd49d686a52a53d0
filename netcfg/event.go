package netcfg

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// EventKind says what changed.
type EventKind string

const (
	RouteAdded   EventKind = "route-added"   // RTM_NEWROUTE, NotifyRouteChange2 MibAddInstance
	RouteRemoved EventKind = "route-removed" // RTM_DELROUTE, MibDeleteInstance
	AddrAdded    EventKind = "addr-added"    // RTM_NEWADDR, NotifyUnicastIpAddressChange MibAddInstance
	AddrRemoved  EventKind = "addr-removed"  // RTM_DELADDR, MibDeleteInstance
)

// Event is one change notification. Exactly one of Route and Address is set.
type Event struct {
	Time    time.Time
	Kind    EventKind
	Route   *Route
	Address *Address
	Step    string // the scenario step running when the event arrived (set by Timeline)
}

// Subject is the normalised line of the route or address the event is about.
func (e Event) Subject() string {
	switch {
	case e.Route != nil:
		return e.Route.Line()
	case e.Address != nil:
		return e.Address.Line()
	}
	return "?"
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s", e.Kind, e.Subject())
}

// Timeline records the change events of a whole scenario, each tagged with
// the step that was running when it arrived. It is safe for concurrent use.
type Timeline struct {
	mu      sync.Mutex
	start   time.Time
	step    string
	steps   []stepMark
	events  []Event
	changed chan struct{} // closed and replaced on every Record
}

type stepMark struct {
	at   time.Time
	name string
}

// NewTimeline starts an empty timeline at the current time.
func NewTimeline() *Timeline {
	return &Timeline{start: time.Now(), step: "setup", changed: make(chan struct{})}
}

// Step marks the start of a scenario step; later events carry its name.
func (t *Timeline) Step(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.step = name
	t.steps = append(t.steps, stepMark{time.Now(), name})
}

// CurrentStep returns the name of the running step.
func (t *Timeline) CurrentStep() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.step
}

// Record appends e, tagging it with the running step and stamping the time
// if the event has none. It is a ready-made Subscribe callback.
func (t *Timeline) Record(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Step = t.step
	t.events = append(t.events, e)
	close(t.changed)
	t.changed = make(chan struct{})
}

// Changed returns a channel closed at the next Record: wait on it instead of
// sleeping.
func (t *Timeline) Changed() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changed
}

// Events returns a copy of the recorded events.
func (t *Timeline) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}

// Matching returns the events of kind k whose subject contains substr.
func (t *Timeline) Matching(k EventKind, substr string) []Event {
	var out []Event
	for _, e := range t.Events() {
		if e.Kind == k && strings.Contains(e.Subject(), substr) {
			out = append(out, e)
		}
	}
	return out
}

// String renders steps and events in time order, times relative to the
// timeline's start:
//
//	+0.012s  == step: after deleting 192.0.2.21
//	+0.013s  [after deleting 192.0.2.21] route-removed default via 192.0.2.1 dev kbh0 proto static
func (t *Timeline) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	si, ei := 0, 0
	for si < len(t.steps) || ei < len(t.events) {
		if ei >= len(t.events) || (si < len(t.steps) && !t.steps[si].at.After(t.events[ei].Time)) {
			fmt.Fprintf(&b, "%+9.3fs  == step: %s\n", t.steps[si].at.Sub(t.start).Seconds(), t.steps[si].name)
			si++
			continue
		}
		e := t.events[ei]
		fmt.Fprintf(&b, "%+9.3fs  [%s] %s\n", e.Time.Sub(t.start).Seconds(), e.Step, e)
		ei++
	}
	if b.Len() == 0 {
		return "(no steps, no events)\n"
	}
	return b.String()
}

// Len is the number of events recorded so far: a mark for Watch.
func (t *Timeline) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.events)
}

// Watch returns a channel that receives every event satisfying match,
// starting with the event at index from (a Len taken before a change, so
// nothing recorded in between is missed), until ctx is done. It is fed by
// Record, so a suite waits on change notifications, e.g. with Gomega:
//
//	mark := tl.Len()
//	... delete the address ...
//	Consistently(tl.Watch(ctx, mark, lost), window).ShouldNot(Receive())
func (t *Timeline) Watch(ctx context.Context, from int, match func(Event) bool) <-chan Event {
	out := make(chan Event, 64)
	next := from
	go func() {
		defer close(out)
		for {
			changed := t.Changed()
			t.mu.Lock()
			fresh := append([]Event(nil), t.events[next:]...)
			next = len(t.events)
			t.mu.Unlock()
			for _, e := range fresh {
				if !match(e) {
					continue
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
