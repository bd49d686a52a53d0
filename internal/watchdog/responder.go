package watchdog

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
)

// ResponderEnv names the environment variable that turns a binary importing
// this package into an echo responder: its value is the TCP address to
// listen on. See ServeIfResponder.
const ResponderEnv = "KBHARNESS_ECHO_RESPONDER"

// ParentEnv names the environment variable holding the pid of the process
// that started a responder; the responder exits at once if that process is
// not (or no longer) its parent. See StartResponder.
const ParentEnv = "KBHARNESS_ECHO_PARENT"

// responderReady is the line a responder prints once it listens.
const responderReady = "kbharness-echo-ready"

// ServeIfResponder turns this process into an echo responder when
// ResponderEnv is set: it listens there, prints a ready line, echoes until
// killed or its parent dies, and never returns. Otherwise it returns at
// once. Suite packages call it from init so the suite binary can re-exec
// itself as the responder inside a peer namespace.
func ServeIfResponder() {
	addr := os.Getenv(ResponderEnv)
	if addr == "" {
		return
	}
	guardParent()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo responder: listening on %s: %v\n", addr, err)
		os.Exit(2)
	}
	fmt.Println(responderReady)
	err = ServeEcho(l)
	fmt.Fprintf(os.Stderr, "echo responder: %v\n", err)
	os.Exit(1)
}

// Responders started by StartResponder are announced here so a fault
// injector (suites/framework/inject "stall") can find the one to pause.
var responders = struct {
	sync.Mutex
	current *Responder
	changed chan struct{}
}{changed: make(chan struct{})}

func announce(r *Responder) {
	responders.Lock()
	defer responders.Unlock()
	responders.current = r
	close(responders.changed)
	responders.changed = make(chan struct{})
}

func withdraw(r *Responder) {
	responders.Lock()
	defer responders.Unlock()
	if responders.current == r {
		responders.current = nil
	}
}

// WaitResponder returns the running echo responder, waiting for one to
// start if none runs yet.
func WaitResponder(ctx context.Context) (*Responder, error) {
	for {
		responders.Lock()
		r, changed := responders.current, responders.changed
		responders.Unlock()
		if r != nil {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for an echo responder: %w", ctx.Err())
		case <-changed:
		}
	}
}
