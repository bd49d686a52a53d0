// Package kb952876 replays KB952876: the TCP/IP Registry Compatibility
// service (Tcpipreg) stops responding under stress on Windows Vista and
// Server 2008 (../shared/kb/KB952876-*). It churns persistent routes while
// querying and cycling the service with bounded requests, then compares the
// registry view of the persistent routes with the persistent store.
package kb952876

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// ScenarioFile is the scenario's fixture in the embedded fixtures.
const ScenarioFile = "scenarios/kb952876.yaml"

// Scenario is the decoded fixture; fixtures/scenarios/kb952876.yaml
// documents each field, and each field's comment here gives its bounds.
type Scenario struct {
	Interface string     `yaml:"interface" fixture:"required"`
	Gateway   netip.Addr `yaml:"gateway" fixture:"required"`
	// Routes is how many persistent /32 routes are churned: 1 to 100,000,
	// and no more than Base holds.
	Routes int `yaml:"routes" fixture:"required"`
	// Base is where the routes are taken from, inside 198.18.0.0/15.
	Base netip.Prefix `yaml:"base" fixture:"required"`
	// Window is how many churned routes exist at once: 1 to Routes, at
	// most 10,000.
	Window    int              `yaml:"window" fixture:"required"`
	Mechanism netcfg.Mechanism `yaml:"mechanism" fixture:"required"`
	// Timeout bounds every service request and wait: 1s to 5m.
	Timeout time.Duration `yaml:"timeout" fixture:"required"`
	// QueryInterval is the gap between two service queries: 10ms to 1m.
	QueryInterval time.Duration `yaml:"queryInterval" fixture:"required"`
	// Cycles is how many stop/start cycles run: 0 to 100.
	Cycles int `yaml:"cycles"`
}

// Bounds of the scenario's values (documented on each field).
const (
	MaxRoutes                          = 100_000
	MaxWindow                          = 10_000
	MinTimeout, MaxTimeout             = time.Second, 5 * time.Minute
	MinQueryInterval, MaxQueryInterval = 10 * time.Millisecond, time.Minute
	MaxCycles                          = 100
)

// benchRange is 198.18.0.0/15, where bulk routes go.
var benchRange = netip.MustParsePrefix("198.18.0.0/15")

// Validate checks values the YAML types cannot.
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
	add(fixtures.CheckInt("routes", s.Routes, 1, MaxRoutes))
	add(fixtures.CheckInt("window", s.Window, 1, max(1, min(MaxWindow, s.Routes))))
	switch {
	case !benchRange.Contains(s.Base.Addr()) || s.Base.Bits() < benchRange.Bits():
		bad("base", "%s is not inside %s", s.Base, benchRange)
	case s.Routes > 1<<(32-s.Base.Bits()):
		bad("routes", "%d routes do not fit in %s", s.Routes, s.Base)
	}
	if !fixtures.IsDocumentation(s.Gateway) {
		bad("gateway", "%s is not a documentation address", s.Gateway)
	}
	if s.Mechanism != netcfg.RouteExe && s.Mechanism != netcfg.Netsh {
		bad("mechanism", "%q: want route.exe or netsh (they write the persistent store)", s.Mechanism)
	}
	add(fixtures.CheckDuration("timeout", s.Timeout, MinTimeout, MaxTimeout))
	add(fixtures.CheckDuration("queryInterval", s.QueryInterval, MinQueryInterval, MaxQueryInterval))
	add(fixtures.CheckInt("cycles", s.Cycles, 0, MaxCycles))
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

// route returns churned route i: a persistent /32 from Base via Gateway.
func (s *Scenario) route(i int) netcfg.RouteSpec {
	a := s.Base.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(i)
	dst := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return netcfg.RouteSpec{Dst: netip.PrefixFrom(dst, 32), Gateway: s.Gateway, Interface: s.Interface, Persistent: true}
}
