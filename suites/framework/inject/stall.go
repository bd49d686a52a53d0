package inject

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kbharness/kbharness/internal/watchdog"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// Stall makes the lab stop responding for a while, as a host hit by
// KB943650 does: once the watchdog's echo responder runs, it waits
// StallAfter, then SIGSTOPs the responder for StallFor and SIGCONTs it.
// KBHARNESS_STALL="AFTER:FOR" (e.g. "2s:3s") overrides both.
const Stall = "stall"

// Defaults of the stall's timing.
const (
	StallAfter = 2 * time.Second
	StallFor   = 3 * time.Second
)

func init() { Register(Stall, startStall) }

// StallTiming reads KBHARNESS_STALL ("AFTER:FOR"), defaulting to
// StallAfter:StallFor.
func StallTiming() (after, length time.Duration, err error) {
	v := os.Getenv("KBHARNESS_STALL")
	if v == "" {
		return StallAfter, StallFor, nil
	}
	a, f, ok := strings.Cut(v, ":")
	if ok {
		if after, err = time.ParseDuration(a); err == nil {
			length, err = time.ParseDuration(f)
		}
	}
	if !ok || err != nil || after < 0 || length <= 0 {
		return 0, 0, fmt.Errorf("KBHARNESS_STALL=%q: want AFTER:FOR durations, e.g. 2s:3s", v)
	}
	return after, length, nil
}

func startStall(ctx context.Context, l *lab.Lab) (func() error, error) {
	after, length, err := StallTiming()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		paused  *watchdog.Responder
		stepErr error
	)
	resume := func() {
		mu.Lock()
		defer mu.Unlock()
		if paused != nil {
			stepErr = errors.Join(stepErr, paused.Resume())
			paused = nil
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := watchdog.WaitResponder(ctx)
		if err != nil {
			return // the spec ran no watchdog: nothing to stall
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(after):
		}
		mu.Lock()
		if err := r.Pause(); err != nil {
			stepErr = err
			mu.Unlock()
			return
		}
		paused = r
		mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(length):
		}
		resume()
	}()
	return func() error {
		cancel()
		wg.Wait()
		resume()
		return stepErr
	}, nil
}
