package kb2901197

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/hammer"
)

// ScenarioFile is the scenario's embedded fixture.
const ScenarioFile = "scenarios/kb2901197.yaml"

// Scenario is fixtures/scenarios/kb2901197.yaml.
type Scenario struct {
	// Lab names the lab topology; the target is its host's first IPv4
	// address on the first link.
	Lab string `yaml:"lab" fixture:"required"`
	// Workers is the number of concurrent clients per run.
	Workers int `yaml:"workers" fixture:"required"`
	// Count is the number of connection attempts per run.
	Count int `yaml:"count" fixture:"required"`
	// Duration bounds each run in time.
	Duration time.Duration `yaml:"duration" fixture:"required"`
	// LinuxRange is ip_local_port_range in the lab namespace.
	LinuxRange Range `yaml:"linuxRange" fixture:"required"`
	// WindowsRange is the netsh dynamicport range (num >= 255).
	WindowsRange Range `yaml:"windowsRange" fixture:"required"`
	// Production is the run that must show zero EADDRINUSE.
	Production Run `yaml:"production" fixture:"required"`
	// Positive is the Linux positive control (EADDRINUSE expected).
	Positive Run `yaml:"positive" fixture:"required"`
	// Negative are the Linux negative controls (zero EADDRINUSE expected).
	Negative []Run `yaml:"negative" fixture:"required"`
}

// Range is an inclusive port range.
type Range struct {
	Lo uint16 `yaml:"lo" fixture:"required"`
	Hi uint16 `yaml:"hi" fixture:"required"`
}

// PortRange converts r.
func (r Range) PortRange() hammer.PortRange { return hammer.PortRange{Lo: r.Lo, Hi: r.Hi} }

// Run is one hammer mode.
type Run struct {
	Mode  hammer.Mode  `yaml:"mode" fixture:"required"`
	Close hammer.Close `yaml:"close" fixture:"required"`
}

func (r Run) String() string { return fmt.Sprintf("%s/%s", r.Mode, r.Close) }

// Validate checks the values against the hammer's limits.
func (s *Scenario) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &fixtures.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Workers < 1 || s.Workers > hammer.MaxWorkers {
		bad("workers", "%d out of 1..%d", s.Workers, hammer.MaxWorkers)
	}
	if s.Count < 1 || s.Count > hammer.MaxCount {
		bad("count", "%d out of 1..%d", s.Count, hammer.MaxCount)
	}
	if s.Duration <= 0 || s.Duration > hammer.MaxDuration {
		bad("duration", "%s out of (0, %s]", s.Duration, hammer.MaxDuration)
	}
	for field, r := range map[string]Range{"linuxRange": s.LinuxRange, "windowsRange": s.WindowsRange} {
		if r.Lo == 0 || r.Hi < r.Lo {
			bad(field, "%d-%d is not a range", r.Lo, r.Hi)
		}
	}
	if n := s.WindowsRange.PortRange().Size(); n < 255 {
		bad("windowsRange", "%d ports; netsh dynamicport needs num >= 255", n)
	}
	check := func(field string, r Run) {
		if !slices.Contains(hammer.Modes, r.Mode) {
			bad(field+".mode", "unknown mode %q", r.Mode)
		}
		if !slices.Contains(hammer.Closes, r.Close) {
			bad(field+".close", "unknown close %q", r.Close)
		}
	}
	check("production", s.Production)
	check("positive", s.Positive)
	for i, r := range s.Negative {
		check(fmt.Sprintf("negative[%d]", i), r)
	}
	return errors.Join(errs...)
}

// LoadScenario decodes the embedded scenario strictly.
func LoadScenario() (*Scenario, error) {
	var s Scenario
	if err := fixtures.DecodeEmbedded(ScenarioFile, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
