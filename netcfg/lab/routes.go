package lab

import (
	"fmt"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// The pure side of a fixture's routes, on every OS; routes_linux.go
// installs them in the labs New builds.

// RouteInterface is the host interface a fixture route leaves by: its
// Interface, or the link whose peer holds its gateway ("" if none does;
// Validate refuses such a fixture).
func RouteInterface(f *fixtures.Lab, r fixtures.Route) string {
	if r.Interface != "" {
		return r.Interface
	}
	for _, k := range f.Links {
		for _, p := range k.PeerAddresses {
			if p.Addr() == r.Gateway {
				return k.Interface
			}
		}
	}
	return ""
}

// RouteSpec is the change that installs fixture route r.
func RouteSpec(f *fixtures.Lab, r fixtures.Route) netcfg.RouteSpec {
	return netcfg.RouteSpec{Dst: r.Dst, Gateway: r.Gateway, Interface: RouteInterface(f, r), Metric: r.Metric, Persistent: r.Persistent}
}

// RouteString renders a fixture route as `ip route add` takes it
// (DST [via GW] dev DEV [metric N] [proto static]).
func RouteString(f *fixtures.Lab, r fixtures.Route) string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	s += " dev " + RouteInterface(f, r)
	if r.Metric != 0 {
		s += fmt.Sprintf(" metric %d", r.Metric)
	}
	if r.Persistent {
		s += " proto static"
	}
	return s
}
