// Package kb943650 replays KB943650: Stop errors or a hang on Windows Vista
// and Server 2008 with multicast forwarding enabled (../shared/kb/KB943650-*).
// It forwards real multicast through the lab host while groups, MFC entries
// and addresses churn, and a liveness watchdog probes the host throughout.
package kb943650

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/kbharness/kbharness/fixtures"
)

// ScenarioFile is the scenario's fixture in the embedded fixtures.
const ScenarioFile = "scenarios/kb943650.yaml"

// Scenario is the decoded scenario fixture; fixtures/scenarios/kb943650.yaml
// documents each field.
type Scenario struct {
	Lab             string          `yaml:"lab" fixture:"required"`
	Duration        time.Duration   `yaml:"duration" fixture:"required"`
	Phase           time.Duration   `yaml:"phase" fixture:"required"`
	Groups          []netip.Addr    `yaml:"groups" fixture:"required"`
	Port            uint16          `yaml:"port" fixture:"required"`
	SendInterval    time.Duration   `yaml:"sendInterval" fixture:"required"`
	ChurnReceivers  int             `yaml:"churnReceivers"`
	JoinInterval    time.Duration   `yaml:"joinInterval"`
	AddressInterval time.Duration   `yaml:"addressInterval"`
	ChurnAddresses  []ChurnAddress  `yaml:"churnAddresses"`
	MinSent         int             `yaml:"minSent"`
	EchoPort        uint16          `yaml:"echoPort" fixture:"required"`
	Watchdog        WatchdogTimings `yaml:"watchdog"`
}

// ChurnAddress is an address added and deleted on a forwarding interface.
type ChurnAddress struct {
	Interface string       `yaml:"interface" fixture:"required"`
	Prefix    netip.Prefix `yaml:"prefix" fixture:"required"`
}

// WatchdogTimings tune the liveness watchdog; zero takes its defaults.
type WatchdogTimings struct {
	Interval  time.Duration `yaml:"interval"`
	Timeout   time.Duration `yaml:"timeout"`
	Threshold time.Duration `yaml:"threshold"`
}

// adminScoped is 239.255.0.0/16, the IPv4 organisation-local scope: group
// traffic never leaves the lab.
var adminScoped = netip.MustParsePrefix("239.255.0.0/16")

// Validate checks values the YAML types cannot.
func (s *Scenario) Validate() error {
	for name, d := range map[string]time.Duration{"duration": s.Duration, "phase": s.Phase, "sendInterval": s.SendInterval} {
		if d <= 0 {
			return &fixtures.FieldError{Field: name, Msg: "must be a positive duration"}
		}
	}
	if s.Phase > s.Duration {
		return &fixtures.FieldError{Field: "phase", Msg: fmt.Sprintf("%s is longer than duration %s", s.Phase, s.Duration)}
	}
	for i, g := range s.Groups {
		if !adminScoped.Contains(g) {
			return &fixtures.FieldError{Field: fmt.Sprintf("groups[%d]", i), Msg: fmt.Sprintf("%s is not in %s (administratively scoped)", g, adminScoped)}
		}
	}
	if s.ChurnReceivers > 0 && s.JoinInterval <= 0 {
		return &fixtures.FieldError{Field: "joinInterval", Msg: "must be positive when churnReceivers > 0"}
	}
	if len(s.ChurnAddresses) > 0 && s.AddressInterval <= 0 {
		return &fixtures.FieldError{Field: "addressInterval", Msg: "must be positive when churnAddresses are given"}
	}
	for i, a := range s.ChurnAddresses {
		if !fixtures.IsDocumentationPrefix(a.Prefix) {
			return &fixtures.FieldError{Field: fmt.Sprintf("churnAddresses[%d].prefix", i), Msg: fmt.Sprintf("%s is not in a documentation range", a.Prefix)}
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
