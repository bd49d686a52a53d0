package selftest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Binaries built once by TestMain.
var (
	suiteBin string // the suite binary (go test -c ./suites)
	toolBin  string // the kbharness command
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		// Every test here needs root; building would be wasted.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "kbh-selftest-")
	if err == nil {
		suiteBin, toolBin = filepath.Join(dir, "kbharness-suites.test"), filepath.Join(dir, "kbharness")
		err = build(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "selftest:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool is the go command: on PATH, else the running toolchain's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// build compiles the suite binary and the kbharness command into dir.
func build(dir string) error {
	gobin := goTool()
	for _, argv := range [][]string{
		{gobin, "test", "-c", "-o", suiteBin, "github.com/kbharness/kbharness/suites"},
		{gobin, "build", "-o", toolBin, "github.com/kbharness/kbharness/cmd/kbharness"},
	} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("running %q: %w\n%s", argv, err, out)
		}
	}
	return nil
}

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
}

// childEnv is this process's environment without any setting that points
// kbharness at a host (a child must never inherit an attach target) or
// changes what it runs, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KBHARNESS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// labNamespacesOf lists the lab namespaces a process created and left.
func labNamespacesOf(t *testing.T, pid int) []string {
	t.Helper()
	entries, err := os.ReadDir("/run/netns")
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("listing /run/netns: %v", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), fmt.Sprintf("kbh-%d-", pid)) {
			out = append(out, e.Name())
		}
	}
	return out
}

// processesOf lists the running processes whose executable is bin: helpers
// a killed suite binary left (it re-executes itself as the echo responder).
func processesOf(bin string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != bin {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue // a zombie: dead, waiting for its reaper
		}
		out = append(out, e.Name())
	}
	return out
}
