//go:build linux

package lab

import (
	"context"
	"fmt"

	"github.com/kbharness/kbharness/netcfg"
)

// addRoutes installs the fixture's routes (f.Routes: an imported host's
// routes besides its addresses' on-link ones) on the host of an owned lab,
// in fixture order, by netlink (RTM_NEWROUTE in the main table, answered
// once the route is in it): persistent routes proto static (netcfg's
// persistent view on Linux), others proto boot. Equivalent to
//
//	ip -n NS route add DST [via GW] dev DEV [metric N] [proto static]
//
// A route the kernel refuses is an error naming routes[i].
func (l *Lab) addRoutes(ctx context.Context, h netcfg.Host) error {
	for i, r := range l.Fixture.Routes {
		if err := h.AddRoute(ctx, netcfg.Netlink, RouteSpec(l.Fixture, r)); err != nil {
			return fmt.Errorf("adding routes[%d] (%s) in %s: %w", i, RouteString(l.Fixture, r), l.Namespaces[HostRole], err)
		}
	}
	return nil
}
