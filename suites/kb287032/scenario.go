// Package kb287032 replays KB287032: routes incorrect after repeated
// AddIPAddress on a multihomed computer (Windows NT 4.0 and 2000;
// ../shared/kb/KB287032-addipaddress-multihomed-routes.txt), and runs the
// churn explorer over the same lab.
package kb287032

import (
	"errors"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/explore"
)

// ScenarioFile is the scenario's fixture in the embedded fixtures.
const ScenarioFile = "scenarios/kb287032.yaml"

// Scenario is the decoded scenario fixture.
type Scenario struct {
	// Lab names the lab fixture (two links).
	Lab string `yaml:"lab" fixture:"required"`
	// Addresses is how many dynamic IPv4 addresses go alternately on the
	// two adapters: 2 to 64.
	Addresses int `yaml:"addresses" fixture:"required"`
	// RandomSeeds gives one seeded random removal order each: 0 to 16 seeds.
	RandomSeeds []uint64 `yaml:"randomSeeds"`
	// Window is how long a step may take to show in the tables: 10ms to 5m.
	Window time.Duration `yaml:"window" fixture:"required"`
	// Settle is how long the tables must stay right after each removal:
	// 0 (no settle check) to 5m.
	Settle time.Duration `yaml:"settle"`
	// Explorer is the bounded explorer run.
	Explorer ExplorerRun `yaml:"explorer" fixture:"required"`
}

// ExplorerRun bounds the suite's explorer run.
type ExplorerRun struct {
	// Seed is rapid's seed: any value (0: from the clock).
	Seed uint64 `yaml:"seed"`
	// Steps is the step budget: 1 to explore.MaxSteps (10,000,000).
	Steps int `yaml:"steps" fixture:"required"`
	// MaxLen is the longest sequence: 0 (the explorer's 12) to
	// explore.MaxSeqLen (100).
	MaxLen int `yaml:"maxLen"`
}

// Bounds of the scenario's values.
const (
	MinAddresses, MaxAddresses = 2, 64
	MaxRandomSeeds             = 16
	MinWindow, MaxWindow       = 10 * time.Millisecond, 5 * time.Minute
	MaxSettle                  = 5 * time.Minute
)

// Validate checks the values decoding cannot.
func (s *Scenario) Validate() error {
	var errs []error
	for _, err := range []error{
		fixtures.CheckInt("addresses", s.Addresses, MinAddresses, MaxAddresses),
		fixtures.CheckLen("randomSeeds", len(s.RandomSeeds), 0, MaxRandomSeeds),
		fixtures.CheckDuration("window", s.Window, MinWindow, MaxWindow),
		fixtures.CheckDuration("settle", s.Settle, 0, MaxSettle),
		fixtures.CheckInt("explorer.steps", s.Explorer.Steps, 1, explore.MaxSteps),
		fixtures.CheckInt("explorer.maxLen", s.Explorer.MaxLen, 0, explore.MaxSeqLen),
	} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// LoadScenario decodes the embedded scenario fixture.
func LoadScenario() (*Scenario, error) {
	var s Scenario
	if err := fixtures.DecodeEmbedded(ScenarioFile, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
