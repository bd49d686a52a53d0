package kb952876

import "github.com/kbharness/kbharness/suites/registry"

// KB952876 runs on the Windows host itself: no lab, no injector, no
// self-test (the self-test runs on Linux).
func init() {
	registry.Register(registry.Scenario{
		ID:      ScenarioID,
		Fixture: ScenarioFile,
		Labels:  []string{ScenarioID, "route.exe", "windows", "slow", "destructive"},
	})
}
