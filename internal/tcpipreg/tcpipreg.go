// Package tcpipreg controls the TCP/IP Registry Compatibility service
// (Tcpipreg) with every request bounded by a timeout — KB952876's symptom is
// a request that never completes — and compares the registry view of the
// persistent routes it maintains with the persistent store.
//
// The service calls sit behind Controller: service_windows.go implements it
// with golang.org/x/sys/windows/svc/mgr (QueryServiceStatus, ControlService,
// StartService); the timeout logic here is OS-neutral and tested with a
// controller that hangs.
package tcpipreg

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ServiceName is the service's key name.
const ServiceName = "tcpipreg"

// State is a service state as QueryServiceStatus reports it.
type State string

const (
	Stopped         State = "stopped"
	StartPending    State = "start-pending"
	StopPending     State = "stop-pending"
	Running         State = "running"
	ContinuePending State = "continue-pending"
	PausePending    State = "pause-pending"
	Paused          State = "paused"
)

// Controller is the service control manager's view of one service. Each
// call may block for as long as the service does not answer.
type Controller interface {
	Query() (State, error) // QueryServiceStatus
	Stop() error           // ControlService(SERVICE_CONTROL_STOP); does not wait for Stopped
	Start() error          // StartService; does not wait for Running
}

// ErrNotResponding matches the error of a request that did not complete
// within its bound.
var ErrNotResponding = errors.New("Tcpipreg not responding")

// Bounded runs each request of C under a timeout.
type Bounded struct {
	C       Controller
	Timeout time.Duration // per request, and per wait for a state
	Poll    time.Duration // between state queries while waiting; 0: Timeout/20
}

// call runs fn and gives up after the timeout. A call that never returns
// leaves its goroutine blocked: there is no way to cancel an SCM request.
func (b Bounded) call(ctx context.Context, what string, fn func() error) error {
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- fn() }()
	t := time.NewTimer(b.Timeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s of %s: %w", what, ServiceName, err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("%w: %s did not complete within %s", ErrNotResponding, what, b.Timeout)
	case <-ctx.Done():
		return fmt.Errorf("%s of %s after %s: %w", what, ServiceName, time.Since(start).Round(time.Millisecond), ctx.Err())
	}
}

// Query returns the service state, within the timeout.
func (b Bounded) Query(ctx context.Context) (State, error) {
	var s State
	err := b.call(ctx, "query", func() error {
		var err error
		s, err = b.C.Query()
		return err
	})
	return s, err
}

// waitFor queries until the service is in want, within the timeout.
func (b Bounded) waitFor(ctx context.Context, want State) error {
	poll := b.Poll
	if poll <= 0 {
		poll = b.Timeout / 20
	}
	deadline := time.NewTimer(b.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	last := State("")
	for {
		s, err := b.Query(ctx)
		if err != nil {
			return err
		}
		if s == want {
			return nil
		}
		last = s
		select {
		case <-deadline.C:
			return fmt.Errorf("%w: still %s, not %s, %s after the request", ErrNotResponding, last, want, b.Timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Cycle is how long each step of a stop/start cycle took.
type Cycle struct {
	Stop, Stopped, Start, Running time.Duration
}

// StopStart stops the service and waits for Stopped, then starts it and
// waits for Running — `net stop tcpipreg` and `net start tcpipreg` — each
// step bounded. The error names the step that did not complete.
func (b Bounded) StopStart(ctx context.Context) (Cycle, error) {
	var c Cycle
	steps := []struct {
		took *time.Duration
		name string
		run  func() error
	}{
		{&c.Stop, "stop request", func() error { return b.call(ctx, "stop request", b.C.Stop) }},
		{&c.Stopped, "wait for stopped", func() error { return b.waitFor(ctx, Stopped) }},
		{&c.Start, "start request", func() error { return b.call(ctx, "start request", b.C.Start) }},
		{&c.Running, "wait for running", func() error { return b.waitFor(ctx, Running) }},
	}
	for _, s := range steps {
		t0 := time.Now()
		err := s.run()
		*s.took = time.Since(t0)
		if err != nil {
			return c, fmt.Errorf("stop/start cycle of %s: %s: %w", ServiceName, s.name, err)
		}
	}
	return c, nil
}
