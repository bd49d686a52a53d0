//go:build linux

package linuxhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// subscribeBuffer is the receive buffer of the event socket
// (SO_RCVBUFFORCE): room for bursts such as a link going down with
// thousands of routes.
const subscribeBuffer = 8 << 20

// Subscribe delivers route and address changes (RTM_NEWROUTE, RTM_DELROUTE,
// RTM_NEWADDR, RTM_DELADDR, IPv4 and IPv6) to fn from one goroutine. One
// NETLINK_ROUTE socket joins the four multicast groups
// (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_IFADDR,
// RTNLGRP_IPV6_IFADDR), so events arrive in the kernel's order across
// routes and addresses.
//
// Events carry the route or address decoded as Snapshot decodes it, in the
// active store only: a static main-table route's persistent view changes
// with it (see Store), but no separate persistent event is sent. A
// multipath route yields one event per nexthop.
//
// stop closes the socket and waits for the goroutines to finish; after it
// returns fn is not called again. fn must not call stop (it would wait for
// itself); to end the subscription from fn, cancel ctx.
// If the socket overflows (ENOBUFS), the lost events are gone and the
// subscription goes on; Dropped counts such overflows.
func (h *nsHost) Subscribe(ctx context.Context, fn func(netcfg.Event)) (stop func(), err error) {
	s, err := nl.SubscribeAt(h.ns, netns.None(), unix.NETLINK_ROUTE,
		unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR)
	if err != nil {
		return nil, fmt.Errorf("subscribing to route and address changes in %s: %w", h.name, err)
	}
	if err := s.SetReceiveBufferSize(subscribeBuffer, true); err != nil {
		s.Close()
		return nil, fmt.Errorf("sizing the event socket in %s: %w", h.name, err)
	}
	var (
		stopped atomic.Bool
		once    sync.Once
		done    = make(chan struct{}) // closed when the reader returns
		wg      sync.WaitGroup        // reader and ctx watcher
	)
	closeSocket := func() {
		once.Do(func() {
			stopped.Store(true)
			s.Close()
		})
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(done)
		var routes []netcfg.Route
		for {
			msgs, _, err := s.Receive()
			if err != nil {
				if stopped.Load() {
					return
				}
				if errors.Is(err, unix.ENOBUFS) {
					h.dropped.Add(1)
					continue
				}
				// The socket is unusable: end the subscription.
				closeSocket()
				return
			}
			now := time.Now()
			for _, m := range msgs {
				if stopped.Load() {
					return
				}
				var events []netcfg.Event
				switch m.Header.Type {
				case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
					kind := netcfg.RouteAdded
					if m.Header.Type == unix.RTM_DELROUTE {
						kind = netcfg.RouteRemoved
					}
					routes, err = decodeRoute(m.Data, h.ifname, routes[:0])
					if err != nil {
						continue // not a message the kernel sends; nothing to report it to
					}
					for i := range routes {
						r := routes[i]
						events = append(events, netcfg.Event{Time: now, Kind: kind, Route: &r})
					}
				case unix.RTM_NEWADDR, unix.RTM_DELADDR:
					kind := netcfg.AddrAdded
					if m.Header.Type == unix.RTM_DELADDR {
						kind = netcfg.AddrRemoved
					}
					a, ok, err := decodeAddr(m.Data, h.ifname)
					if err != nil || !ok {
						continue
					}
					events = append(events, netcfg.Event{Time: now, Kind: kind, Address: &a})
				}
				for _, e := range events {
					fn(e)
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			closeSocket()
		case <-done:
		}
	}()
	return func() {
		closeSocket()
		wg.Wait()
	}, nil
}

// Dropped returns how many times an event socket of h overflowed (ENOBUFS)
// and lost events.
func (h *nsHost) Dropped() int64 { return h.dropped.Load() }
