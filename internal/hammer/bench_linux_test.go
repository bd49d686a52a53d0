package hammer

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	cloopOnce sync.Once
	cloopPath string
	cloopErr  error
)

// buildCloop compiles testdata/cloop.c with gcc once per test binary.
func buildCloop(tb testing.TB) string {
	tb.Helper()
	cloopOnce.Do(func() {
		gcc, err := exec.LookPath("gcc")
		if err != nil {
			cloopErr = fmt.Errorf("gcc not found (apt-get install gcc): %w", err)
			return
		}
		dir, err := exec.Command("mktemp", "-d").Output()
		if err != nil {
			cloopErr = err
			return
		}
		cloopPath = filepath.Join(strings.TrimSpace(string(dir)), "cloop")
		if out, err := exec.Command(gcc, "-O2", "-pthread", "-o", cloopPath, "testdata/cloop.c").CombinedOutput(); err != nil {
			cloopErr = fmt.Errorf("compiling cloop.c: %w: %s", err, out)
		}
	})
	if cloopErr != nil {
		tb.Skip(cloopErr)
	}
	return cloopPath
}

// cloopResult is the line cloop prints.
type cloopResult struct {
	rate, firstInUseMs float64
	ok, inUse          int
}

func runCloop(tb testing.TB, ns string, mode Mode, close Close, count int) cloopResult {
	tb.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, buildCloop(tb), labAddr.String(), string(mode), string(close), strconv.Itoa(count)).CombinedOutput()
	if err != nil {
		tb.Fatalf("cloop: %v: %s", err, out)
	}
	kv := map[string]float64{}
	for _, f := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(f, "=")
		kv[k], _ = strconv.ParseFloat(v, 64)
	}
	return cloopResult{rate: kv["attempts"] / kv["secs"], firstInUseMs: kv["first_addrinuse_ms"], ok: int(kv["ok"]), inUse: int(kv["addrinuse"])}
}

var wideRange = PortRange{Lo: 1024, Hi: 65535}

func benchConfig(ns string, mode Mode, close Close, count int) Config {
	return Config{
		Target: netip.AddrPortFrom(labAddr, 0), Allowed: labPrefixes, Netns: ns,
		Workers: 1, Count: count, Duration: time.Minute, Mode: mode, Close: close, CensusEvery: -1,
	}
}

// BenchmarkModes measures connections per second per mode, one worker,
// against cloop (the C mark) doing the same mode in a fresh namespace of
// its own. Metrics: conns/s (ours), c-conns/s, ratio (ours/C). Run with
// -benchtime=Nx: each iteration is a 5000-connection run.
func BenchmarkModes(b *testing.B) {
	skipUnlessRoot(b)
	buildCloop(b)
	// 5000 connections in a 64512-port range: TIME_WAIT stays under 8% of
	// the range, where the kernel's port search (the same for both) is not
	// yet the cost being measured.
	const count = 5000
	for _, tc := range []struct {
		mode  Mode
		close Close
	}{
		{ModeConnect, CloseClientFirst},
		{ModeBindConnect, CloseClientFirst},
		{ModeBindReuseAddr, CloseClientFirst},
		{ModeBindNoPort, CloseClientFirst},
		{ModeConnect, CloseServerFirst},
		{ModeConnect, CloseAbortive},
		{ModeBindConnect, CloseAbortive},
	} {
		b.Run(string(tc.mode)+"/"+string(tc.close), func(b *testing.B) {
			var ours, theirs float64
			for range b.N {
				b.StopTimer()
				nsC, nsGo := newNetns(b), newNetns(b)
				restore, err := setPortRange(nsC, wideRange)
				if err != nil {
					b.Fatal(err)
				}
				c := runCloop(b, nsC, tc.mode, tc.close, count)
				restore()
				cfg := benchConfig(nsGo, tc.mode, tc.close, count)
				cfg.PortRange = wideRange
				b.StartTimer()
				res, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				if res.Count(ClassSuccess) != count || c.ok != count {
					b.Fatalf("not all connections succeeded: ours %d, C %d\n%s", res.Count(ClassSuccess), c.ok, res.Summary())
				}
				ours += res.Rate()
				theirs += c.rate
			}
			b.ReportMetric(ours/float64(b.N), "conns/s")
			b.ReportMetric(theirs/float64(b.N), "c-conns/s")
			b.ReportMetric(ours/theirs, "ratio")
		})
	}
}

// BenchmarkFirstAddrInUse256 measures the time from the start of a
// bind-connect run in a 256-port range to its first EADDRINUSE, ours and C.
func BenchmarkFirstAddrInUse256(b *testing.B) {
	skipUnlessRoot(b)
	buildCloop(b)
	r := PortRange{Lo: 40000, Hi: 40255}
	var ours, theirs time.Duration
	for range b.N {
		nsC, nsGo := newNetns(b), newNetns(b)
		restore, err := setPortRange(nsC, r)
		if err != nil {
			b.Fatal(err)
		}
		c := runCloop(b, nsC, ModeBindConnect, CloseClientFirst, 1000)
		restore()
		cfg := benchConfig(nsGo, ModeBindConnect, CloseClientFirst, 1000)
		cfg.PortRange = r
		res, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Signature() || c.inUse == 0 {
			b.Fatalf("no EADDRINUSE: ours %d, C %d", res.Count(ClassAddrInUse), c.inUse)
		}
		ours += res.First[ClassAddrInUse].At
		theirs += time.Duration(c.firstInUseMs * float64(time.Millisecond))
	}
	b.ReportMetric(float64(ours.Microseconds())/float64(b.N)/1e3, "ms-to-first")
	b.ReportMetric(float64(theirs.Microseconds())/float64(b.N)/1e3, "c-ms-to-first")
}
