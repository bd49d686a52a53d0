//go:build linux

package watchdog

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// RouteRead returns a probe doing one netlink round trip inside namespace ns
// (/run/netns/ns; "" for the caller's own): RTM_GETROUTE for dst, what
// `ip route get DST` sends. Close releases its netlink socket.
func RouteRead(ns string, dst netip.Addr) (Probe, func() error, error) {
	h, err := handleIn(ns)
	if err != nil {
		return nil, nil, fmt.Errorf("opening netlink in namespace %q: %w", ns, err)
	}
	// The socket timeout bounds a check that blocks in recvmsg.
	if err := h.SetSocketTimeout(DefaultTimeout); err != nil {
		h.Close()
		return nil, nil, fmt.Errorf("setting netlink socket timeout: %w", err)
	}
	check := func(ctx context.Context) error {
		if _, err := h.RouteGet(dst.AsSlice()); err != nil {
			return fmt.Errorf("RTM_GETROUTE %s: %w", dst, err)
		}
		return nil
	}
	return ProbeFunc("netlink-route-get", check), func() error { h.Close(); return nil }, nil
}

func handleIn(ns string) (*netlink.Handle, error) {
	if ns == "" {
		return netlink.NewHandle()
	}
	nh, err := netns.GetFromName(ns)
	if err != nil {
		return nil, err
	}
	defer nh.Close()
	return netlink.NewHandleAt(nh)
}

// DialFrom returns a dial function that opens TCP connections to addr from
// inside namespace ns. The socket is created on a thread switched into ns
// (setns) and keeps that namespace after the thread switches back.
func DialFrom(ns string, addr netip.AddrPort) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var conn net.Conn
		err := inNamespace(ns, func() error {
			var d net.Dialer
			if _, ok := ctx.Deadline(); !ok {
				d.Timeout = time.Second
			}
			// A single literal address is dialled on this goroutine, so
			// the socket is made on the thread inside ns.
			c, err := d.DialContext(ctx, "tcp", addr.String())
			conn = c
			return err
		})
		return conn, err
	}
}

// inNamespace runs fn on a locked OS thread switched into namespace ns. If
// the thread cannot be switched back it stays locked, so Go retires it.
func inNamespace(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	target, err := netns.GetFromName(ns)
	if err != nil {
		return fmt.Errorf("opening namespace %s: %w", ns, err)
	}
	defer target.Close()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("opening own namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering namespace %s: %w", ns, err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return fmt.Errorf("leaving namespace %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}
