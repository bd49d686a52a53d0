//go:build linux

package watchdog

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
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
