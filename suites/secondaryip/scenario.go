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

// Scenario is the decoded scenario fixture; the YAML documents each field.
type Scenario struct {
	Lab      string        `yaml:"lab" fixture:"required"`    // lab fixture to run on
	Window   time.Duration `yaml:"window" fixture:"required"` // how long the route must survive each delete
	Families []FamilyCase  `yaml:"families" fixture:"required"`
}

// FamilyCase is the scenario's data for one address family.
type FamilyCase struct {
	Family     string         `yaml:"family" fixture:"required"` // "ipv4" or "ipv6"
	Interface  string         `yaml:"interface" fixture:"required"`
	Gateway    netip.Addr     `yaml:"gateway" fixture:"required"`
	Additional []netip.Prefix `yaml:"additional" fixture:"required"`
}

// Validate checks values the YAML types cannot; Decode gives each error the
// line of its field.
func (s *Scenario) Validate() error {
	if s.Window <= 0 {
		return &fixtures.FieldError{Field: "window", Msg: "must be a positive duration"}
	}
	for i, f := range s.Families {
		field := func(name string) string { return fmt.Sprintf("families[%d].%s", i, name) }
		if f.Family != "ipv4" && f.Family != "ipv6" {
			return &fixtures.FieldError{Field: field("family"), Msg: fmt.Sprintf("%q is not ipv4 or ipv6", f.Family)}
		}
		if !fixtures.IsDocumentation(f.Gateway) {
			return &fixtures.FieldError{Field: field("gateway"), Msg: fmt.Sprintf("%s is not a documentation address", f.Gateway)}
		}
		if len(f.Additional) == 0 {
			return &fixtures.FieldError{Field: field("additional"), Msg: "at least one address needed"}
		}
		for j, a := range f.Additional {
			if !fixtures.IsDocumentationPrefix(a) {
				return &fixtures.FieldError{Field: fmt.Sprintf("%s[%d]", field("additional"), j), Msg: fmt.Sprintf("%s is not in a documentation range", a)}
			}
		}
	}
	return nil
}

// LoadScenario decodes and checks the embedded scenario fixture.
func LoadScenario() (*Scenario, error) {
	var s Scenario
	if err := fixtures.DecodeEmbedded(ScenarioFile, &s); err != nil {
		return nil, err
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
