//go:build linux

package explore_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

func skipUnlessRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
}

func options(t testing.TB, steps int) explore.Options {
	f, err := fixtures.LoadLab("multihomed")
	if err != nil {
		t.Fatal(err)
	}
	return explore.Options{Lab: f, Seed: 1, Steps: steps, Progress: testWriter{t}}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func injectKB287032(ctx context.Context, l *lab.Lab) (func() error, error) {
	return inject.Start(ctx, inject.KB287032, l)
}

// envInt reads a budget override (KBHARNESS_EXPLORE_STEPS=1000 for the
// long run).
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// Without a defect, the kernel's tables never depend on history.
func TestExploreClean(t *testing.T) {
	skipUnlessRoot(t)
	opts := options(t, envInt("KBHARNESS_EXPLORE_STEPS", 150))
	res, err := explore.Explore(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	if res.Failure != nil || res.OpError != nil {
		t.Fatalf("unexpected failure: %v %v\n%s", res.Failure, res.OpError, explore.FormatOps(res.Repro.Ops))
	}
	if res.Steps < opts.Steps {
		t.Errorf("ran %d steps, budget %d", res.Steps, opts.Steps)
	}
}

// With the KB287032 injector the explorer finds the defect, shrinks it to
// at most 4 steps, and the emitted ip script reproduces it by hand in a
// fresh lab with the defect (and not in one without).
func TestExploreFindsKB287032(t *testing.T) {
	skipUnlessRoot(t)
	ctx := context.Background()
	opts := options(t, 300)
	opts.Inject = injectKB287032
	opts.MaxLen = 8
	opts.Shrink = 20 * time.Second
	res, err := explore.Explore(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	if res.Failure == nil {
		t.Fatalf("no failure found with the injector (op error: %v)", res.OpError)
	}
	t.Logf("minimal sequence:\n%s%s", explore.FormatOps(res.Repro.Ops), res.Failure)
	if n := len(res.Repro.Ops); n > 4 {
		t.Errorf("shrunk to %d steps, want at most 4", n)
	}
	script := explore.IPScript(res.Repro)
	t.Logf("script:\n%s", script)

	for _, tc := range []struct {
		name     string
		inject   bool
		wantExit int
	}{{"with the defect", true, 1}, {"without the defect", false, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			// The injector reacts to events just after the step that
			// triggers it; a script that checks before it has acted gets
			// another fresh lab, at most three in all.
			var (
				out  string
				code int
			)
			for attempt := 0; attempt < 3; attempt++ {
				out, code = runScript(t, opts.Lab, tc.inject, script)
				if code == tc.wantExit {
					break
				}
			}
			if code != tc.wantExit {
				t.Fatalf("script exit %d, want %d:\n%s", code, tc.wantExit, out)
			}
			if tc.inject && !strings.Contains(out, "FAIL: ") {
				t.Errorf("no FAIL line:\n%s", out)
			}
			t.Logf("script output:\n%s", out)
		})
	}

	// The replay fixture round-trips and replays to the same failure.
	data, err := explore.EncodeReplay(res.Repro, []string{inject.KB287032})
	if err != nil {
		t.Fatal(err)
	}
	rf, err := explore.DecodeReplay("replay.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	rres, err := explore.Replay(ctx, opts, rf.Steps)
	if err != nil {
		t.Fatal(err)
	}
	if rres.Failure == nil {
		t.Errorf("replay of\n%s did not fail", data)
	}
}

// runScript runs the script in a fresh lab, with the injector if asked.
func runScript(t *testing.T, f *fixtures.Lab, withInjector bool, script string) (string, int) {
	ctx := context.Background()
	l, err := lab.New(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if withInjector {
		stop, err := injectKB287032(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
	}
	out, code, err := explore.RunIPScript(ctx, l, script)
	if err != nil {
		t.Fatal(err)
	}
	return out, code
}

// BenchmarkExplore measures explorer steps per second on the multihomed lab
// with an empty table and with 100,000 background routes (198.18.0.0/15),
// checking through the mirror and, as the baseline, through a full dump
// per step. Run with -benchtime=1x; the metric is steps/s.
func BenchmarkExplore(b *testing.B) {
	skipUnlessRoot(b)
	for _, bc := range []struct {
		name       string
		background int
		rescan     bool
	}{{"empty", 0, false}, {"100k", 100000, false}, {"empty-rescan", 0, true}, {"100k-rescan", 100000, true}} {
		b.Run(bc.name, func(b *testing.B) {
			steps := envInt("KBHARNESS_BENCH_STEPS", 1000)
			if bc.rescan && bc.background > 0 {
				steps = min(steps, 100)
			}
			var rate float64
			for range b.N {
				opts := options(b, steps)
				opts.Progress = nil
				opts.Seed = 7
				opts.Rescan = bc.rescan
				if n := bc.background; n > 0 {
					opts.Prepare = func(ctx context.Context, l *lab.Lab) error { return explore.InstallBackground(ctx, l, n) }
					opts.Ignore = explore.IsBackground
				}
				res, err := explore.Explore(context.Background(), opts)
				if err != nil {
					b.Fatal(err)
				}
				if res.Failure != nil {
					b.Fatalf("failure: %s", res.Failure)
				}
				rate += res.StepsPerSecond()
			}
			b.ReportMetric(rate/float64(b.N), "steps/s")
		})
	}
}
