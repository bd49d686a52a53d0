package kb2901197

import (
	"testing"

	"github.com/kbharness/kbharness/fixtures/fixturetest"
)

// Every duration and count of the scenario has bounds; a value outside them
// is an error naming file, line and field.
func TestScenarioBounds(t *testing.T) {
	fixturetest.CheckBounds[Scenario](t, ScenarioFile, []fixturetest.BoundCase{
		fixturetest.Case("quietWait: 5m", "quietWait: 11m", "quietWait:", "field quietWait: 11m is out of bounds: want 0s to 10m"),
		fixturetest.Case("duration: 30s", "duration: 1000h", "duration:", "field duration: 1000h is out of bounds: want 1s to 10m"),
		fixturetest.Case("count: 3000", "count: 5000001", "count:", "field count: 5000001 is out of bounds: want 1 to 5000000"),
		fixturetest.Case("workers: 2", "workers: 65", "workers:", "field workers: 65 is out of bounds: want 1 to 64"),
		fixturetest.Case("linuxRange: {lo: 40000", "linuxRange: {lo: 80", "linuxRange:", "field linuxRange: 80-40255 starts below 1024"),
		fixturetest.Case("windowsRange: {lo: 49152, hi: 49406}", "windowsRange: {lo: 49152, hi: 49300}", "windowsRange:", "field windowsRange: 149 ports; netsh dynamicport needs num >= 255"),
	})
}
