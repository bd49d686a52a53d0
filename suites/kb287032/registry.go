package kb287032

import (
	"github.com/kbharness/kbharness/suites/framework/inject"
	"github.com/kbharness/kbharness/suites/registry"
)

func init() {
	registry.Register(registry.Scenario{
		ID:        ScenarioID,
		Fixture:   ScenarioFile,
		Lab:       "multihomed",
		Labels:    []string{ScenarioID},
		Injectors: []string{inject.KB287032},
		// Out-of-order removal leaves a stale host route; FIFO (the
		// workaround) stays green.
		SelfTest: &registry.SelfTest{
			Injector: inject.KB287032,
			Labels:   ScenarioID + " && !explorer",
			Want:     []string{"history independence after delete-address", "(- only in a fresh lab, + only on the host)", "dev lan1 proto boot metric 0"},
		},
	})
}
