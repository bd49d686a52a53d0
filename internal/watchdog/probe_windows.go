//go:build windows

package watchdog

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"
)

// RouteRead returns a probe doing one iphlpapi round trip: GetIpForwardTable2
// for dst's family, checking the table answers. ns is ignored (no namespaces
// on Windows).
func RouteRead(ns string, dst netip.Addr) (Probe, func() error, error) {
	family := winipcfg.AddressFamily(windows.AF_INET)
	if dst.Is6() {
		family = windows.AF_INET6
	}
	check := func(ctx context.Context) error {
		if _, err := winipcfg.GetIPForwardTable2(family); err != nil {
			return fmt.Errorf("GetIpForwardTable2: %w", err)
		}
		return nil
	}
	return ProbeFunc("iphlpapi-route-table", check), func() error { return nil }, nil
}

// DialFrom dials addr from the host itself (ns is ignored).
func DialFrom(ns string, addr netip.AddrPort) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr.String())
	}
}
