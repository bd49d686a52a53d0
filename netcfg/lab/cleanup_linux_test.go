//go:build linux

package lab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
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
