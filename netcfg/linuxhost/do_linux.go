//go:build linux

package linuxhost

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"

	"github.com/kbharness/kbharness/netcfg"
)

// Do runs fn inside the network namespace ns (a name under /run/netns, or a
// path; "" runs fn here, unchanged): on a new goroutine whose OS thread is
// locked and switched in with setns(2), and switched back afterwards.
// Sockets fn makes, and processes it starts, stay in ns; goroutines fn
// starts do not run in it. If the thread cannot be switched back it stays
// locked, so Go retires it with the goroutine. This is the one way into a
// namespace: the lab, the hammer, the watchdog and the runners all use it.
func Do(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		target, err := open(ns)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening the current namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering namespace %s: %w", ns, err)
			return
		}
		err = fn()
		if rerr := netns.Set(orig); rerr != nil {
			// The thread stays locked and in ns: it dies with this goroutine.
			errc <- errors.Join(err, fmt.Errorf("leaving namespace %s: %w", ns, rerr))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// open opens a namespace by name under /run/netns, or by path.
func open(ns string) (netns.NsHandle, error) {
	var h netns.NsHandle
	var err error
	if strings.ContainsRune(ns, '/') {
		h, err = netns.GetFromPath(ns)
	} else {
		h, err = netns.GetFromName(ns)
	}
	if err != nil {
		return h, fmt.Errorf("opening namespace %s: %w", ns, err)
	}
	return h, nil
}

// Runner runs commands inside the network namespace ns: the process is
// forked by a thread that Do switched into ns (as `ip netns exec` does,
// without remounting /sys).
func Runner(ns string) netcfg.Runner {
	return netcfg.RunnerFunc(func(ctx context.Context, argv []string) (netcfg.Output, error) {
		if len(argv) == 0 {
			return netcfg.Output{}, &netcfg.CommandError{Err: errors.New("empty argv")}
		}
		var out netcfg.Output
		err := Do(ns, func() error {
			var err error
			out, err = netcfg.ExecCmd(exec.CommandContext(ctx, argv[0], argv[1:]...))
			return err
		})
		return out, err
	})
}
