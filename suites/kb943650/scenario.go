// Package kb943650 replays KB943650: Stop errors or a hang on Windows Vista
// and Server 2008 with multicast forwarding enabled (../shared/kb/KB943650-*).
// It forwards real multicast through the lab host while groups, MFC entries
// and addresses churn, and a liveness watchdog probes the host throughout.
package kb943650

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/kbharness/kbharness/fixtures"
)

// ScenarioFile is the scenario's fixture in the embedded fixtures.
const ScenarioFile = "scenarios/kb943650.yaml"

// Scenario is the decoded scenario fixture; fixtures/scenarios/kb943650.yaml
// documents each field, and each field's comment here gives its bounds.
type Scenario struct {
	Lab string `yaml:"lab" fixture:"required"`
	// Duration is how long the churn runs: 1s to 1h.
	Duration time.Duration `yaml:"duration" fixture:"required"`
	// Phase is how long the MFC entries stay in, then out: 10ms to Duration.
	Phase time.Duration `yaml:"phase" fixture:"required"`
	// Groups are the groups sent to, in 239.255.0.0/16: 1 to 16.
	Groups []netip.Addr `yaml:"groups" fixture:"required"`
	// Port is the group traffic's UDP port: 1 to 65535.
	Port uint16 `yaml:"port" fixture:"required"`
	// SendInterval is the gap between two datagrams to a group: 1ms to 10s.
	SendInterval time.Duration `yaml:"sendInterval" fixture:"required"`
	// ChurnReceivers is how many receivers join and leave: 0 to 64.
	ChurnReceivers int `yaml:"churnReceivers"`
	// JoinInterval is each churn receiver's gap between joins and leaves:
	// 1ms to 10s (0 when ChurnReceivers is 0).
	JoinInterval time.Duration `yaml:"joinInterval"`
	// AddressInterval is the gap between two address changes: 1ms to 10s
	// (0 when ChurnAddresses is empty).
	AddressInterval time.Duration `yaml:"addressInterval"`
	// ChurnAddresses are added and deleted in turn: 0 to 64.
	ChurnAddresses []ChurnAddress `yaml:"churnAddresses"`
	// MinSent is how many datagrams an MFC-present phase must have sent to
	// the first group for its silence to count: 0 to the datagrams a phase
	// sends (Phase/SendInterval), at most 10,000.
	MinSent int `yaml:"minSent"`
	// EchoPort is where the echo responder listens: 1 to 65535.
	EchoPort uint16 `yaml:"echoPort" fixture:"required"`
	// Watchdog tunes the liveness watchdog.
	Watchdog WatchdogTimings `yaml:"watchdog"`
}

// ChurnAddress is an address added and deleted on a forwarding interface.
type ChurnAddress struct {
	// Link is the lab link (an index into the lab fixture's links, 0 to
	// fixtures.MaxLinks-1) whose host interface gets the address, so the
	// scenario serves a namespace lab (lan0) and a Windows VM ("Ethernet 2").
	Link   int          `yaml:"link"`
	Prefix netip.Prefix `yaml:"prefix" fixture:"required"`
}

// WatchdogTimings tune the liveness watchdog; zero takes its defaults.
type WatchdogTimings struct {
	// Interval is the gap between two probes: 0 (100ms) or 10ms to 10s.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds each probe: 0 (500ms) or 10ms to 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Threshold is the longest span without an answer: 0 (2s) or 100ms to 5m.
	Threshold time.Duration `yaml:"threshold"`
}

// Bounds of the scenario's values (documented on each field).
const (
	MinDuration, MaxDuration = time.Second, time.Hour
	MinPhase                 = 10 * time.Millisecond
	MaxGroups                = 16
	MinInterval, MaxInterval = time.Millisecond, 10 * time.Second // sendInterval, joinInterval, addressInterval
	MaxChurnReceivers        = 64
	MaxChurnAddresses        = 64
	MaxMinSent               = 10_000
)

// adminScoped is 239.255.0.0/16, the IPv4 organisation-local scope: group
// traffic never leaves the lab.
var adminScoped = netip.MustParsePrefix("239.255.0.0/16")

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
	// optional is a duration that may be 0 (a default, or unused) or lie in [lo, hi].
	optional := func(field string, d, lo, hi time.Duration) {
		if d != 0 {
			add(fixtures.CheckDuration(field, d, lo, hi))
		}
	}
	add(fixtures.CheckDuration("duration", s.Duration, MinDuration, MaxDuration))
	add(fixtures.CheckDuration("phase", s.Phase, MinPhase, max(MinPhase, s.Duration)))
	add(fixtures.CheckLen("groups", len(s.Groups), 1, MaxGroups))
	for i, g := range s.Groups {
		if !adminScoped.Contains(g) {
			bad(fmt.Sprintf("groups[%d]", i), "%s is not in %s (administratively scoped)", g, adminScoped)
		}
	}
	add(fixtures.CheckInt("port", int(s.Port), 1, 65535))
	add(fixtures.CheckDuration("sendInterval", s.SendInterval, MinInterval, MaxInterval))
	add(fixtures.CheckInt("churnReceivers", s.ChurnReceivers, 0, MaxChurnReceivers))
	if s.ChurnReceivers > 0 {
		add(fixtures.CheckDuration("joinInterval", s.JoinInterval, MinInterval, MaxInterval))
	} else {
		optional("joinInterval", s.JoinInterval, MinInterval, MaxInterval)
	}
	add(fixtures.CheckLen("churnAddresses", len(s.ChurnAddresses), 0, MaxChurnAddresses))
	if len(s.ChurnAddresses) > 0 {
		add(fixtures.CheckDuration("addressInterval", s.AddressInterval, MinInterval, MaxInterval))
	} else {
		optional("addressInterval", s.AddressInterval, MinInterval, MaxInterval)
	}
	for i, a := range s.ChurnAddresses {
		add(fixtures.CheckInt(fmt.Sprintf("churnAddresses[%d].link", i), a.Link, 0, fixtures.MaxLinks-1))
		if !fixtures.IsDocumentationPrefix(a.Prefix) {
			bad(fmt.Sprintf("churnAddresses[%d].prefix", i), "%s is not in a documentation range", a.Prefix)
		}
	}
	perPhase := MaxMinSent
	if s.SendInterval >= MinInterval && s.SendInterval <= MaxInterval && s.Phase >= s.SendInterval {
		perPhase = min(perPhase, int(s.Phase/s.SendInterval))
	}
	add(fixtures.CheckInt("minSent", s.MinSent, 0, perPhase))
	add(fixtures.CheckInt("echoPort", int(s.EchoPort), 1, 65535))
	optional("watchdog.interval", s.Watchdog.Interval, 10*time.Millisecond, 10*time.Second)
	optional("watchdog.timeout", s.Watchdog.Timeout, 10*time.Millisecond, 10*time.Second)
	optional("watchdog.threshold", s.Watchdog.Threshold, 100*time.Millisecond, 5*time.Minute)
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
