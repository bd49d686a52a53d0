// Package secondaryip replays secondary-ip-route-loss: manually added
// persistent routes deleted when an additional IP address is deleted
// (Windows Vista to 2008 R2; ../shared/kb/route-p-lost-on-secondary-ip-delete.txt).
package secondaryip

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// ScenarioFile is the scenario's fixture in the embedded fixtures.
const ScenarioFile = "scenarios/secondary-ip-route-loss.yaml"

// Scenario is the decoded scenario fixture.
type Scenario struct {
	// Lab names the lab fixture to run on.
	Lab string `yaml:"lab"`
	// Window is how long the route must survive each delete.
	Window time.Duration `yaml:"window"`
	// Families holds one case per address family.
	Families []FamilyCase `yaml:"families"`
}

// FamilyCase is the scenario's data for one address family.
type FamilyCase struct {
	Family     string         `yaml:"family"` // "ipv4" or "ipv6"
	Interface  string         `yaml:"interface"`
	Gateway    netip.Addr     `yaml:"gateway"`
	Additional []netip.Prefix `yaml:"additional"`
}

// LoadScenario decodes and checks the embedded scenario fixture.
func LoadScenario() (*Scenario, error) {
	data, err := fixtures.ReadEmbedded(ScenarioFile)
	if err != nil {
		return nil, err
	}
	var s Scenario
	if err := fixtures.Decode(ScenarioFile, data, &s); err != nil {
		return nil, err
	}
	if s.Window <= 0 {
		return nil, fmt.Errorf("%s: field window: must be a positive duration", ScenarioFile)
	}
	for i, f := range s.Families {
		if f.Family != "ipv4" && f.Family != "ipv6" {
			return nil, fmt.Errorf("%s: families[%d].family: %q is not ipv4 or ipv6", ScenarioFile, i, f.Family)
		}
		if len(f.Additional) == 0 {
			return nil, fmt.Errorf("%s: families[%d].additional: at least one address needed", ScenarioFile, i)
		}
	}
	return &s, nil
}

// Case returns the data of family fam.
func (s *Scenario) Case(fam netcfg.Family) (FamilyCase, error) {
	want := map[netcfg.Family]string{netcfg.IPv4: "ipv4", netcfg.IPv6: "ipv6"}[fam]
	for _, f := range s.Families {
		if f.Family == want {
			return f, nil
		}
	}
	return FamilyCase{}, fmt.Errorf("%s: no %s family case", ScenarioFile, want)
}

// DefaultRoute is the persistent default route of the article's step 2, with
// or without an explicit interface.
func (f FamilyCase) DefaultRoute(withInterface bool) netcfg.RouteSpec {
	dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if f.Gateway.Is6() {
		dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	r := netcfg.RouteSpec{Dst: dst, Gateway: f.Gateway, Persistent: true}
	if withInterface {
		r.Interface = f.Interface
	}
	return r
}
