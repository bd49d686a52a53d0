//go:build unix

package reports

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// Set in the child a root parent runs as nobody: the default report
// directory it cannot write, and a directory it names but cannot write.
const (
	childDefaultEnv  = "KBH_REPORTS_TEST_DEFAULT"
	childExplicitEnv = "KBH_REPORTS_TEST_EXPLICIT"
)

// A run that cannot write its default report directory (a non-root run
// under an out/ a root run created) falls back to a new directory under
// os.TempDir(), says so with the hint, and every report is written there;
// a directory the run names must be writable, or it fails with the hint.
// As root the check runs in a child as nobody (uid 65534) against a
// root-owned directory; otherwise against a directory made read-only.
func TestPlaceWithoutWritableDefault(t *testing.T) {
	if def := os.Getenv(childDefaultEnv); def != "" {
		checkPlace(t, def, os.Getenv(childExplicitEnv))
		return
	}
	if os.Geteuid() != 0 {
		out := filepath.Join(t.TempDir(), "out")
		if err := os.Mkdir(out, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(out, 0o755) })
		checkPlace(t, filepath.Join(out, "reports", "20261129-120000"), filepath.Join(out, "mine"))
		return
	}
	// A directory nobody can read and run the test binary from, with a
	// root-owned out/ in it and a temporary directory of its own.
	dir, err := os.MkdirTemp("", "kbh-reports-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmp := filepath.Join(dir, "tmp")
	out := filepath.Join(dir, "out")
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o755}, {tmp, 0o1777}, {out, 0o755}} {
		if err := os.MkdirAll(d.path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "reports.test")
	if err := copyFile(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPlaceWithoutWritableDefault$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		childDefaultEnv+"="+filepath.Join(out, "reports", "20261129-120000"),
		childExplicitEnv+"="+filepath.Join(out, "mine"),
		"TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	output, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", output)
	if err != nil || !strings.Contains(string(output), "--- PASS: TestPlaceWithoutWritableDefault") {
		t.Fatalf("the check as nobody: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("the root-owned out/ got %d entries", len(entries))
	}
}

func checkPlace(t *testing.T, def, explicit string) {
	t.Helper()
	got, note, err := place("", def)
	if err != nil {
		t.Fatalf("place with an unwritable default: %v", err)
	}
	if !strings.HasPrefix(got, os.TempDir()+string(filepath.Separator)+"kbharness-reports-20261129-120000-") {
		t.Errorf("fallback %s is not a new directory under %s", got, os.TempDir())
	}
	t.Cleanup(func() { os.RemoveAll(got) })
	for _, want := range []string{"cannot write reports to " + def, "permission denied", "writing them to " + got + " instead",
		"set -kb.report-dir or KBHARNESS_REPORT_DIR to a writable directory"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	if err := Write(types.Report{SuiteDescription: "kbharness"}, got); err != nil {
		t.Fatalf("writing the reports to the fallback: %v", err)
	}
	for _, f := range Files {
		if _, err := os.Stat(filepath.Join(got, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	// A directory the run names is not replaced.
	_, _, err = place(explicit, def)
	if err == nil || !strings.Contains(err.Error(), "report directory "+explicit+" (-kb.report-dir / KBHARNESS_REPORT_DIR)") ||
		!strings.Contains(err.Error(), Hint) {
		t.Errorf("place with an unwritable named directory = %v, want an error naming it with the hint", err)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
