//go:build linux

package lab

import (
	"bufio"
	"context"
	"fmt"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg"
)

// attachChildEnv makes the test binary attach to the namespace it names,
// make a spec's changes, print "changed" and wait to be killed.
const attachChildEnv = "KBH_LAB_TEST_ATTACH_CHILD"

func init() {
	ns := os.Getenv(attachChildEnv)
	if ns == "" {
		return
	}
	err := attachAndChange(ns)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("changed")
	select {}
}

func attachAndChange(ns string) error {
	ctx := context.Background()
	f, err := fixtures.LoadLab("default")
	if err != nil {
		return err
	}
	l, err := Attach(ctx, ns, f)
	if err != nil {
		return err
	}
	gw := netip.MustParseAddr("192.0.2.1")
	for _, err := range []error{
		l.Host.AddRoute(ctx, netcfg.Netlink, netcfg.RouteSpec{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gw, Interface: "lan0", Persistent: true}),
		l.Host.AddAddress(ctx, netcfg.IPRoute2, netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}),
		l.Host.DeleteRoute(ctx, netcfg.Netlink, netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: gw, Persistent: true}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

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

// TestAttachedHostRestoredAfterKill kills an attached run with SIGKILL after
// its changes (a persistent default route on the lab interface, an
// additional address, the host's own static route deleted) and checks that
// the next Attach replays its journal: the namespace is back at its
// baseline and usable again.
func TestAttachedHostRestoredAfterKill(t *testing.T) {
	skipUnlessRoot(t)
	t.Setenv(journal.DirEnv, t.TempDir())
	ns := attachTarget(t)
	if _, err := runCommand(context.Background(), "ip", "-n", ns, "route", "add", "203.0.113.0/24", "via", "192.0.2.1", "proto", "static"); err != nil {
		t.Fatal(err)
	}
	baseline := snapshotOf(t, ns)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), attachChildEnv+"="+ns)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "changed" {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("child: %q", line)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	if d := netcfg.Diff(baseline, snapshotOf(t, ns)); d.Empty() {
		t.Fatal("the child changed nothing")
	}

	l, err := Attach(context.Background(), ns, loadFixture(t, "default"))
	if err != nil {
		t.Fatalf("Attach after the kill: %v", err)
	}
	if len(l.Recovered) != 1 || !l.Recovered[0].Clean() || len(l.Recovered[0].Restored) < 4 {
		t.Errorf("recovered: %v", l.Recovered)
	} else {
		t.Logf("%s", l.Recovered[0])
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if d := netcfg.Diff(baseline, snapshotOf(t, ns)); !d.Empty() {
		t.Errorf("namespace differs from its baseline:\n%s", d)
	}
	if left, _ := journal.List(journal.Dir()); len(left) > 0 {
		t.Errorf("journals left: %v", left)
	}
}

// TestAttachUndoChecksTheBaseline: a change made behind the journal's back
// is reported when the lab is closed, not silently left.
func TestAttachUndoChecksTheBaseline(t *testing.T) {
	skipUnlessRoot(t)
	t.Setenv(journal.DirEnv, t.TempDir())
	ns := attachTarget(t)
	l, err := Attach(context.Background(), ns, loadFixture(t, "default"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runCommand(context.Background(), "ip", "-n", ns, "addr", "add", "198.51.100.5/24", "dev", "lan0"); err != nil {
		t.Fatal(err)
	}
	err = l.Close()
	if err == nil || !strings.Contains(err.Error(), "+ addr 198.51.100.5/24 dev lan0") {
		t.Errorf("Close = %v, want the residual address named", err)
	}
}
