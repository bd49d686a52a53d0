package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
		{[]string{"cleanup", "--help"}, exitOK, "Usage: kbharness cleanup"},
		{[]string{"cleanup", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"cleanup", "extra"}, exitUsage, `unexpected arguments ["extra"]`},
		{[]string{"lab"}, exitUsage, "missing lab subcommand"},
		{[]string{"lab", "--help"}, exitOK, "kbharness lab up [--fixture F] [--hold]"},
		{[]string{"lab", "sideways"}, exitUsage, `unknown lab subcommand "sideways"`},
		{[]string{"lab", "up", "--help"}, exitOK, "embedded lab name (default, multihomed)"},
		{[]string{"lab", "down"}, exitUsage, "need exactly one lab ID"},
		{[]string{"lab", "down", "nolab"}, exitUsage, `"nolab" is not a lab ID`},
		{[]string{"lab", "ls", "--help"}, exitOK, "Usage: kbharness lab ls"},
		{[]string{"lab", "up", "--fixture", "nosuch"}, exitUsage, "no such embedded lab (have default, multihomed)"},
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

// writeFile writes a file under a test directory and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// validReplay replays one address add and delete on the multihomed lab.
const validReplay = `lab: multihomed
seed: 1
steps:
  - op: add-address
    mechanism: netlink
    interface: lan0
    address: 192.0.2.100/24
  - op: delete-address
    mechanism: netlink
    interface: lan0
    address: 192.0.2.100/24
`

// Bad input (an input file missing, not decoding or not validating, a flag
// out of its bounds) exits 2, as bad usage, before any lab is built; the
// message names the file, line and field, or the flag.
func TestBadInputExitsTwo(t *testing.T) {
	badLab := writeFile(t, "lab.yaml", "name: x\nlinks:\n  - interface: lan0\n    peer: gw\n    peerInterface: eth0\n    addresses: [10.0.0.1/24]\n")
	syntaxLab := writeFile(t, "syntax.yaml", "name: x\nlinks:\n  - interface: lan0\n   peer: gw\n")
	truncated := writeFile(t, "replay.yaml", strings.Replace(validReplay, "address: 192.0.2.100/24\n  - op: delete", "address: 192.0.2.100/2\n  - op: delete", 1))
	unknownInjector := writeFile(t, "replay.yaml", validReplay+"injectors: [nosuch]\n")
	good := writeFile(t, "replay.yaml", validReplay)
	missing := filepath.Join(t.TempDir(), "nosuch.yaml")
	for _, tc := range []struct {
		args     []string
		inStderr string
	}{
		{[]string{"lab", "up", "--fixture", badLab}, badLab + ":6: field links[0].addresses[0]: 10.0.0.1/24 is outside the documentation ranges"},
		{[]string{"lab", "up", "--fixture", syntaxLab}, syntaxLab + ":4: did not find expected '-' indicator"},
		{[]string{"lab", "up", "--fixture", missing}, "no such file or directory"},
		{[]string{"explore", "--lab", badLab}, badLab + ":6: field links[0].addresses[0]"},
		{[]string{"explore", "--lab", "nosuch"}, "no such embedded lab"},
		{[]string{"explore", "--replay", truncated}, truncated + ":7: field steps[0].address: 192.0.2.100/2: prefix length /2"},
		{[]string{"explore", "--replay", missing}, "no such file or directory"},
		{[]string{"explore", "--replay", unknownInjector}, `injectors: unknown injector "nosuch" (have `},
		{[]string{"explore", "--inject", "nosuch"}, `--inject: unknown injector "nosuch" (have `},
		{[]string{"explore", "--replay", good, "--seed", "3"}, "--seed does not apply to --replay"},
		{[]string{"explore", "--replay", good, "--lab", "default", "--steps", "5"}, "--lab, --steps do not apply to --replay"},
		{[]string{"explore", "--steps", "0"}, "--steps 0 is out of bounds: want 1 to 10000000"},
		{[]string{"explore", "--steps", "10000001"}, "--steps 10000001 is out of bounds: want 1 to 10000000"},
		{[]string{"explore", "--max-len", "101"}, "--max-len 101 is out of bounds: want 1 to 100"},
		{[]string{"explore", "--background", "131073"}, "--background 131073 is out of bounds: want 0 to 131072"},
		{[]string{"explore", "--shrink-time", "2h"}, "--shrink-time 2h is out of bounds: want 1s to 1h"},
		{[]string{"hammer", "--lab", badLab}, badLab + ":6: field links[0].addresses[0]"},
		{[]string{"hammer", "--lab", missing}, "no such file or directory"},
		{[]string{"hammer", "--workers", "65"}, "--workers 65 is out of bounds: want 1 to 64"},
		{[]string{"hammer", "--count", "5000001"}, "--count 5000001 is out of bounds: want 0 to 5000000"},
		{[]string{"hammer", "--count", "-1"}, "--count -1 is out of bounds"},
		{[]string{"hammer", "--duration", "1000h"}, "--duration 1000h is out of bounds: want 0s to 10m"},
		{[]string{"hammer", "--payload", "65537"}, "--payload 65537 is out of bounds: want 0 to 65536"},
		{[]string{"hammer", "--timeout", "31s"}, "--timeout 31s is out of bounds: want 0s to 30s"},
		{[]string{"hammer", "--range", "80-40000"}, `--range "80-40000": want LO-HI with 1024 <= LO <= HI <= 65535`},
	} {
		code, out, errs := runArgs(t, context.Background(), tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.inStderr) {
			t.Errorf("kbharness %q: exit %d, output\n%s%s\nwant exit %d and stderr containing %q", tc.args, code, out, errs, exitUsage, tc.inStderr)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		s, goos string
		ok      bool
	}{
		{"40000-40255", "linux", true},
		{"1024-1024", "linux", true},
		{"1023-2000", "linux", false},
		{"40000-39999", "linux", false},
		{"40000-70000", "linux", false},
		{"49152-49406", "windows", true},
		{"49152-49405", "windows", false}, // 254 ports
		{"1024-2000", "windows", false},
		{"1025-2000", "windows", true},
		{"x-2", "linux", false},
	} {
		_, err := parseRange(tc.s, tc.goos)
		if (err == nil) != tc.ok {
			t.Errorf("parseRange(%q, %s) = %v, want ok %v", tc.s, tc.goos, err, tc.ok)
		}
	}
}

// A replay reports the seed its file gives, not the --seed default of 0.
func TestReplayReportsTheFileSeed(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("requires root on Linux: creates network namespaces")
	}
	f := writeFile(t, "replay.yaml", strings.Replace(validReplay, "seed: 1", "seed: 4242", 1))
	code, out, errs := runArgs(t, context.Background(), "explore", "--quiet", "--replay", f)
	if code != exitOK || !strings.HasPrefix(out, "seed 4242: 2 steps in 1 sequences") {
		t.Errorf("explore --replay: exit %d\n%s%s\nwant exit 0 and a summary starting \"seed 4242: 2 steps in 1 sequences\"", code, out, errs)
	}
}
