package kb952876

import (
	"testing"

	"github.com/kbharness/kbharness/fixtures/fixturetest"
)

// Every duration and count of the scenario has bounds; a value outside them
// is an error naming file, line and field.
func TestScenarioBounds(t *testing.T) {
	fixturetest.CheckBounds[Scenario](t, ScenarioFile, []fixturetest.BoundCase{
		fixturetest.Case("routes: 2000", "routes: 100001", "routes:", "field routes: 100001 is out of bounds: want 1 to 100000"),
		fixturetest.Case("window: 100", "window: 2001", "window:", "field window: 2001 is out of bounds: want 1 to 2000"),
		fixturetest.Case("timeout: 10s", "timeout: 1h", "timeout:", "field timeout: 1h is out of bounds: want 1s to 5m"),
		fixturetest.Case("queryInterval: 100ms", "queryInterval: 1ms", "queryInterval:", "field queryInterval: 1ms is out of bounds: want 10ms to 1m"),
		fixturetest.Case("cycles: 2", "cycles: 101", "cycles:", "field cycles: 101 is out of bounds: want 0 to 100"),
	})
}
