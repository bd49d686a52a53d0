package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func runArgs(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		inOutput string // expected in stdout+stderr
	}{
		{nil, exitUsage, "Usage: kbharness <command>"},
		{[]string{"--help"}, exitOK, "cleanup"},
		{[]string{"nosuch"}, exitUsage, `unknown command "nosuch"`},
		{[]string{"cleanup", "--help"}, exitOK, "Usage: kbharness cleanup [--all]"},
		{[]string{"cleanup", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"cleanup", "extra"}, exitUsage, `unexpected arguments ["extra"]`},
		{[]string{"lab"}, exitUsage, "missing lab subcommand"},
		{[]string{"lab", "--help"}, exitOK, "kbharness lab up [--fixture F] [--hold]"},
		{[]string{"lab", "sideways"}, exitUsage, `unknown lab subcommand "sideways"`},
		{[]string{"lab", "up", "--help"}, exitOK, "embedded lab name (default, multihomed)"},
		{[]string{"lab", "down"}, exitUsage, "need exactly one lab ID"},
		{[]string{"lab", "down", "nolab"}, exitUsage, `"nolab" is not a lab ID`},
		{[]string{"lab", "ls", "--help"}, exitOK, "Usage: kbharness lab ls"},
		{[]string{"lab", "up", "--fixture", "nosuch"}, exitFailure, "no such embedded lab (have default, multihomed)"},
	} {
		code, out, errs := runArgs(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.inOutput) {
			t.Errorf("kbharness %q: exit %d, output\n%s%s\nwant exit %d and output containing %q", tc.args, code, out, errs, tc.code, tc.inOutput)
		}
	}
}

func TestUnsupportedElsewhere(t *testing.T) {
	if runtime.GOOS == "linux" {
		t.Skip("linux supports labs")
	}
	code, _, errs := runArgs(t, context.Background(), "cleanup")
	if code != exitUsage || !strings.HasPrefix(errs, "unsupported on this host: ") {
		t.Errorf("cleanup on %s: exit %d, stderr %q", runtime.GOOS, code, errs)
	}
}

var idRE = regexp.MustCompile(`(?m)^lab (kbh-\d+-[a-z0-9]{6}) \(fixture (\w+)\)$`)

func TestLabUpLsDown(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("requires root on Linux: creates network namespaces")
	}
	ctx := context.Background()
	code, out, errs := runArgs(t, ctx, "lab", "up", "--fixture", "multihomed")
	m := idRE.FindStringSubmatch(out)
	if code != exitOK || m == nil || m[2] != "multihomed" {
		t.Fatalf("lab up: exit %d\n%s%s", code, out, errs)
	}
	id := m[1]
	t.Cleanup(func() { run(ctx, []string{"lab", "down", "--force", id}, &bytes.Buffer{}, &bytes.Buffer{}) })
	for _, want := range []string{"ip netns exec " + id + "-host ip route", id + "-gw2", "kbharness lab down " + id} {
		if !strings.Contains(out, want) {
			t.Errorf("lab up output lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = runArgs(t, ctx, "lab", "ls")
	if !regexp.MustCompile(id + `\s+\d+\s+kept\s+` + id + "-gw1 " + id + "-gw2 " + id + "-host").MatchString(out) {
		t.Errorf("lab ls does not list %s as kept:\n%s", id, out)
	}
	_, out, _ = runArgs(t, ctx, "cleanup")
	if strings.Contains(out, id) {
		t.Errorf("cleanup removed the kept lab %s:\n%s", id, out)
	}
	code, out, errs = runArgs(t, ctx, "lab", "down", id)
	if code != exitOK || strings.Count(out, "removed ") != 4 {
		t.Errorf("lab down: exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runArgs(t, ctx, "lab", "down", id); code != exitFailure {
		t.Errorf("second lab down: exit %d, want %d", code, exitFailure)
	}
}

// notifyWriter collects output and signals each write.
type notifyWriter struct {
	buf    bytes.Buffer
	writes chan string
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	w.writes <- string(p)
	return len(p), nil
}

func TestLabUpHold(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("requires root on Linux: creates network namespaces")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &notifyWriter{writes: make(chan string, 64)}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"lab", "up", "--hold"}, out, &bytes.Buffer{}) }()
	for w := range out.writes {
		if strings.HasPrefix(w, "holding") {
			break
		}
	}
	id := idRE.FindStringSubmatch(out.buf.String())[1]
	if _, err := os.Stat("/run/netns/" + id + "-host"); err != nil {
		t.Errorf("held lab: %v", err)
	}
	cancel() // as Ctrl-C does through signal.NotifyContext
	go func() {
		for range out.writes {
		}
	}()
	if code := <-done; code != exitOK {
		t.Errorf("lab up --hold: exit %d\n%s", code, out.buf.String())
	}
	if _, err := os.Stat("/run/netns/" + id + "-host"); !os.IsNotExist(err) {
		t.Errorf("lab %s still exists after the hold ended: %v", id, err)
	}
}
