//go:build linux

package watchdog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// twoNamespaces builds kbh-<pid>-mc-wdh (192.0.2.1/24 on wd0) and
// kbh-<pid>-mc-wdp (192.0.2.2/24 on wd1) joined by veth.
func twoNamespaces(t *testing.T) (host, peer string) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	host = fmt.Sprintf("kbh-%d-mc-wdh", os.Getpid())
	peer = fmt.Sprintf("kbh-%d-mc-wdp", os.Getpid())
	for _, ns := range []string{host, peer} {
		ip(t, "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
	}
	ip(t, "link", "add", "name", "wd0", "netns", host, "type", "veth", "peer", "name", "wd1", "netns", peer)
	ip(t, "-n", host, "addr", "add", "192.0.2.1/24", "dev", "wd0")
	ip(t, "-n", peer, "addr", "add", "192.0.2.2/24", "dev", "wd1")
	for _, c := range [][]string{{host, "wd0"}, {host, "lo"}, {peer, "wd1"}, {peer, "lo"}} {
		ip(t, "-n", c[0], "link", "set", c[1], "up")
	}
	return host, peer
}

// A SIGSTOPped responder in the peer namespace is seen as a stall of the
// TCP echo probe, with a window matching the pause; the netlink probe in the
// host namespace stays healthy.
func TestResponderPauseIsAStall(t *testing.T) {
	host, peer := twoNamespaces(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := netip.MustParseAddrPort("192.0.2.2:7007")
	r, err := StartResponder(ctx, peer, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if got, err := WaitResponder(ctx); err != nil || got != r {
		t.Fatalf("WaitResponder = %v, %v; want the started responder", got, err)
	}
	route, closeRoute, err := RouteRead(host, netip.MustParseAddr("192.0.2.2"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRoute()
	echo := TCPEcho("tcp-echo", DialFrom(host, addr))
	if err := echo.Check(ctx); err != nil { // connected before the watchdog starts
		t.Fatal(err)
	}
	detected, recovered := make(chan Stall, 2), make(chan Stall, 2)
	cfg := Config{Interval: 20 * time.Millisecond, Threshold: 500 * time.Millisecond, Timeout: 100 * time.Millisecond,
		OnStall: func(s Stall) { detected <- s }, OnRecover: func(s Stall) { recovered <- s }}
	w := Start(cfg, route, echo)
	defer w.Stop()
	<-time.After(200 * time.Millisecond) // let the watchdog see the host alive (a pacing pause, not a sync)

	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	pausedAt := time.Now()
	s := <-detected
	if s.Probe != "tcp-echo" {
		t.Fatalf("stall on %s, want tcp-echo", s.Probe)
	}
	// Resume once the pause has lasted a second: the fault's own length.
	<-time.After(time.Until(pausedAt.Add(time.Second)))
	if err := r.Resume(); err != nil {
		t.Fatal(err)
	}
	resumedAt := time.Now()
	<-recovered
	rep := w.Stop()
	if len(rep.Stalls) != 1 {
		t.Fatalf("stalls = %v, want exactly the echo stall", rep.Stalls)
	}
	got := rep.Stalls[0]
	// SIGSTOP takes effect asynchronously: an echo in flight may still be
	// answered just after Pause returns.
	if d := pausedAt.Sub(got.Start); d < -10*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("stall starts %v before the pause, want -10ms..100ms", d)
	}
	if d := got.End.Sub(resumedAt); d < 0 || d > 300*time.Millisecond {
		t.Errorf("stall ends %v after the resume, want 0..300ms", d)
	}
	t.Logf("%v\n%s", got, rep.Summary())
}

// oneNamespace builds kbh-<pid>-wd-<name> with lo up and deletes it when the
// test ends.
func oneNamespace(t *testing.T, name string) string {
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	ns := fmt.Sprintf("kbh-%d-wd-%s", os.Getpid(), name)
	ip(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", ns).Run() })
	ip(t, "-n", ns, "link", "set", "lo", "up")
	return ns
}

// procState reads /proc/<pid>/stat: the start time (field 22) and state
// (field 3); ok is false when there is no such process.
func procState(pid int) (start uint64, state string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 20 {
		return 0, "", false
	}
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return start, f[0], true
}

// running reports whether the process with this pid and start time still
// runs: it exists, is not a zombie (a zombie holds no namespace or socket
// any more; pid 1 here may never reap it) and is not a newer process that
// reused the pid.
func running(pid int, start uint64) bool {
	s, state, ok := procState(pid)
	return ok && s == start && state != "Z" && state != "X"
}

// waitGone polls /proc every 5ms for up to window until the process is no
// longer running; it returns how long that took, or false.
func waitGone(pid int, start uint64, window time.Duration) (time.Duration, bool) {
	begin := time.Now()
	for {
		if !running(pid, start) {
			return time.Since(begin), true
		}
		if time.Since(begin) > window {
			return time.Since(begin), false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// responderParentEnv makes this test binary a process that starts an echo
// responder in the namespace it names, prints "responder <pid>" and waits
// for its stdin to close (see TestResponderDiesWithItsParent).
const responderParentEnv = "KBH_WATCHDOG_TEST_RESPONDER_PARENT"

func init() { helperModes = append(helperModes, serveIfResponderParent) }

func serveIfResponderParent() {
	ns := os.Getenv(responderParentEnv)
	if ns == "" {
		return
	}
	r, err := StartResponder(context.Background(), ns, netip.MustParseAddrPort("127.0.0.1:7008"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("responder %d\n", r.Pid())
	io.Copy(io.Discard, os.Stdin)
	r.Stop()
	os.Exit(0)
}

// Item 4c of issue 9: kill -9 of the process that started a responder kills
// the responder too (PR_SET_PDEATHSIG), instead of leaving it running under
// pid 1 in a namespace nobody cleans up.
func TestResponderDiesWithItsParent(t *testing.T) {
	ns := oneNamespace(t, "parent")
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), responderParentEnv+"="+ns)
	parent.Stderr = os.Stderr
	stdin, err := parent.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var pid int
	if _, serr := fmt.Sscanf(line, "responder %d", &pid); err != nil || serr != nil {
		parent.Process.Kill()
		parent.Wait()
		t.Fatalf("helper parent printed %q, %v", line, err)
	}
	start, _, ok := procState(pid)
	if !ok || !running(pid, start) {
		t.Fatalf("responder %d is not running after its start", pid)
	}
	t.Cleanup(func() {
		if running(pid, start) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	parent.Wait()
	// PR_SET_PDEATHSIG is delivered as the parent exits; the window only
	// bounds a broken build.
	const window = 5 * time.Second
	took, gone := waitGone(pid, start, window)
	if !gone {
		t.Fatalf("responder %d still runs %s after kill -9 of its parent", pid, window)
	}
	t.Logf("responder %d gone %s after its parent was reaped", pid, took)
}

// The parent-death signal fires when the forking *thread* exits. A
// goroutine that locks its thread and returns without unlocking retires the
// thread (what lab.Lab.Do does when it cannot switch a thread back): a
// responder started from it must survive, because responders are forked
// from the spawner thread.
func TestResponderSurvivesItsCallersThread(t *testing.T) {
	ns := oneNamespace(t, "thread")
	addr := netip.MustParseAddrPort("127.0.0.1:7009")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type started struct {
		r   *Responder
		tid int
		err error
	}
	done := make(chan started, 1)
	onRetiredThread(func() {
		r, err := StartResponder(ctx, ns, addr)
		done <- started{r, unix.Gettid(), err}
	})
	s := <-done
	if s.err != nil {
		t.Fatal(s.err)
	}
	defer s.r.Stop()
	start, _, _ := procState(s.r.Pid())
	// Wait for the caller's thread to be gone from this process.
	task := fmt.Sprintf("/proc/self/task/%d", s.tid)
	deadline := time.Now().Add(5 * time.Second)
	for _, err := os.Stat(task); err == nil; _, err = os.Stat(task) {
		if time.Now().After(deadline) {
			t.Fatalf("thread %d of the goroutine that started the responder did not exit within 5s", s.tid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A parent-death signal would be delivered as the thread exits: the
	// responder must stay alive over a window after it.
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if !running(s.r.Pid(), start) {
			t.Fatalf("responder %d died with the thread that called StartResponder", s.r.Pid())
		}
	}
	echo := TCPEcho("tcp-echo", DialFrom(ns, addr))
	defer echo.(*tcpEcho).Close()
	if err := echo.Check(ctx); err != nil {
		t.Fatalf("responder no longer echoes after its caller's thread exited: %v", err)
	}
}

// onRetiredThread runs fn on a goroutine locked to an OS thread other than
// the main one, and returns without unlocking it: the runtime then ends the
// thread. (The main thread is never ended, only parked: a goroutine that
// finds itself there keeps it locked while a second one runs fn.)
func onRetiredThread(fn func()) {
	var run func()
	run = func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		if unix.Gettid() == unix.Getpid() {
			done := make(chan struct{})
			go func() { defer close(done); run() }()
			<-done
			runtime.UnlockOSThread()
			return
		}
		fn()
	}
	go run()
}

// A responder whose ParentEnv does not name its parent — the parent died
// before PR_SET_PDEATHSIG was armed and the child was reparented — exits at
// once instead of serving.
func TestResponderExitsWithoutItsParent(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ResponderEnv+"=127.0.0.1:0", ParentEnv+"="+strconv.Itoa(os.Getpid()+1))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(string(out), "is gone") {
		t.Fatalf("responder with a wrong parent: %v, output %q; want exit 3 saying the parent is gone", err, out)
	}
	if strings.Contains(string(out), responderReady) {
		t.Errorf("responder listened before checking its parent: %q", out)
	}
}
