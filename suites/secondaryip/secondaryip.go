package secondaryip

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/suites/framework"
)

// ScenarioID is the scenario id and its Ginkgo label.
const ScenarioID = "secondary-ip-route-loss"

var _ = Describe("secondary-ip-route-loss: a persistent route survives deleting an additional IP address", Label(ScenarioID), func() {
	var sc *Scenario
	BeforeEach(func() {
		var err error
		sc, err = LoadScenario()
		Expect(err).NotTo(HaveOccurred())
	})

	DescribeTable("add a persistent default route, add additional addresses, delete them one by one",
		func(d netcfg.Dialect, fam netcfg.Family, routeBy, addrBy netcfg.Mechanism, withInterface bool) {
			framework.RequireDialect(d)
			c, err := sc.Case(fam)
			Expect(err).NotTo(HaveOccurred())
			if fam == netcfg.IPv6 && addrBy == netcfg.IPHlpAPILegacy {
				Skip("AddIPAddress is IPv4-only")
			}
			e := framework.NewEnv(sc.Lab)
			e.RequireMechanism(routeBy)
			e.RequireMechanism(addrBy)
			if fam == netcfg.IPv6 && !e.Host.Capabilities().IPv6 {
				Skip("IPv6 unsupported on this host")
			}
			route := c.DefaultRoute(withInterface)
			want := netcfg.Route{Dst: route.Dst, Gateway: route.Gateway, Interface: c.Interface}
			routeAlone := explore.Element{Route: &route}
			history := e.History(addrBy, routeBy, routeAlone)

			e.Step("adding the persistent default route via %s by %s", c.Gateway, routeBy)
			e.AddRoute(routeBy, route)
			Expect(e.WaitFor(sc.Window, routePresent(want))).To(Succeed())

			for _, a := range c.Additional {
				e.Step("adding the additional address %s by %s", a, addrBy)
				e.AddAddress(addrBy, netcfg.AddressSpec{Prefix: a, Interface: c.Interface})
			}
			for _, a := range c.Additional {
				e.Step("deleting the additional address %s by %s", a, addrBy)
				mark := e.Timeline.Len()
				e.DeleteAddress(addrBy, netcfg.AddressSpec{Prefix: a, Interface: c.Interface})
				Expect(e.WaitFor(sc.Window, addressGone(a.String()))).To(Succeed())

				e.Step("after deleting %s", a)
				ctx, cancel := context.WithCancel(context.Background())
				var lost netcfg.Event
				Consistently(e.Timeline.Watch(ctx, mark, removes(want)), sc.Window).ShouldNot(Receive(&lost),
					func() string {
						return fmt.Sprintf("the persistent route was deleted when %s was deleted: %s (during step %q at %s)",
							a, lost, lost.Step, lost.Time.Format("15:04:05.000"))
					})
				cancel()
				Expect(routePresent(want)(e.Snapshot())).To(Succeed())
			}

			e.Step("history independence: the tables equal the reference given the route alone")
			history.ExpectIndependent(explore.ConfigOf(routeAlone), sc.Window)
		},
		entries(),
	)
})

// routeNeedsInterface are the route mechanisms whose syntax requires the
// interface: `netsh interface ipv4 add route PREFIX INTERFACE ...` and
// New-NetRoute -InterfaceAlias (or -InterfaceIndex).
var routeNeedsInterface = map[netcfg.Mechanism]bool{netcfg.Netsh: true, netcfg.PowerShell: true}

// entries crosses, per dialect, family × route mechanism × address
// mechanism × with/without an explicit interface (`route -p add ... IF n`
// vs without). Entries of another dialect than the target's skip.
func entries() []TableEntry {
	var out []TableEntry
	for _, d := range netcfg.Dialects {
		for _, fam := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
			for _, routeBy := range d.RouteMechanisms() {
				for _, addrBy := range d.AddressMechanisms() {
					for _, withIf := range []bool{true, false} {
						if !withIf && routeNeedsInterface[routeBy] {
							continue
						}
						ifText := "without interface"
						if withIf {
							ifText = "with interface"
						}
						out = append(out, Entry(
							fmt.Sprintf("IPv%d, route by %s %s, addresses by %s", fam, routeBy, ifText, addrBy),
							Label(string(d), string(routeBy), string(addrBy)),
							d, fam, routeBy, addrBy, withIf))
					}
				}
			}
		}
	}
	return out
}

// routePresent checks that want is in the active table and the persistent
// store.
func routePresent(want netcfg.Route) func(*netcfg.Snapshot) error {
	return func(s *netcfg.Snapshot) error {
		for _, store := range []netcfg.Store{netcfg.StoreActive, netcfg.StorePersistent} {
			if !s.HasRoute(store, want) {
				return fmt.Errorf("route %s via %s missing from the %s store; the host has:\n%s", want.Dst, want.Gateway, store, s)
			}
		}
		return nil
	}
}

// addressGone checks that the address is no longer on the host.
func addressGone(prefix string) func(*netcfg.Snapshot) error {
	return func(s *netcfg.Snapshot) error {
		for _, a := range s.Addresses {
			if a.Prefix.String() == prefix {
				return fmt.Errorf("address %s still present", prefix)
			}
		}
		return nil
	}
}

// removes matches the removal of want from any store.
func removes(want netcfg.Route) func(netcfg.Event) bool {
	return func(e netcfg.Event) bool {
		return e.Kind == netcfg.RouteRemoved && e.Route != nil && e.Route.Dst == want.Dst && e.Route.Gateway == want.Gateway
	}
}
