package hammer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var nsSeq atomic.Int32

func skipUnlessRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("requires root: creates network namespaces")
	}
}

func ip(tb testing.TB, args ...string) {
	tb.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		tb.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// labAddr is the lab address the test namespaces put on lo.
var labAddr = netip.MustParseAddr("192.0.2.20")

var labPrefixes = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}

// newNetns makes kbh-<pid>-hammerN with lo up and 192.0.2.20/32 on it, and
// deletes it when the test ends.
func newNetns(tb testing.TB) string {
	tb.Helper()
	skipUnlessRoot(tb)
	name := fmt.Sprintf("kbh-%d-hammer%d", os.Getpid(), nsSeq.Add(1))
	ip(tb, "netns", "add", name)
	tb.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ip(tb, "-n", name, "link", "set", "lo", "up")
	ip(tb, "-n", name, "address", "add", labAddr.String()+"/32", "dev", "lo")
	return name
}

func labConfig(ns string, mode Mode, close Close, count int) Config {
	return Config{
		Target:      netip.AddrPortFrom(labAddr, 0),
		Allowed:     labPrefixes,
		Netns:       ns,
		Workers:     2,
		Count:       count,
		Duration:    20 * time.Second,
		Mode:        mode,
		Close:       close,
		PortRange:   PortRange{Lo: 40000, Hi: 40255},
		CensusEvery: 100 * time.Millisecond,
	}
}

func TestRunModes(t *testing.T) {
	skipUnlessRoot(t)
	for _, tc := range []struct {
		mode      Mode
		close     Close
		signature bool
	}{
		{ModeBindConnect, CloseClientFirst, true},
		{ModeConnect, CloseClientFirst, false},
		{ModeBindNoPort, CloseClientFirst, false},
		{ModeBindReuseAddr, CloseClientFirst, true}, // bind(0) ignores SO_REUSEADDR against TIME_WAIT owners
		{ModeBindConnect, CloseAbortive, false},
		{ModeBindConnect, CloseServerFirst, false},
	} {
		t.Run(string(tc.mode)+"/"+string(tc.close), func(t *testing.T) {
			res, err := Run(context.Background(), labConfig(newNetns(t), tc.mode, tc.close, 1500))
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res.Summary())
			if res.Signature() != tc.signature {
				t.Errorf("signature = %v, want %v", res.Signature(), tc.signature)
			}
		})
	}
}

func TestPortRangeRestored(t *testing.T) {
	ns := newNetns(t)
	before, err := getPortRange(ns)
	if err != nil {
		t.Fatal(err)
	}
	own, err := getPortRange("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := labConfig(ns, ModeConnect, CloseClientFirst, 0)
	cfg.Duration = MaxDuration
	cfg.Progress = func(Progress) {}
	var during PortRange
	cfg.Progress = func(Progress) {
		during, _ = getPortRange(ns)
		cancel() // as a signal handler would
	}
	res, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) || res == nil {
		t.Fatalf("Run after cancel = %v, %v; want the counts so far and context.Canceled", res, err)
	}
	if during != cfg.PortRange || res.PortRange != cfg.PortRange {
		t.Errorf("range during run = %s, result says %s, want %s", during, res.PortRange, cfg.PortRange)
	}
	if after, _ := getPortRange(ns); after != before {
		t.Errorf("range after run = %s, want %s restored", after, before)
	}
	if now, _ := getPortRange(""); now != own {
		t.Errorf("own namespace range changed: %s, was %s", now, own)
	}
}

// stopBound is how long Run may take to return after its ctx is
// cancelled, port range restore included: a correctness bound (Ctrl-C
// stops every stress within a second), not a performance target.
const stopBound = time.Second

// Ctrl-C mid-run: the workers stop, the range is restored and Run returns
// ctx's error within stopBound, whatever the mode; bind-connect runs with
// the range full of TIME_WAIT (every attempt EADDRINUSE), server-first
// with a payload and reads on both sides.
func TestRunStopsOnCancel(t *testing.T) {
	skipUnlessRoot(t)
	for _, tc := range []struct {
		mode    Mode
		close   Close
		payload int
	}{
		{ModeConnect, CloseClientFirst, 0},
		{ModeBindConnect, CloseClientFirst, 0},
		{ModeConnect, CloseServerFirst, 3000},
		{ModeBindNoPort, CloseAbortive, 0},
	} {
		t.Run(string(tc.mode)+"/"+string(tc.close), func(t *testing.T) {
			ns := newNetns(t)
			before, err := getPortRange(ns)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := labConfig(ns, tc.mode, tc.close, 0)
			cfg.Duration, cfg.Payload = MaxDuration, tc.payload
			var cancelledAt atomic.Int64
			cfg.Progress = func(Progress) { // about a second into the run
				if cancelledAt.Load() == 0 {
					cancelledAt.Store(time.Now().UnixNano())
					cancel() // as the signal handler does
				}
			}
			res, err := Run(ctx, cfg)
			took := time.Since(time.Unix(0, cancelledAt.Load()))
			if !errors.Is(err, context.Canceled) || res == nil {
				t.Fatalf("Run after cancel = %v, %v; want the counts so far and context.Canceled", res, err)
			}
			if took > stopBound {
				t.Errorf("Run returned %s after the cancel, want < %s", took, stopBound)
			}
			t.Logf("returned %s after the cancel, %d attempts: %v", took, res.Attempts, err)
			if res.Attempts == 0 {
				t.Errorf("no attempt before the cancel:\n%s", res.Summary())
			}
			if after, err := getPortRange(ns); err != nil || after != before {
				t.Errorf("range after the cancel = %s (%v), want %s restored", after, err, before)
			}
		})
	}
}

func TestSetPortRangeRefusesOwnNamespace(t *testing.T) {
	skipUnlessRoot(t)
	for _, name := range []string{"", "/proc/self/ns/net"} {
		if restore, err := setPortRange(name, PortRange{40000, 40255}); err == nil {
			restore()
			t.Errorf("setPortRange(%q) succeeded, want refusal", name)
		}
	}
}

func TestRunStopsByDuration(t *testing.T) {
	ns := newNetns(t)
	cfg := labConfig(ns, ModeConnect, CloseAbortive, 0)
	cfg.Duration = 300 * time.Millisecond
	start := time.Now()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("run took %s, want about 300ms", el)
	}
	if res.Attempts == 0 || res.Count(ClassSuccess) != res.Attempts {
		t.Errorf("attempts %d, successes %d: want all successes (abortive close leaves no TIME_WAIT)", res.Attempts, res.Count(ClassSuccess))
	}
}

func TestRunPayload(t *testing.T) {
	ns := newNetns(t)
	for _, c := range Closes {
		cfg := labConfig(ns, ModeConnect, c, 100)
		cfg.Payload = 3000
		cfg.PortRange = PortRange{}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Count(ClassSuccess) != 100 || res.ServerErrs != 0 {
			t.Errorf("%s: %s", c, res.Summary())
		}
	}
}

func TestClassifyLinux(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Class
	}{
		{unix.EADDRINUSE, ClassAddrInUse},
		{fmt.Errorf("connect: %w", unix.EADDRNOTAVAIL), ClassExhausted},
		{unix.ENOBUFS, ClassExhausted},
		{unix.ECONNREFUSED, ClassRefused},
		{unix.EINPROGRESS, ClassTimeout},
		{unix.EAGAIN, ClassTimeout},
		{unix.ETIMEDOUT, ClassTimeout},
		{unix.EPERM, ClassOther},
		{errors.New("odd"), ClassOther},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// TestRunWaitsForAQuietRange: a socket holding a port of the range (as
// TIME_WAIT of an earlier run would) makes Run wait for QuietWait, then
// refuse; once the port is free, Run goes ahead at once.
func TestRunWaitsForAQuietRange(t *testing.T) {
	ns := newNetns(t)
	cfg := labConfig(ns, ModeConnect, CloseClientFirst, 100)
	cfg.QuietWait = 300 * time.Millisecond
	var l net.Listener
	err := inNetns(ns, func() (err error) {
		l, err = net.Listen("tcp", netip.AddrPortFrom(labAddr, cfg.PortRange.Lo+1).String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "ports 40000-40255 still hold 1 TCP sockets after 300ms") {
		t.Fatalf("Run with a busy range: %v", err)
	}
	if waited := time.Since(start); waited < cfg.QuietWait {
		t.Errorf("gave up after %v, before the %v window", waited, cfg.QuietWait)
	}
	l.Close()
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run with a quiet range: %v", err)
	}
}

// TestQuietWaitIgnoresItsOwnListener: the run's listener, bound before the
// range narrows, may sit inside the range; it is not an earlier run's
// leftover and must not make Run wait.
func TestQuietWaitIgnoresItsOwnListener(t *testing.T) {
	ns := newNetns(t)
	cfg := labConfig(ns, ModeConnect, CloseClientFirst, 100)
	cfg.Target = netip.AddrPortFrom(labAddr, cfg.PortRange.Lo+7)
	cfg.QuietWait = 300 * time.Millisecond
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run with its listener inside the range: %v", err)
	}
}
