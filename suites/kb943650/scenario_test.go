package kb943650

import (
	"testing"

	"github.com/kbharness/kbharness/fixtures/fixturetest"
)

// Every duration and count of the scenario has bounds; a value outside them
// is an error naming file, line and field.
func TestScenarioBounds(t *testing.T) {
	fixturetest.CheckBounds[Scenario](t, ScenarioFile, []fixturetest.BoundCase{
		fixturetest.Case("duration: 8s", "duration: 1000h", "duration:", "field duration: 1000h is out of bounds: want 1s to 1h"),
		fixturetest.Case("phase: 250ms", "phase: 9s", "phase:", "field phase: 9s is out of bounds: want 10ms to 8s"),
		fixturetest.Case("sendInterval: 5ms", "sendInterval: 1m", "sendInterval:", "field sendInterval: 1m is out of bounds: want 1ms to 10s"),
		fixturetest.Case("minSent: 5", "minSent: 51", "minSent:", "field minSent: 51 is out of bounds: want 0 to 50"),
		fixturetest.Case("churnReceivers: 4", "churnReceivers: 65", "churnReceivers:", "field churnReceivers: 65 is out of bounds: want 0 to 64"),
		fixturetest.Case("joinInterval: 10ms", "joinInterval: 0s", "joinInterval:", "field joinInterval: 0s is out of bounds: want 1ms to 10s"),
		fixturetest.Case("threshold: 2s", "threshold: 6m", "threshold:", "field watchdog.threshold: 6m is out of bounds: want 100ms to 5m"),
		fixturetest.Case("port: 5000", "port: 0", "port: 0", "field port: 0 is out of bounds: want 1 to 65535"),
	})
}
