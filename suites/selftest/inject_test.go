package selftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// injectedDefect is one proof that a suite can fail: the suite binary is run
// again with a defect injector acting on the real kernel in the lab, and the
// scenario's specs must go red saying what broke.
type injectedDefect struct {
	injector string   // -kb.inject name
	labels   string   // Ginkgo label filter selecting the specs to run
	want     []string // what the failure output must say
}

var injectedDefects = []injectedDefect{
	{
		injector: "secondary-ip-route-loss",
		labels:   "secondary-ip-route-loss && netlink",
		want: []string{
			"the persistent route was deleted when 192.0.2.21/24 was deleted: route-removed default via 192.0.2.1 dev lan0 proto static",
			"--- event timeline:",
			"[after deleting 192.0.2.21/24] route-removed default via 192.0.2.1",
		},
	},
	{
		// The production spec, driven into bind-then-connect: the positive
		// control, red with the signature and its counts.
		injector: "kb2901197-bind-first",
		labels:   "KB2901197",
		want:     []string{"the KB2901197 signature:", "connects failed with EADDRINUSE", "SIGNATURE:"},
	},
	{
		// Out-of-order removal leaves a stale host route; FIFO (the
		// workaround) stays green.
		injector: "kb287032",
		labels:   "KB287032 && !explorer",
		want:     []string{"history independence after delete-address", "(- only in a fresh lab, + only on the host)", "dev lan1 proto boot metric 0"},
	},
	{
		injector: "stall",
		labels:   "KB943650",
		want:     []string{"host stopped responding: 1 stall(s) longer than 2s", "on probe tcp-echo", "into the run) to"},
	},
}

// TestInjectedDefectsTurnSuitesRed runs the suite binary once per injector.
// The child gets none of this process's KBHARNESS_ settings: an attach
// target inherited from the user's shell would expose a real host to the
// injector.
func TestInjectedDefectsTurnSuitesRed(t *testing.T) {
	skipUnlessRoot(t)
	for _, d := range injectedDefects {
		t.Run(d.injector, func(t *testing.T) {
			reportDir := t.TempDir()
			cmd := exec.Command(suiteBin, "-ginkgo.label-filter="+d.labels, "-ginkgo.no-color")
			cmd.Env = childEnv("KBHARNESS_INJECT="+d.injector, "KBHARNESS_REPORT_DIR="+reportDir)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite %q passed with %s injected: its check cannot fail\n%s", d.labels, d.injector, out)
			}
			for _, w := range d.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("failure output lacks %q", w)
				}
			}
			junit, err := os.ReadFile(filepath.Join(reportDir, "junit.xml"))
			if err != nil || !strings.Contains(string(junit), "<failure") {
				t.Errorf("junit.xml in %s missing or without failures (%v)", reportDir, err)
			}
			if left := labNamespacesOf(t, cmd.Process.Pid); len(left) > 0 {
				t.Errorf("the run left lab namespaces behind: %v", left)
			}
			if t.Failed() {
				t.Logf("suite output:\n%s", out)
			}
		})
	}
}
