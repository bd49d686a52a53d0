package selftest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// TestWindowsDialectFromALinuxController runs the Linux suite binary against
// a Windows-dialect target: the command stand-ins' server in a lab
// namespace, reached with -kb.target standin://ADDR, with no Windows and no
// Wine. The Windows entries of secondary-ip-route-loss and KB287032 (by
// route.exe, netsh, PowerShell and AddIPAddress by P/Invoke) must pass; with the server's injected
// defect (persistent routes lost with an address) secondary-ip-route-loss
// must go red.
func TestWindowsDialectFromALinuxController(t *testing.T) {
	skipUnlessRoot(t)
	server := filepath.Join(t.TempDir(), "kbh-standin")
	if out, err := exec.Command(goTool(), "build", "-o", server, "github.com/kbharness/kbharness/cmd/kbh-standin").CombinedOutput(); err != nil {
		t.Fatalf("building kbh-standin: %v\n%s", err, out)
	}
	f, err := fixtures.LoadLab("../../.ci/wine/lab/wine-namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, inject, filter string
		wantRed              bool
	}{
		{"green", "", "secondary-ip-route-loss || KB287032", false},
		{"injected defect", "secondary-ip-route-loss", "secondary-ip-route-loss", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := lab.New(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			addr := startStandin(t, server, l.Namespaces[lab.HostRole], tc.inject)
			reports := t.TempDir()
			cmd := exec.Command("ip", "netns", "exec", l.Namespaces[lab.HostRole], suiteBin,
				"-kb.target", lab.StandinScheme+addr, "-kb.lab-dir", "../../.ci/wine/lab",
				"-ginkgo.label-filter", tc.filter, "-ginkgo.no-color")
			cmd.Env = childEnv("KBHARNESS_STATE_DIR="+t.TempDir(), "KBHARNESS_REPORT_DIR="+reports)
			out, err := cmd.CombinedOutput()
			summary := lastLine(string(out), "Passed |")
			t.Logf("%s: %s", tc.name, summary)
			switch {
			case tc.wantRed && err == nil:
				t.Fatalf("secondary-ip-route-loss passed with the stand-in's defect injected: its check cannot fail\n%s", tail(string(out)))
			case tc.wantRed && !strings.Contains(string(out), "via 192.0.2.1 missing from the"):
				t.Errorf("red, but not for the lost persistent route:\n%s", tail(string(out)))
			case !tc.wantRed && err != nil:
				t.Fatalf("Windows-dialect specs failed against the stand-ins: %v\n%s", err, tail(string(out)))
			case !tc.wantRed && !strings.Contains(summary, "32 Passed"):
				t.Errorf("want the 32 Windows entries of secondary-ip-route-loss and KB287032 (route.exe, netsh, PowerShell, AddIPAddress by P/Invoke) to pass: %s", summary)
			}
		})
	}
}

// startStandin starts `kbh-standin serve [flags]` in namespace ns and
// returns its address; it is killed when the test ends.
func startStandin(t *testing.T, server, ns, inject string, flags ...string) string {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "addr")
	args := append([]string{"netns", "exec", ns, server, "serve", "--listen", "127.0.0.1:0", "--ready", ready}, flags...)
	if inject != "" {
		args = append(args, "--inject", inject)
	}
	cmd := exec.Command("ip", args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatal("the stand-in server did not start within 10s")
		}
		time.Sleep(20 * time.Millisecond) // polling its ready file: nothing to wait on
	}
}

// lastLine is the last line of s that contains sub.
func lastLine(s, sub string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) {
			last = sc.Text()
		}
	}
	return last
}
