package secondaryip

import (
	"strings"
	"testing"

	"github.com/kbharness/kbharness/fixtures"
)

func TestEmbeddedScenarioLoads(t *testing.T) {
	s, err := LoadScenario()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Families) != 2 || s.Window <= 0 {
		t.Fatalf("scenario = %+v", s)
	}
}

func TestScenarioErrorsNameFileLineAndField(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want string
	}{
		{"lab: default\nwindow: 0s\nfamilies: []\n", "x.yaml:2: field window: must be a positive duration"},
		{"lab: default\nwindow: 1s\nfamilies:\n  - family: ipv5\n    interface: lan0\n    gateway: 192.0.2.1\n    additional: [192.0.2.21/24]\n",
			"field families[0].family: \"ipv5\" is not ipv4 or ipv6"},
		{"lab: default\nwindow: 1s\nfamilies:\n  - family: ipv4\n    interface: lan0\n    gateway: 10.0.0.1\n    additional: [192.0.2.21/24]\n",
			"field families[0].gateway: 10.0.0.1 is not a documentation address"},
		{"lab: default\nwindow: 1s\nfamilys: []\n", "x.yaml:1: field families: missing required field"},
		{"lab: default\nwindow: 87600h\nfamilies:\n  - family: ipv4\n    interface: lan0\n    gateway: 192.0.2.1\n    additional: [192.0.2.21/24]\n",
			"x.yaml:2: field window: 87600h is out of bounds: want 10ms to 5m"},
		{"lab: default\nwindow: 1s\nfamilies:\n  - family: ipv4\n    interface: lan0\n    gateway: 192.0.2.1\n    additional: [192.0.2.21/24]\n  - family: ipv4\n    interface: lan0\n    gateway: 192.0.2.1\n    additional: [192.0.2.22/24]\n",
			"x.yaml:8: field families[1].family: ipv4 given twice"},
		{"lab: default\nwindow: 1s\nfamilies:\n  - family: ipv4\n    interface: lan0\n    gateway: 192.0.2.1\n    additional: [" + strings.TrimSuffix(strings.Repeat("192.0.2.21/24, ", 17), ", ") + "]\n",
			"x.yaml:7: field families[0].additional: 17 entries: want 1 to 16"},
		{"lab: default\nwindow: 1s\nfamilies: []\n", "x.yaml:3: field families: 0 entries: want 1 to 2"},
	} {
		var s Scenario
		err := fixtures.Decode("x.yaml", []byte(tc.yaml), &s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%q) = %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}
