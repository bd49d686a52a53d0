package selftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/suites/registry"

	// Every KB package, for its registration: the suite binary links the
	// same ones (suites/suites_test.go).
	_ "github.com/kbharness/kbharness/suites/kb287032"
	_ "github.com/kbharness/kbharness/suites/kb2901197"
	_ "github.com/kbharness/kbharness/suites/kb943650"
	_ "github.com/kbharness/kbharness/suites/kb952876"
	_ "github.com/kbharness/kbharness/suites/secondaryip"
)

// TestInjectedDefectsTurnSuitesRed proves that each suite can fail: once per
// registered scenario with a self-test (registry.SelfTest), the suite binary
// is run again with its defect injector acting on the real kernel in the
// lab, and the scenario's specs must go red saying what broke. The child
// gets none of this process's KBHARNESS_ settings: an attach
// target inherited from the user's shell would expose a real host to the
// injector.
func TestInjectedDefectsTurnSuitesRed(t *testing.T) {
	skipUnlessRoot(t)
	for _, sc := range registry.All() {
		d := sc.SelfTest
		if d == nil {
			continue
		}
		t.Run(d.Injector, func(t *testing.T) {
			reportDir := t.TempDir()
			cmd := exec.Command(suiteBin, "-ginkgo.label-filter="+d.Labels, "-ginkgo.no-color")
			cmd.Env = childEnv("KBHARNESS_INJECT="+d.Injector, "KBHARNESS_REPORT_DIR="+reportDir)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite %q passed with %s injected: its check cannot fail\n%s", d.Labels, d.Injector, out)
			}
			for _, w := range d.Want {
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
