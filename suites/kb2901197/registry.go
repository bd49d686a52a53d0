package kb2901197

import (
	"github.com/kbharness/kbharness/suites/framework/inject"
	"github.com/kbharness/kbharness/suites/registry"
)

func init() {
	registry.Register(registry.Scenario{
		ID:        ScenarioID,
		Fixture:   ScenarioFile,
		Lab:       "default",
		Labels:    []string{ScenarioID, "hammer"},
		Injectors: []string{inject.KB2901197BindFirst},
		// The production spec, driven into bind-then-connect: the positive
		// control, red with the signature and its counts.
		SelfTest: &registry.SelfTest{
			Injector: inject.KB2901197BindFirst,
			Labels:   ScenarioID,
			Want:     []string{"the KB2901197 signature:", "connects failed with EADDRINUSE", "SIGNATURE:"},
		},
	})
}
