package kb287032

import (
	"testing"

	"github.com/kbharness/kbharness/fixtures/fixturetest"
)

// Every duration and count of the scenario has bounds; a value outside them
// is an error naming file, line and field.
func TestScenarioBounds(t *testing.T) {
	fixturetest.CheckBounds[Scenario](t, ScenarioFile, []fixturetest.BoundCase{
		fixturetest.Case("window: 2s", "window: 87600h", "window:", "field window: 87600h is out of bounds: want 10ms to 5m"),
		fixturetest.Case("settle: 100ms", "settle: -1s", "settle:", "field settle: -1s is out of bounds: want 0s to 5m"),
		fixturetest.Case("addresses: 8", "addresses: 65", "addresses:", "field addresses: 65 is out of bounds: want 2 to 64"),
		fixturetest.Case("randomSeeds: [1, 2]", "randomSeeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]", "randomSeeds:", "field randomSeeds: 17 entries: want 0 to 16"),
		fixturetest.Case("steps: 200", "steps: 10000001", "steps:", "field explorer.steps: 10000001 is out of bounds: want 1 to 10000000"),
		fixturetest.Case("maxLen: 8", "maxLen: 101", "maxLen:", "field explorer.maxLen: 101 is out of bounds: want 0 to 100"),
	})
}
