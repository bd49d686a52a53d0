//go:build !linux && !windows

package watchdog

import (
	"context"
	"net"
	"net/netip"

	"github.com/kbharness/kbharness/netcfg"
)

// RouteRead is unsupported here: kbharness reads routes by netlink or iphlpapi.
func RouteRead(ns string, dst netip.Addr) (Probe, func() error, error) {
	return nil, nil, netcfg.Unsupported("route-read probe", "needs netlink (Linux) or iphlpapi (Windows)")
}

// DialFrom dials addr from the host itself (ns is ignored).
func DialFrom(ns string, addr netip.AddrPort) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr.String())
	}
}
