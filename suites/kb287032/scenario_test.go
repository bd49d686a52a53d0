package kb287032

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
		{"window: 2s", "window: 87600h", "window:", "field window: 87600h is out of bounds: want 10ms to 5m"},
		{"settle: 100ms", "settle: -1s", "settle:", "field settle: -1s is out of bounds: want 0s to 5m"},
		{"addresses: 8", "addresses: 65", "addresses:", "field addresses: 65 is out of bounds: want 2 to 64"},
		{"randomSeeds: [1, 2]", "randomSeeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]", "randomSeeds:", "field randomSeeds: 17 entries: want 0 to 16"},
		{"steps: 200", "steps: 10000001", "steps:", "field explorer.steps: 10000001 is out of bounds: want 1 to 10000000"},
		{"maxLen: 8", "maxLen: 101", "maxLen:", "field explorer.maxLen: 101 is out of bounds: want 0 to 100"},
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
