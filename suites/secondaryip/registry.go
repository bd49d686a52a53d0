package secondaryip

import (
	"github.com/kbharness/kbharness/suites/framework/inject"
	"github.com/kbharness/kbharness/suites/registry"
)

func init() {
	registry.Register(registry.Scenario{
		ID:        ScenarioID,
		Fixture:   ScenarioFile,
		Lab:       "default",
		Labels:    []string{ScenarioID},
		Injectors: []string{inject.SecondaryIPRouteLoss},
		SelfTest: &registry.SelfTest{
			Injector: inject.SecondaryIPRouteLoss,
			Labels:   ScenarioID + " && netlink",
			Want: []string{
				"the persistent route was deleted when 192.0.2.21/24 was deleted: route-removed default via 192.0.2.1 dev lan0 proto static",
				"--- event timeline:",
				"[after deleting 192.0.2.21/24] route-removed default via 192.0.2.1",
			},
		},
	})
}
