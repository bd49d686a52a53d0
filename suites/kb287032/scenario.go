// Package kb287032 replays KB287032: routes incorrect after repeated
// AddIPAddress on a multihomed computer (Windows NT 4.0 and 2000;
// ../shared/kb/KB287032-addipaddress-multihomed-routes.txt), and runs the
// churn explorer over the same lab.
package kb287032

import (
	"errors"
	"fmt"
	"time"

	"github.com/kbharness/kbharness/fixtures"
)

// ScenarioFile is the scenario's fixture in the embedded fixtures.
const ScenarioFile = "scenarios/kb287032.yaml"

// Scenario is the decoded scenario fixture.
type Scenario struct {
	// Lab names the lab fixture (two links).
	Lab string `yaml:"lab" fixture:"required"`
	// Addresses is how many dynamic IPv4 addresses go alternately on the two adapters.
	Addresses int `yaml:"addresses" fixture:"required"`
	// RandomSeeds gives one seeded random removal order each.
	RandomSeeds []uint64 `yaml:"randomSeeds"`
	// Window is how long a step may take to show in the tables.
	Window time.Duration `yaml:"window" fixture:"required"`
	// Settle is how long the tables must stay right after each removal.
	Settle time.Duration `yaml:"settle"`
	// Explorer is the bounded explorer run.
	Explorer ExplorerRun `yaml:"explorer" fixture:"required"`
}

// ExplorerRun bounds the suite's explorer run.
type ExplorerRun struct {
	Seed   uint64 `yaml:"seed"`
	Steps  int    `yaml:"steps" fixture:"required"`
	MaxLen int    `yaml:"maxLen"`
}

// Validate checks the values decoding cannot.
func (s *Scenario) Validate() error {
	var errs []error
	if s.Addresses < 2 || s.Addresses > 64 {
		errs = append(errs, &fixtures.FieldError{Field: "addresses", Msg: fmt.Sprintf("%d: want 2 to 64", s.Addresses)})
	}
	if s.Window <= 0 {
		errs = append(errs, &fixtures.FieldError{Field: "window", Msg: "must be a positive duration"})
	}
	if s.Settle < 0 {
		errs = append(errs, &fixtures.FieldError{Field: "settle", Msg: "must not be negative"})
	}
	if s.Explorer.Steps < 1 {
		errs = append(errs, &fixtures.FieldError{Field: "explorer.steps", Msg: "must be positive"})
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
