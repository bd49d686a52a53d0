package selftest

import (
	"bufio"
	"context"
	"fmt"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kbharness/kbharness/netcfg"
)

// killSeed seeds the kill moments: KBH_KILL_SEED, else the clock. The seed
// is logged so a failing schedule can be replayed.
func killSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KBH_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("KBH_KILL_SEED: %v", err)
		}
	}
	t.Logf("kill schedule seed %d (replay with KBH_KILL_SEED=%d)", seed, seed)
	return seed
}

// attachedHost creates a namespace standing for a real lab host that
// kbharness did not build: lan0 and lan1 (veth pairs with both ends inside
// it) carrying the multihomed fixture's IPv4 addresses, plus its own
// configuration kbharness must never disturb (an address and a static
// route). It returns the namespace's name.
func attachedHost(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("kbt-%d-attached%d", os.Getpid(), hostSeq.Add(1))
	run := func(argv ...string) {
		t.Helper()
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%q: %v: %s", argv, err, out)
		}
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, argv := range [][]string{
		{"link", "add", "lan0", "type", "veth", "peer", "name", "lan0p"},
		{"link", "add", "lan1", "type", "veth", "peer", "name", "lan1p"},
		{"link", "set", "lo", "up"},
		{"link", "set", "lan0", "up"}, {"link", "set", "lan0p", "up"},
		{"link", "set", "lan1", "up"}, {"link", "set", "lan1p", "up"},
		{"addr", "add", "192.0.2.20/24", "dev", "lan0"},
		{"addr", "add", "198.51.100.20/24", "dev", "lan1"},
		{"addr", "add", "192.0.2.99/24", "dev", "lan0"},
		{"route", "add", "203.0.113.0/24", "via", "192.0.2.1", "proto", "static"},
	} {
		run(append([]string{"ip", "-n", ns}, argv...)...)
	}
	return ns
}

var hostSeq atomic.Int32

// snapshotOf is the namespace's snapshot, the normal form compared.
func snapshotOf(t *testing.T, ns string) *netcfg.Snapshot {
	t.Helper()
	h, err := linuxhost.OpenNamespace(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// killed is one suite run killed with SIGKILL.
type killed struct {
	pid       int
	after     time.Duration // when the kill was sent, after the marker
	output    string
	wasKilled bool // false: the run ended before the kill
}

// runAndKill starts the suite binary and kills it with SIGKILL the given
// time after it printed a line containing marker (at once for ""), or
// returns when it ends first.
func runAndKill(t *testing.T, marker string, after time.Duration, env []string, args ...string) killed {
	t.Helper()
	return runAndKillCmd(t, exec.Command(suiteBin, append(args, "-ginkgo.v", "-ginkgo.no-color")...), env, marker, after)
}

// runAndKillCmd is runAndKill of a prepared command (the suite binary
// inside `ip netns exec`, say): SIGKILL goes to the process cmd started.
func runAndKillCmd(t *testing.T, cmd *exec.Cmd, env []string, marker string, after time.Duration) killed {
	t.Helper()
	cmd.Env = env
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var out strings.Builder
	seen := make(chan struct{})
	var seenOnce sync.Once
	if marker == "" {
		seenOnce.Do(func() { close(seen) })
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), marker) {
				seenOnce.Do(func() { close(seen) })
			}
		}
	}()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-seen:
		select {
		case <-done:
		case <-time.After(after):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
	case <-done:
	}
	pr.Close()
	<-read
	k := killed{pid: cmd.Process.Pid, after: after, output: out.String()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Logf("the run ended by itself before its kill (%v after %q)", after, marker)
	} else {
		k.wasKilled = true
	}
	return k
}

// cleanup runs `kbharness cleanup` and returns its output.
func cleanup(t *testing.T, env []string) string {
	t.Helper()
	cmd := exec.Command(toolBin, "cleanup")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("kbharness cleanup: %v\n%s", err, out)
	}
	return string(out)
}

// orphansAfter waits (bounded) for helpers of a killed run to die with
// their parent and returns those still running.
func orphansAfter(window time.Duration) []string {
	deadline := time.Now().Add(window)
	for {
		left := processesOf(suiteBin)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond) // polling /proc: nothing to wait on
	}
}

// TestKillAttachedRun kills the suite binary attached to a host it did not
// build at seeded random moments, then restores the host with `kbharness
// cleanup`, or (every other kill) lets the next run do it. After each
// cleanup the host equals its baseline, no kbh namespace or process is
// left, and a final attached run passes.
func TestKillAttachedRun(t *testing.T) {
	skipUnlessRoot(t)
	rng := rand.New(rand.NewPCG(killSeed(t), 0))
	ns := attachedHost(t)
	baseline := snapshotOf(t, ns)
	env := childEnv("KBHARNESS_TARGET=netns:"+ns, "KBHARNESS_STATE_DIR="+t.TempDir(), "KBHARNESS_REPORT_DIR="+t.TempDir())
	// The attached hammer is killed in TestKillAttachedHammer, on fresh hosts:
	// here its TIME_WAIT would make every later run wait for its ports.
	filter := "-ginkgo.label-filter=secondary-ip-route-loss || KB287032"
	const kills = 12
	var restored, residual, orphans, dirty int
	for i := range kills {
		after := time.Duration(200+rng.IntN(6000)) * time.Millisecond
		k := runAndKill(t, "", after, env, filter)
		if len(netcfg.Diff(baseline, snapshotOf(t, ns)).Added) > 0 {
			dirty++ // the kill left changes behind
		}
		orphans += len(orphansAfter(2 * time.Second))
		if i%2 == 0 && i != kills-1 {
			continue // the next run recovers this one's journal
		}
		out := cleanup(t, env)
		restored += strings.Count(out, "restored: ")
		residual += strings.Count(out, "RESIDUAL")
		if d := netcfg.Diff(baseline, snapshotOf(t, ns)); !d.Empty() {
			t.Errorf("kill %d at %v: after cleanup the host differs from its baseline:\n%s\ncleanup said:\n%s\nrun output:\n%s", i, k.after, d, out, tail(k.output))
		}
		if left := labNamespacesOf(t, k.pid); len(left) > 0 {
			t.Errorf("kill %d: namespaces left: %v", i, left)
		}
		if left := processesOf(suiteBin); len(left) > 0 {
			t.Errorf("kill %d: processes left: %v", i, left)
		}
	}
	t.Logf("%d kills, %d left the host changed, %d undo operations replayed by cleanup, %d residual diffs, %d orphan processes",
		kills, dirty, restored, residual, orphans)
	if orphans > 0 || residual > 0 {
		t.Errorf("%d orphans, %d residual diffs", orphans, residual)
	}

	// The next attached run passes and leaves the baseline.
	cmd := exec.Command(suiteBin, "-ginkgo.label-filter=secondary-ip-route-loss || KB287032 || KB2901197 || KB943650")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("attached run after the kills: %v\n%s", err, tail(string(out)))
	}
	if d := netcfg.Diff(baseline, snapshotOf(t, ns)); !d.Empty() {
		t.Errorf("after a full attached run the host differs from its baseline:\n%s", d)
	}
}

// TestKillAttachedHammer kills KB2901197's hammer, attached to a host
// kbharness did not build, right after it narrowed the host's dynamic port
// range: cleanup puts the range back. Each kill gets a host of its own: the
// killed hammer's TIME_WAIT would make the next run wait for its range.
func TestKillAttachedHammer(t *testing.T) {
	skipUnlessRoot(t)
	rng := rand.New(rand.NewPCG(killSeed(t), 0))
	env := childEnv("KBHARNESS_STATE_DIR="+t.TempDir(), "KBHARNESS_REPORT_DIR="+t.TempDir())
	narrowed, before := 0, ""
	for i := range 5 {
		ns := attachedHost(t)
		portRange := func() string {
			out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/sys/net/ipv4/ip_local_port_range").Output()
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(strings.Fields(string(out)), " ")
		}
		before = portRange()
		after := time.Duration(rng.Int64N(int64(40 * time.Millisecond)))
		k := runAndKill(t, "STEP: narrowing the dynamic port range", after, append(env, "KBHARNESS_TARGET=netns:"+ns), "-ginkgo.label-filter=KB2901197")
		if !k.wasKilled {
			continue
		}
		if portRange() != before {
			narrowed++
		}
		out := cleanup(t, env)
		if got := portRange(); got != before {
			t.Errorf("kill %d (%v after narrowing): port range %q after cleanup, want %q\n%s", i, after, got, before, out)
		}
	}
	t.Logf("5 kills during the attached hammer, %d left the range narrowed, all restored to %q", narrowed, before)
	if narrowed < 3 {
		t.Errorf("only %d kills left the range narrowed: the test hardly exercised the journal", narrowed)
	}
}

// TestKillBuiltLabRun kills the suite binary during KB943650 (an echo
// responder process in a peer namespace, multicast routing in the host
// namespace) and KB2901197 (the hammer) at seeded random moments: the
// helpers die with it, and `kbharness cleanup` leaves no namespace.
func TestKillBuiltLabRun(t *testing.T) {
	skipUnlessRoot(t)
	rng := rand.New(rand.NewPCG(killSeed(t), 0))
	env := childEnv("KBHARNESS_STATE_DIR="+t.TempDir(), "KBHARNESS_REPORT_DIR="+t.TempDir())
	var orphans, kills int
	for _, sc := range []struct {
		scenario, marker string
		window           time.Duration // kill moments after the marker
	}{
		{"KB943650", "STEP: starting traffic", 5 * time.Second},
		{"KB2901197", "STEP: hammering", 80 * time.Millisecond},
	} {
		for i := range 5 {
			after := time.Duration(rng.Int64N(int64(sc.window)))
			k := runAndKill(t, sc.marker, after, env, "-ginkgo.label-filter="+sc.scenario)
			if k.wasKilled {
				kills++
			}
			left := orphansAfter(2 * time.Second)
			orphans += len(left)
			if len(left) > 0 {
				t.Errorf("%s kill %d (%v after %q): helper processes outlived the suite binary: %v", sc.scenario, i, after, sc.marker, left)
			}
			out := cleanup(t, env)
			if ns := labNamespacesOf(t, k.pid); len(ns) > 0 {
				t.Errorf("%s kill %d: namespaces left after cleanup: %v\n%s", sc.scenario, i, ns, out)
			}
		}
	}
	t.Logf("%d of 10 runs killed mid-stress (5 KB943650, 5 KB2901197), %d orphan processes", kills, orphans)
	if kills < 6 {
		t.Errorf("only %d runs were killed before they ended: the kill moments miss the stress", kills)
	}
}

// tail is the last lines of a run's output.
func tail(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// TestInjectorsRefusedOnAttachedHosts: asked for an injector while attached
// to a host kbharness did not build, the run refuses it and the host keeps
// its own routes.
func TestInjectorsRefusedOnAttachedHosts(t *testing.T) {
	skipUnlessRoot(t)
	ns := attachedHost(t)
	baseline := snapshotOf(t, ns)
	cmd := exec.Command(suiteBin, "-ginkgo.label-filter=secondary-ip-route-loss && netlink", "-ginkgo.no-color")
	cmd.Env = childEnv("KBHARNESS_TARGET=netns:"+ns, "KBHARNESS_INJECT=secondary-ip-route-loss",
		"KBHARNESS_STATE_DIR="+t.TempDir(), "KBHARNESS_REPORT_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("an injector ran against an attached host:\n%s", tail(string(out)))
	}
	if !strings.Contains(string(out), "injectors run only in namespace labs") {
		t.Errorf("the refusal does not say why:\n%s", tail(string(out)))
	}
	if d := netcfg.Diff(baseline, snapshotOf(t, ns)); !d.Empty() {
		t.Errorf("the attached host changed:\n%s", d)
	}
}

// TestChildrenNeverInheritTheTarget: the self-test's children run on labs
// they build, whatever the caller's environment points at.
func TestChildrenNeverInheritTheTarget(t *testing.T) {
	t.Setenv("KBHARNESS_TARGET", "netns:someones-host")
	t.Setenv("KBHARNESS_LAB_DIR", "/elsewhere")
	for _, kv := range childEnv("KBHARNESS_INJECT=stall") {
		if strings.HasPrefix(kv, "KBHARNESS_") && kv != "KBHARNESS_INJECT=stall" {
			t.Errorf("child inherits %s", kv)
		}
	}
}
