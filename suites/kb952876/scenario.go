// Package kb952876 replays KB952876: the TCP/IP Registry Compatibility
// service (Tcpipreg) stops responding under stress on Windows Vista and
// Server 2008 (../shared/kb/KB952876-*). It churns persistent routes while
// querying and cycling the service with bounded requests, then compares the
// registry view of the persistent routes with the persistent store.
package kb952876

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// ScenarioFile is the scenario's fixture in the embedded fixtures.
const ScenarioFile = "scenarios/kb952876.yaml"

// Scenario is the decoded fixture; fixtures/scenarios/kb952876.yaml
// documents each field.
type Scenario struct {
	Interface     string           `yaml:"interface" fixture:"required"`
	Gateway       netip.Addr       `yaml:"gateway" fixture:"required"`
	Routes        int              `yaml:"routes" fixture:"required"`
	Base          netip.Prefix     `yaml:"base" fixture:"required"`
	Window        int              `yaml:"window" fixture:"required"`
	Mechanism     netcfg.Mechanism `yaml:"mechanism" fixture:"required"`
	Timeout       time.Duration    `yaml:"timeout" fixture:"required"`
	QueryInterval time.Duration    `yaml:"queryInterval" fixture:"required"`
	Cycles        int              `yaml:"cycles"`
}

// benchRange is 198.18.0.0/15, where bulk routes go.
var benchRange = netip.MustParsePrefix("198.18.0.0/15")

// Validate checks values the YAML types cannot.
func (s *Scenario) Validate() error {
	switch {
	case s.Routes <= 0:
		return &fixtures.FieldError{Field: "routes", Msg: "must be positive"}
	case s.Window <= 0:
		return &fixtures.FieldError{Field: "window", Msg: "must be positive"}
	case !benchRange.Contains(s.Base.Addr()) || s.Base.Bits() < benchRange.Bits():
		return &fixtures.FieldError{Field: "base", Msg: fmt.Sprintf("%s is not inside %s", s.Base, benchRange)}
	case s.Routes > 1<<(32-s.Base.Bits()):
		return &fixtures.FieldError{Field: "routes", Msg: fmt.Sprintf("%d routes do not fit in %s", s.Routes, s.Base)}
	case !fixtures.IsDocumentation(s.Gateway):
		return &fixtures.FieldError{Field: "gateway", Msg: fmt.Sprintf("%s is not a documentation address", s.Gateway)}
	case s.Mechanism != netcfg.RouteExe && s.Mechanism != netcfg.Netsh:
		return &fixtures.FieldError{Field: "mechanism", Msg: fmt.Sprintf("%q: want route.exe or netsh (they write the persistent store)", s.Mechanism)}
	case s.Timeout <= 0 || s.QueryInterval <= 0:
		return &fixtures.FieldError{Field: "timeout", Msg: "timeout and queryInterval must be positive durations"}
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

// route returns churned route i: a persistent /32 from Base via Gateway.
func (s *Scenario) route(i int) netcfg.RouteSpec {
	a := s.Base.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(i)
	dst := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return netcfg.RouteSpec{Dst: netip.PrefixFrom(dst, 32), Gateway: s.Gateway, Interface: s.Interface, Persistent: true}
}
