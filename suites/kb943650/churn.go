package kb943650

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kbharness/kbharness/internal/mcast"
	"github.com/kbharness/kbharness/internal/watchdog"
	"github.com/kbharness/kbharness/netcfg"
)

// churner runs a stress's periodic loops until end, keeping the first few
// errors they meet (errors do not fail a stress by themselves).
type churner struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   *[]string
}

// maxChurnErrors is how many churn errors a result keeps.
const maxChurnErrors = 5

func newChurner(ctx context.Context, errs *[]string) *churner {
	ctx, cancel := context.WithCancel(ctx)
	return &churner{ctx: ctx, cancel: cancel, errs: errs}
}

// note keeps err if fewer than maxChurnErrors are kept.
func (c *churner) note(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(*c.errs) < maxChurnErrors {
		*c.errs = append(*c.errs, err.Error())
	}
}

// every calls fn(0), fn(1), ... every d on its own goroutine until end.
func (c *churner) every(d time.Duration, fn func(i int)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-c.ctx.Done():
				return
			case <-t.C:
				fn(i)
			}
		}
	}()
}

// end stops every loop and waits for them; it may be called again.
func (c *churner) end() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

// groups opens n receivers that join and leave groups in turn, one change
// every interval each, counting joins and leaves; it returns the closers of
// the receivers (each ends the churn first).
func (c *churner) groups(n int, open func() (*mcast.Receiver, error), groups []netip.Addr, interval time.Duration, joins, leaves *int64) ([]func() error, error) {
	var closers []func() error
	for i := 0; i < n; i++ {
		r, err := open()
		if err != nil {
			return closers, err
		}
		closers = append(closers, func() error { c.end(); return r.Close() })
		go r.Receive(func([]byte) {})
		c.every(interval, func(k int) {
			g := groups[(k/2)%len(groups)]
			var err error
			if k%2 == 0 {
				if err = r.Join(g); err == nil {
					atomic.AddInt64(joins, 1)
				}
			} else if err = r.Leave(g); err == nil {
				atomic.AddInt64(leaves, 1)
			}
			if err != nil {
				c.note(err)
			}
		})
	}
	return closers, nil
}

// watch starts the liveness watchdog over probes with the scenario's
// timings, logging stalls as they happen (and passing each to onStall, if
// set). The returned stop, idempotent, stores the report in into.
func watch(sc *Scenario, tl *netcfg.Timeline, log io.Writer, onStall func(watchdog.Stall), into *watchdog.Report, probes ...watchdog.Probe) (stop func() error) {
	wd := watchdog.Start(watchdog.Config{
		Interval: sc.Watchdog.Interval, Timeout: sc.Watchdog.Timeout, Threshold: sc.Watchdog.Threshold,
		Step: tl.CurrentStep,
		OnStall: func(s watchdog.Stall) {
			fmt.Fprintf(log, "watchdog: STALL in progress: %v\n", s)
			if onStall != nil {
				onStall(s)
			}
		},
		OnRecover: func(s watchdog.Stall) { fmt.Fprintf(log, "watchdog: host answers again: %v\n", s) },
	}, probes...)
	var once sync.Once
	return func() error {
		once.Do(func() { *into = wd.Stop() })
		return nil
	}
}
