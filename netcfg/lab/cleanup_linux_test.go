//go:build linux

package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// childEnv makes the test binary a lab owner (see TestMain): "hold" builds
// the default lab, prints "ID <id>" and keeps it until stdin closes;
// "detach" builds it, detaches it and exits.
const childEnv = "KBH_LAB_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

func runChild(mode string) int {
	f, err := fixtures.LoadLab("default")
	if err == nil {
		var l *Lab
		if l, err = New(context.Background(), f); err == nil {
			fmt.Printf("ID %s\n", l.ID)
			if mode == "detach" {
				err = l.Detach()
			} else {
				io.Copy(io.Discard, os.Stdin)
				err = l.Close()
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild runs the test binary as a lab owner and returns it with its
// lab ID. The child's lab is removed at the end of the test whatever
// happens.
func startChild(t *testing.T, mode string) (*exec.Cmd, io.WriteCloser, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "ID ")
	if err != nil || !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child lab owner printed %q, %v", line, err)
	}
	t.Cleanup(func() {
		stdin.Close() // a holding child closes its lab and exits
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		Down(context.Background(), id) // no-op when the lab is gone
	})
	return cmd, stdin, id
}

// labNamespaces returns the default lab's namespaces for id, sorted as List does.
func labNamespaces(id string) []string { return []string{id + "-gw", id + "-" + HostRole} }

// TestCleanupAfterKill proves kill -9 leftovers are removed while live labs,
// this process's and a running child's, are not touched.
func TestCleanupAfterKill(t *testing.T) {
	skipUnlessRoot(t)
	ctx := context.Background()
	own := newLab(t, loadFixture(t, "default"))
	victim, _, victimID := startChild(t, "hold")
	_, liveStdin, liveID := startChild(t, "hold")

	removed, err := Cleanup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{own.ID, victimID, liveID} {
		for _, ns := range labNamespaces(id) {
			if slices.Contains(removed, ns) || !nsExists(ns) {
				t.Errorf("Cleanup with every owner alive removed %s (removed %v)", ns, removed)
			}
		}
	}

	if err := victim.Process.Kill(); err != nil { // SIGKILL: no Close runs
		t.Fatal(err)
	}
	victim.Wait()
	for _, ns := range labNamespaces(victimID) {
		if !nsExists(ns) {
			t.Fatalf("namespace %s of the killed owner is already gone", ns)
		}
	}

	removed, err = Cleanup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Other processes' New runs Cleanup too and may win the race for a
	// leftover: the leftovers must be gone, removed by us or by them.
	for _, p := range append(labNamespaces(victimID), statePath(victimID)) {
		if !slices.Contains(removed, p) {
			t.Logf("%s was removed by a concurrent Cleanup of another process", p)
		}
	}
	for _, ns := range labNamespaces(victimID) {
		if nsExists(ns) {
			t.Errorf("Cleanup after kill -9 left %s (removed %v)", ns, removed)
		}
	}
	if _, err := os.Stat(statePath(victimID)); err == nil {
		t.Errorf("Cleanup after kill -9 left the state file %s", statePath(victimID))
	}
	for _, id := range []string{own.ID, liveID} {
		for _, ns := range labNamespaces(id) {
			if !nsExists(ns) {
				t.Errorf("Cleanup removed %s of a live owner", ns)
			}
		}
	}
	reach(t, own, "gw", HostRole, own.HostAddress(0, netcfg.IPv4).Addr())

	liveStdin.Close() // the live child closes its lab and exits
}

// TestCleanupPidReuse: a lab whose state file records this pid with another
// start time belongs to a dead process whose pid was reused.
func TestCleanupPidReuse(t *testing.T) {
	skipUnlessRoot(t)
	ctx := context.Background()
	id := fmt.Sprintf("%s%d-%s", Prefix, os.Getpid(), randomToken())
	if err := writeState(id, state{PID: os.Getpid(), Start: selfStart() - 1}); err != nil {
		t.Fatal(err)
	}
	ns := id + "-" + HostRole
	if _, err := runCommand(ctx, "ip", "netns", "add", ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Down(ctx, id) })
	removed, err := Cleanup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if nsExists(ns) {
		t.Errorf("Cleanup kept %s of a reused pid (removed %v)", ns, removed)
	}
}

// TestDetachedLabIsKept: a detached lab (`kbharness lab up` without --hold)
// survives its owner and Cleanup; Down removes it.
func TestDetachedLabIsKept(t *testing.T) {
	skipUnlessRoot(t)
	ctx := context.Background()
	child, _, id := startChild(t, "detach")
	if err := child.Wait(); err != nil {
		t.Fatalf("detaching child: %v", err)
	}
	if _, err := Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	infos, err := List()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(infos, func(in Info) bool { return in.ID == id })
	if i < 0 || infos[i].Alive || !infos[i].Kept || !slices.Equal(infos[i].Namespaces, labNamespaces(id)) {
		t.Fatalf("List after Cleanup: %+v, want %s kept, not alive, with %v", infos, id, labNamespaces(id))
	}
	removed, err := Down(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(labNamespaces(id), statePath(id)); !slices.Equal(removed, want) {
		t.Errorf("Down removed %v, want %v", removed, want)
	}
	if _, err := Down(ctx, id); err == nil {
		t.Error("second Down succeeded")
	}
}

// TestRemoveKillsProcessesInLab: a process still running in a lab's
// namespace (a helper that outlived its owner) is killed, waited for and
// reported before the namespace goes, instead of being left running in an
// unnamed namespace. Cleanup does it for a dead owner's lab, Down for any.
func TestRemoveKillsProcessesInLab(t *testing.T) {
	skipUnlessRoot(t)
	for _, tc := range []struct {
		name   string
		start  uint64 // the owner's start time in the state file
		remove func(ctx context.Context, id string) ([]string, error)
	}{
		// This pid with another start time: a dead owner whose pid was
		// reused (as in TestCleanupPidReuse).
		{"Cleanup of a dead owner's lab", selfStart() - 1, func(ctx context.Context, _ string) ([]string, error) { return Cleanup(ctx) }},
		// This process, alive: only Down removes it.
		{"Down of a live owner's lab", selfStart(), Down},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			id := fmt.Sprintf("%s%d-%s", Prefix, os.Getpid(), randomToken())
			if err := writeState(id, state{PID: os.Getpid(), Start: tc.start}); err != nil {
				t.Fatal(err)
			}
			ns := id + "-" + HostRole
			if _, err := runCommand(ctx, "ip", "netns", "add", ns); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { Down(ctx, id) })
			sleep := exec.Command("ip", "netns", "exec", ns, "sleep", "600")
			if err := sleep.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- sleep.Wait() }()
			t.Cleanup(func() { sleep.Process.Kill() })
			pid := sleep.Process.Pid
			// `ip netns exec` switches namespace, then execs sleep in place.
			waitFor(t, 5*time.Second, "sleep to run in "+ns, func() bool {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				return strings.TrimSpace(string(comm)) == "sleep"
			})
			procs, err := namespaceProcs(ns)
			if err != nil || len(procs) != 1 || procs[0].pid != pid {
				t.Fatalf("processes in %s = %v, %v; want the sleep, pid %d", ns, procs, err, pid)
			}

			removed, err := tc.remove(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			// It waited for the sleep to be gone: a zombie by now, so Wait
			// returns at once, with the SIGKILL.
			select {
			case err := <-exited:
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Errorf("sleep ended with %v, want killed by SIGKILL", err)
				}
			case <-time.After(time.Second):
				t.Fatalf("sleep %d in %s still runs after removing the lab (removed %v)", pid, ns, removed)
			}
			line := fmt.Sprintf("killed pid %d (sleep) in %s", pid, ns)
			switch {
			case slices.Contains(removed, line):
				if i, j := slices.Index(removed, line), slices.Index(removed, ns); j < i {
					t.Errorf("removed %v: want %q before %s", removed, line, ns)
				}
			case !slices.Contains(removed, ns):
				// Other processes' New runs Cleanup too and may win the race
				// for a dead owner's lab.
				t.Logf("%s was removed by a concurrent Cleanup of another process", ns)
			default:
				t.Errorf("removed %v, want it to report %q", removed, line)
			}
			if nsExists(ns) {
				t.Errorf("%s is still there", ns)
			}
		})
	}
}

// waitFor polls cond every 5ms for up to window.
func waitFor(t *testing.T, window time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(window)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s", window, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
