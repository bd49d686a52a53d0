package kb943650

import (
	"github.com/kbharness/kbharness/suites/framework/inject"
	"github.com/kbharness/kbharness/suites/registry"
)

func init() {
	registry.Register(registry.Scenario{
		ID:        ScenarioID,
		Fixture:   ScenarioFile,
		Lab:       "multihomed",
		Labels:    []string{ScenarioID, "slow"},
		Injectors: []string{inject.Stall},
		SelfTest: &registry.SelfTest{
			Injector: inject.Stall,
			Labels:   ScenarioID,
			Want:     []string{"host stopped responding: 1 stall(s) longer than 2s", "on probe tcp-echo", "into the run) to"},
		},
	})
}
