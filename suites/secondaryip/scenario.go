// Package secondaryip replays secondary-ip-route-loss: manually added
// persistent routes deleted when an additional IP address is deleted
// (Windows Vista to 2008 R2; ../shared/kb/route-p-lost-on-secondary-ip-delete.txt).
package secondaryip

import (
	"errors"
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
	// Lab is the lab fixture to run on.
	Lab string `yaml:"lab" fixture:"required"`
	// Window is how long the route must survive each delete (the change
	// events are watched this long): 10ms to 5m.
	Window time.Duration `yaml:"window" fixture:"required"`
	// Families are the cases, one per address family: 1 or 2 entries,
	// ipv4 and ipv6 once each at most.
	Families []FamilyCase `yaml:"families" fixture:"required"`
}

// FamilyCase is the scenario's data for one address family.
type FamilyCase struct {
	Family     string         `yaml:"family" fixture:"required"` // "ipv4" or "ipv6"
	Interface  string         `yaml:"interface" fixture:"required"`
	Gateway    netip.Addr     `yaml:"gateway" fixture:"required"`
	Additional []netip.Prefix `yaml:"additional" fixture:"required"` // 1 to MaxAdditional addresses
}

// Bounds of the scenario's values.
const (
	MinWindow     = 10 * time.Millisecond
	MaxWindow     = 5 * time.Minute
	MaxAdditional = 16
)

// Validate checks values the YAML types cannot; Decode gives each error the
// line of its field.
func (s *Scenario) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &fixtures.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if s.Window <= 0 {
		bad("window", "must be a positive duration")
	} else {
		add(fixtures.CheckDuration("window", s.Window, MinWindow, MaxWindow))
	}
	add(fixtures.CheckLen("families", len(s.Families), 1, 2))
	seen := map[string]bool{}
	for i, f := range s.Families {
		field := func(name string) string { return fmt.Sprintf("families[%d].%s", i, name) }
		switch {
		case f.Family != "ipv4" && f.Family != "ipv6":
			bad(field("family"), "%q is not ipv4 or ipv6", f.Family)
		case seen[f.Family]:
			bad(field("family"), "%s given twice", f.Family)
		}
		seen[f.Family] = true
		if !fixtures.IsDocumentation(f.Gateway) {
			bad(field("gateway"), "%s is not a documentation address", f.Gateway)
		}
		if len(f.Additional) == 0 {
			bad(field("additional"), "at least one address needed")
		} else {
			add(fixtures.CheckLen(field("additional"), len(f.Additional), 1, MaxAdditional))
		}
		for j, a := range f.Additional {
			if !fixtures.IsDocumentationPrefix(a) {
				bad(fmt.Sprintf("%s[%d]", field("additional"), j), "%s is not in a documentation range", a)
			}
		}
	}
	return errors.Join(errs...)
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
