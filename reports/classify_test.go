package reports

import (
	"testing"

	"github.com/kbharness/kbharness/fixtures"
)

// The adapter hands every fact Classify needs to the catalog; the rule
// itself is tested in fixtures.
func TestClassifyFacts(t *testing.T) {
	win7 := func(tcpip string, updates ...string) Facts {
		return Facts{OS: "windows", Build: "6.1.7601", UBR: 24000, Files: map[string]string{"tcpip.sys": tcpip}, Updates: updates}
	}
	for _, tc := range []struct {
		scenario string
		f        Facts
		failed   bool
		want     fixtures.Verdict
	}{
		{"secondary-ip-route-loss", win7("6.1.7601.17514"), true, fixtures.DefectPresent},
		{"secondary-ip-route-loss", win7("6.1.7601.17514"), false, fixtures.UnfixedPassed},
		{"secondary-ip-route-loss", win7("6.1.7601.24000 (win7sp1_ldr.180104-1700)"), true, fixtures.Regression},
		{"secondary-ip-route-loss", win7("6.1.7601.24000"), false, fixtures.Pass},
		{"KB2901197", win7("6.1.7601.17514", "KB2826167", "KB976932"), true, fixtures.Regression},
		{"KB2901197", win7("6.1.7601.17514", "KB976932"), true, fixtures.FailUnknown},
		{"KB943650", Facts{OS: "linux", Build: "6.1.0-13-amd64"}, true, fixtures.Fail},
		{"KB943650", Facts{OS: "windows", Build: "10.0.17763", UBR: 5458}, false, fixtures.Pass},
		{"KB952876", Facts{Errors: []string{"ver: timed out"}}, false, fixtures.PassUnknown},
	} {
		if got := Classify(tc.scenario, tc.f, tc.failed); got != tc.want {
			t.Errorf("Classify(%s, %+v, failed %v) = %q, want %q", tc.scenario, tc.f, tc.failed, got, tc.want)
		}
	}
}
