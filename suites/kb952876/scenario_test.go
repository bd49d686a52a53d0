package kb952876

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/fixtures"
)

// Every duration and count of the scenario has bounds; a value outside them
// is an error naming file, line and field.
func TestScenarioBounds(t *testing.T) {
	text, err := fixtures.ReadEmbedded(ScenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(file string, data []byte) error {
		var s Scenario
		return fixtures.Decode(file, data, &s)
	}
	checkBounds(t, "fixtures/"+ScenarioFile, string(text), decode, []boundCase{
		{"routes: 2000", "routes: 100001", "routes:", "field routes: 100001 is out of bounds: want 1 to 100000"},
		{"window: 100", "window: 2001", "window:", "field window: 2001 is out of bounds: want 1 to 2000"},
		{"timeout: 10s", "timeout: 1h", "timeout:", "field timeout: 1h is out of bounds: want 1s to 5m"},
		{"queryInterval: 100ms", "queryInterval: 1ms", "queryInterval:", "field queryInterval: 1ms is out of bounds: want 10ms to 1m"},
		{"cycles: 2", "cycles: 101", "cycles:", "field cycles: 101 is out of bounds: want 0 to 100"},
	})
}

// lineOf is the 1-based line of the first line of text starting with sub
// (after its indentation).
func lineOf(t *testing.T, text, sub string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), sub) {
			return i + 1
		}
	}
	t.Fatalf("%q not in the fixture", sub)
	return 0
}

// boundCase replaces old with new in the embedded fixture; the error must
// name the file, the line of key and the field.
type boundCase struct{ old, new, key, want string }

func checkBounds(t *testing.T, name, text string, decode func(file string, data []byte) error, cases []boundCase) {
	t.Helper()
	if err := decode(name, []byte(text)); err != nil {
		t.Fatalf("the embedded fixture: %v", err)
	}
	for _, tc := range cases {
		if !strings.Contains(text, tc.old) {
			t.Fatalf("%q not in the fixture", tc.old)
		}
		bad := strings.Replace(text, tc.old, tc.new, 1)
		want := fmt.Sprintf("%s:%d: %s", name, lineOf(t, bad, tc.key), tc.want)
		err := decode(name, []byte(bad))
		if err == nil || err.Error() != want {
			t.Errorf("with %q: error %v\nwant %s", tc.new, err, want)
		}
	}
}
