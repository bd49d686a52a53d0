package tcpipreg

import (
	"fmt"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/routeexe"
	"github.com/kbharness/kbharness/netcfg/winreg"
)

// StoreRoutes converts the IPv4 "Persistent Routes:" rows of `route print`
// (the persistent store as TCP/IP reports it) to registry records: on-link
// gateways become invalid, a "Default" metric becomes winreg.DefaultMetric.
func StoreRoutes(t *routeexe.Table) []winreg.Route {
	var out []winreg.Route
	for _, r := range t.Rows {
		if r.Store != netcfg.StorePersistent || r.Family != netcfg.IPv4 {
			continue
		}
		w := winreg.Route{Dst: r.Dst, Metric: r.Metric}
		if !r.OnLink && r.Gateway.IsValid() && !r.Gateway.IsUnspecified() {
			w.Gateway = r.Gateway
		}
		if r.DefaultMetric {
			w.Metric = winreg.DefaultMetric
		}
		out = append(out, w)
	}
	return out
}

// ComparePersistent compares the registry view — the value names of
// HKLM\...\Tcpip\Parameters\PersistentRoutes that Tcpipreg keeps — with the
// persistent store as `route print` shows it. An empty Mismatch means they
// agree; a value name that does not parse is an error naming it.
func ComparePersistent(registryNames []string, routePrint string) (winreg.Mismatch, error) {
	reg, err := winreg.ParsePersistentRoutes(registryNames)
	if err != nil {
		return winreg.Mismatch{}, fmt.Errorf("comparing persistent routes: %w", err)
	}
	t, err := routeexe.ParsePrint(routePrint)
	if err != nil {
		return winreg.Mismatch{}, fmt.Errorf("comparing persistent routes: parsing route print: %w", err)
	}
	return winreg.CrossCheck(reg, StoreRoutes(t)), nil
}
