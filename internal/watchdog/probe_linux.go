//go:build linux

package watchdog

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/kbharness/kbharness/netcfg/linuxhost"
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

// handleIn opens a netlink handle inside namespace ns.
func handleIn(ns string) (h *netlink.Handle, err error) {
	err = linuxhost.Do(ns, func() error {
		h, err = netlink.NewHandle()
		return err
	})
	return h, err
}

// DialFrom returns a dial function that opens TCP connections to addr from
// inside namespace ns. The socket is created on a thread switched into ns
// (setns) and keeps that namespace after the thread switches back.
func DialFrom(ns string, addr netip.AddrPort) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var conn net.Conn
		err := linuxhost.Do(ns, func() error {
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
