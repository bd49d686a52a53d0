package winhost

import (
	"context"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"sync"
	"time"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"
)

// Subscribe registers NotifyRouteChange2 and NotifyUnicastIpAddressChange
// callbacks (winipcfg RegisterRouteChangeCallback,
// RegisterUnicastAddressChangeCallback) and delivers their add and delete
// notifications as Events, in arrival order, from one goroutine. Parameter
// changes are not delivered. Under Wine the callbacks register but never
// fire.
//
// When ctx is done or stop is called the callbacks are unregistered; stop
// also waits for the delivering goroutine, so fn is not called after it
// returns. fn must not call stop (it would wait for itself); to end the
// subscription from fn, cancel ctx.
func (h *windowsHost) Subscribe(ctx context.Context, fn func(netcfg.Event)) (func(), error) {
	if h.probe.events != nil {
		return nil, fmt.Errorf("subscribing to changes: %w", h.probe.events)
	}
	q := newEventQueue()
	routes, err := winipcfg.RegisterRouteChangeCallback(func(t winipcfg.MibNotificationType, row *winipcfg.MibIPforwardRow2) {
		if kind, ok := eventKind(t, netcfg.RouteAdded, netcfg.RouteRemoved); ok {
			copied := *row // the row lives only for the callback
			q.push(pending{at: time.Now(), kind: kind, route: &copied})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribing to changes: NotifyRouteChange2: %w", err)
	}
	addrs, err := winipcfg.RegisterUnicastAddressChangeCallback(func(t winipcfg.MibNotificationType, row *winipcfg.MibUnicastIPAddressRow) {
		if kind, ok := eventKind(t, netcfg.AddrAdded, netcfg.AddrRemoved); ok {
			copied := *row
			q.push(pending{at: time.Now(), kind: kind, addr: &copied})
		}
	})
	if err != nil {
		_ = routes.Unregister()
		return nil, fmt.Errorf("subscribing to changes: NotifyUnicastIpAddressChange: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			// Unregister waits for callbacks in flight; they only queue.
			_ = routes.Unregister()
			_ = addrs.Unregister()
		}()
		names := map[uint32]string{}
		for {
			batch, ok := q.wait(ctx)
			if !ok {
				return
			}
			for _, p := range batch {
				fn(p.event(names))
			}
		}
	}()
	stop := func() {
		cancel()
		<-done
	}
	return stop, nil
}

func eventKind(t winipcfg.MibNotificationType, added, removed netcfg.EventKind) (netcfg.EventKind, bool) {
	switch t {
	case winipcfg.MibAddInstance:
		return added, true
	case winipcfg.MibDeleteInstance:
		return removed, true
	}
	return "", false
}

// pending is a notification copied out of its callback, converted to an
// Event on the delivering goroutine.
type pending struct {
	at    time.Time
	kind  netcfg.EventKind
	route *winipcfg.MibIPforwardRow2
	addr  *winipcfg.MibUnicastIPAddressRow
}

// event converts p, naming interfaces through names, which it refreshes
// (GetAdaptersAddresses) when an index is new.
func (p pending) event(names map[uint32]string) netcfg.Event {
	idx := uint32(0)
	if p.route != nil {
		idx = p.route.InterfaceIndex
	} else {
		idx = p.addr.InterfaceIndex
	}
	if _, known := names[idx]; !known {
		refreshNames(names)
	}
	e := netcfg.Event{Time: p.at, Kind: p.kind}
	if p.route != nil {
		r := routeFromRow(p.route, names)
		e.Route = &r
	} else {
		a := addressFromRow(p.addr, names)
		e.Address = &a
	}
	return e
}

func refreshNames(names map[uint32]string) {
	adapters, err := winipcfg.GetAdaptersAddresses(windows.AF_UNSPEC, winipcfg.GAAFlagIncludeAllInterfaces)
	if err != nil {
		return // events then carry an empty interface name
	}
	for _, a := range adapters {
		for _, i := range []uint32{a.IfIndex, a.IPv6IfIndex} {
			if i != 0 {
				names[i] = a.FriendlyName()
			}
		}
	}
}

// eventQueue is an unbounded FIFO between the OS callback threads, which
// must not block, and the one delivering goroutine.
type eventQueue struct {
	mu     sync.Mutex
	items  []pending
	signal chan struct{} // holds a token while items is non-empty
}

func newEventQueue() *eventQueue { return &eventQueue{signal: make(chan struct{}, 1)} }

func (q *eventQueue) push(p pending) {
	q.mu.Lock()
	q.items = append(q.items, p)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// wait returns everything queued, blocking until there is something or ctx
// is done.
func (q *eventQueue) wait(ctx context.Context) ([]pending, bool) {
	select {
	case <-ctx.Done():
		return nil, false
	case <-q.signal:
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := q.items
	q.items = nil
	return batch, true
}
