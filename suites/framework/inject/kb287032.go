package inject

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// KB287032 emulates KB287032 on the real kernel: TCP/IP that does not keep
// routes right when dynamic addresses leave a multihomed host in another
// order than they came. It remembers the order in which addresses were
// added after it started (RTM_NEWADDR); when one is removed (RTM_DELADDR)
// while an older one is still present — not FIFO, the article's workaround —
// it leaves a stale host route of the removed address in the main table
// (RTM_NEWROUTE `ADDR/32 dev IF`, /128 for IPv6), as if the address's route
// had never been cleaned up. FIFO removal leaves the tables correct.
const KB287032 = "kb287032"

func init() { Register(KB287032, startKB287032) }

func startKB287032(ctx context.Context, l *lab.Lab) (func() error, error) {
	start, err := l.Host.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the addresses present at start: %w", err)
	}
	present := map[netcfg.AddressSpec]bool{}
	for _, a := range start.Addresses {
		present[netcfg.AddressSpec{Prefix: a.Prefix, Interface: a.Interface}] = true
	}
	var (
		mu    sync.Mutex
		order []netcfg.AddressSpec // dynamic addresses, oldest first
		errs  []error
	)
	ctx, cancel := context.WithCancel(ctx)
	// The callback runs on the subscription's one goroutine, so the stale
	// route is added before any later event is handled.
	stopEvents, err := l.Host.Subscribe(ctx, func(e netcfg.Event) {
		if e.Address == nil || e.Address.IsNoise() {
			return
		}
		a := netcfg.AddressSpec{Prefix: e.Address.Prefix, Interface: e.Address.Interface}
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case netcfg.AddrAdded:
			if !present[a] && !slices.Contains(order, a) {
				order = append(order, a)
			}
		case netcfg.AddrRemoved:
			i := slices.Index(order, a)
			if i < 0 {
				return
			}
			order = slices.Delete(order, i, i+1)
			if i == 0 {
				return // FIFO: the workaround holds
			}
			stale := netcfg.RouteSpec{Dst: netip.PrefixFrom(a.Prefix.Addr(), a.Prefix.Addr().BitLen()), Interface: a.Interface}
			if err := l.Host.AddRoute(ctx, netcfg.Netlink, stale); err != nil && !errors.Is(err, netcfg.ErrExists) && ctx.Err() == nil {
				errs = append(errs, fmt.Errorf("leaving a stale route of %s: %w", a.Prefix, err))
			}
		}
	})
	if err != nil {
		cancel()
		return nil, err
	}
	return func() error {
		stopEvents()
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			return fmt.Errorf("injector %s: %w", KB287032, errors.Join(errs...))
		}
		return nil
	}, nil
}
