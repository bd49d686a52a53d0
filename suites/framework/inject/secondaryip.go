package inject

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// SecondaryIPRouteLoss emulates the secondary-ip-route-loss bug on the real
// kernel: when an address is deleted from an interface (RTM_DELADDR), it
// deletes the static routes (the persistent ones) on that interface, as the
// broken Tcpip.sys did with `route -p` routes.
const SecondaryIPRouteLoss = "secondary-ip-route-loss"

func init() { Register(SecondaryIPRouteLoss, startSecondaryIPRouteLoss) }

func startSecondaryIPRouteLoss(ctx context.Context, l *lab.Lab) (func() error, error) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		queued = make(chan string, 64)
	)
	stopEvents, err := l.Host.Subscribe(ctx, func(e netcfg.Event) {
		if e.Kind == netcfg.AddrRemoved && e.Address != nil {
			select {
			case queued <- e.Address.Interface:
			default:
			}
		}
	})
	if err != nil {
		cancel()
		return nil, err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ifname := <-queued:
				// An error after stop cancelled ctx is the stop, not a failure.
				if err := deleteStaticRoutes(ctx, l.Host, ifname); err != nil && ctx.Err() == nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}
	}()
	return func() error {
		stopEvents()
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			return fmt.Errorf("injector %s: %w", SecondaryIPRouteLoss, errs[0])
		}
		return nil
	}, nil
}

// deleteStaticRoutes deletes every active static route on ifname
// (`ip route flush dev IF proto static`).
func deleteStaticRoutes(ctx context.Context, h netcfg.Host, ifname string) error {
	snap, err := h.Snapshot(ctx)
	if err != nil {
		return err
	}
	for _, r := range snap.Routes {
		if r.Store != netcfg.StoreActive || r.Protocol != "static" || r.Interface != ifname {
			continue
		}
		spec := netcfg.RouteSpec{Dst: r.Dst, Gateway: r.Gateway, Interface: r.Interface, Metric: r.Metric, Persistent: true}
		if err := h.DeleteRoute(ctx, netcfg.Netlink, spec); err != nil && !errors.Is(err, netcfg.ErrNotFound) {
			return fmt.Errorf("deleting %s: %w", r.Line(), err)
		}
	}
	return nil
}
