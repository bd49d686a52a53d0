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
	// Workers is the number of concurrent clients per run: 1 to
	// hammer.MaxWorkers (64).
	Workers int `yaml:"workers" fixture:"required"`
	// Count is the number of connection attempts per run: 1 to
	// hammer.MaxCount (5,000,000).
	Count int `yaml:"count" fixture:"required"`
	// Duration bounds each run in time: 1s to hammer.MaxDuration (10m).
	Duration time.Duration `yaml:"duration" fixture:"required"`
	// QuietWait bounds the wait, before each run, for the narrowed range to
	// hold no TCP socket: 0 to hammer.MaxQuietWait (10m). Only a host that
	// outlives runs (attached, Windows) has any: TIME_WAIT of the previous
	// run lasts 60s on Linux, up to 240s (TcpTimedWaitDelay) on Windows.
	QuietWait time.Duration `yaml:"quietWait" fixture:"required"`
	// LinuxRange is ip_local_port_range in the lab namespace:
	// 1024 <= lo <= hi (lo at least ip_unprivileged_port_start); spec
	// slot k uses it moved up k times its size (see Slot), all by 65535.
	LinuxRange Range `yaml:"linuxRange" fixture:"required"`
	// WindowsRange is the netsh dynamicport range, slotted the same way:
	// 1025 <= lo <= hi,
	// at least 255 ports (netsh's start >= 1025, num >= 255).
	WindowsRange Range `yaml:"windowsRange" fixture:"required"`
	// Production is the run that must show zero EADDRINUSE.
	Production Run `yaml:"production" fixture:"required"`
	// Positive is the Linux positive control (EADDRINUSE expected).
	Positive Run `yaml:"positive" fixture:"required"`
	// Negative are the Linux negative controls (zero EADDRINUSE expected):
	// 0 to 16 runs.
	Negative []Run `yaml:"negative" fixture:"required"`
}

// Range is an inclusive port range.
type Range struct {
	Lo uint16 `yaml:"lo" fixture:"required"`
	Hi uint16 `yaml:"hi" fixture:"required"`
}

// Slots is how many specs get a range of their own: the production run,
// the positive control and up to MaxNegative negative controls.
const Slots = 2 + MaxNegative

// Slot is the range a spec uses: r itself for slot 0, else r moved up by
// slot times its size.
func (r Range) Slot(slot int) hammer.PortRange {
	size := uint16(r.Hi - r.Lo + 1)
	return hammer.PortRange{Lo: r.Lo + uint16(slot)*size, Hi: r.Hi + uint16(slot)*size}
}

// Run is one hammer mode.
type Run struct {
	Mode  hammer.Mode  `yaml:"mode" fixture:"required"`
	Close hammer.Close `yaml:"close" fixture:"required"`
}

func (r Run) String() string { return fmt.Sprintf("%s/%s", r.Mode, r.Close) }

// MaxNegative is the most negative controls the scenario may list.
const MaxNegative = 16

// Validate checks the values against the hammer's limits.
func (s *Scenario) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &fixtures.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for _, err := range []error{
		fixtures.CheckInt("workers", s.Workers, 1, hammer.MaxWorkers),
		fixtures.CheckInt("count", s.Count, 1, hammer.MaxCount),
		fixtures.CheckDuration("duration", s.Duration, time.Second, hammer.MaxDuration),
		fixtures.CheckDuration("quietWait", s.QuietWait, 0, hammer.MaxQuietWait),
		fixtures.CheckLen("negative", len(s.Negative), 0, MaxNegative),
	} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, r := range []struct {
		field string
		r     Range
		lo    uint16
	}{{"linuxRange", s.LinuxRange, 1024}, {"windowsRange", s.WindowsRange, 1025}} {
		switch {
		case r.r.Hi < r.r.Lo:
			bad(r.field, "%d-%d is not a range", r.r.Lo, r.r.Hi)
		case r.r.Lo < r.lo:
			bad(r.field, "%d-%d starts below %d", r.r.Lo, r.r.Hi, r.lo)
		case int(r.r.Hi)+(Slots-1)*(int(r.r.Hi)-int(r.r.Lo)+1) > 65535:
			bad(r.field, "%d-%d: the %d specs' ranges, one after the other, pass port 65535", r.r.Lo, r.r.Hi, Slots)
		}
	}
	if n := s.WindowsRange.Slot(0).Size(); n < 255 {
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
