package kb2901197

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
		{"duration: 30s", "duration: 1000h", "duration:", "field duration: 1000h is out of bounds: want 1s to 10m"},
		{"count: 3000", "count: 5000001", "count:", "field count: 5000001 is out of bounds: want 1 to 5000000"},
		{"workers: 2", "workers: 65", "workers:", "field workers: 65 is out of bounds: want 1 to 64"},
		{"linuxRange: {lo: 40000", "linuxRange: {lo: 80", "linuxRange:", "field linuxRange: 80-40255 starts below 1024"},
		{"windowsRange: {lo: 49152, hi: 49406}", "windowsRange: {lo: 49152, hi: 49300}", "windowsRange:", "field windowsRange: 149 ports; netsh dynamicport needs num >= 255"},
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
