package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

func init() {
	register(&command{
		Name:    "explore",
		Summary: "churn explorer: random address/route sequences on a multihomed lab, shrunk to a minimal repro",
		Run:     runExplore,
	})
}

const exploreUsage = `Usage: kbharness explore [--seed N] [--steps M] [flags]
       kbharness explore --replay FILE [flags]

Builds a namespace lab (default: multihomed) and runs property-based
sequences of address and route additions and removals on it (mechanism
chosen per step), checking after every step that the host's normalised
tables equal those of a fresh lab given the same final configuration, and
that the step's own routes came or went. A failure is shrunk to a minimal
sequence and printed as a replayable fixture, an ip script and a Windows
(netsh/route) script; --out also writes them as replay.yaml, repro.sh and
repro.cmd. Exit status 1 when a failure was found, 2 on bad usage or input:
a flag out of its bounds (each flag gives them), a lab or replay file that
does not load (errors name file, line and field), an unknown injector.`

// maxBackground is how many host routes Background (198.18.0.0/15) holds.
var maxBackground = 1 << (32 - explore.Background.Bits())

// replayFixed are the flags a replay takes from its file, or that do not
// apply to one.
var replayFixed = []string{"seed", "steps", "max-len", "shrink-time", "lab"}

func runExplore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explore", exploreUsage, stderr)
	seed := fs.Uint64("seed", 0, "rapid seed, any value (0: from the clock; printed)")
	steps := fs.Int("steps", 1000, fmt.Sprintf("step budget, 1 to %d (shrinking comes on top)", explore.MaxSteps))
	maxLen := fs.Int("max-len", 12, fmt.Sprintf("longest sequence, 1 to %d", explore.MaxSeqLen))
	labName := fs.String("lab", "multihomed", "lab fixture: embedded name or YAML path")
	injectors := fs.String("inject", "", "comma-separated defect injectors to start on the lab ("+strings.Join(inject.Names(), ", ")+")")
	background := fs.Int("background", 0, fmt.Sprintf("background host routes from %s to install first (benchmarking), 0 to %d", explore.Background, maxBackground))
	out := fs.String("out", "", "directory to write replay.yaml, repro.sh and repro.cmd into on failure")
	replay := fs.String("replay", "", "replay fixture to run instead of exploring (its lab and seed are the file's)")
	shrink := fs.Duration("shrink-time", 20*time.Second, "time bound on rapid's shrinking, 1s to 1h; a pass dropping steps that do not matter follows it")
	quiet := fs.Bool("quiet", false, "no progress lines")
	rescan := fs.Bool("rescan", false, "check every step against a full dump instead of the event-fed mirror (benchmark baseline)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	for _, err := range []error{
		checkInt("--steps", *steps, 1, explore.MaxSteps),
		checkInt("--max-len", *maxLen, 1, explore.MaxSeqLen),
		checkInt("--background", *background, 0, maxBackground),
		checkDuration("--shrink-time", *shrink, time.Second, time.Hour),
	} {
		if err != nil {
			return err
		}
	}
	if *replay != "" {
		var set []string
		fs.Visit(func(f *flag.Flag) {
			if slices.Contains(replayFixed, f.Name) {
				set = append(set, "--"+f.Name)
			}
		})
		verb := "does"
		if len(set) > 1 {
			verb = "do"
		}
		if len(set) > 0 {
			return usagef("%s %s not apply to --replay: the file gives the lab and the seed, and a replay runs its steps once", strings.Join(set, ", "), verb)
		}
	}
	names := splitNames(*injectors)
	if err := checkInjectors(names); err != nil {
		return usagef("--inject: %v", err)
	}
	var rf *explore.ReplayFile
	if *replay != "" {
		var err error
		if rf, err = explore.LoadReplay(*replay); err != nil {
			return badInput(err)
		}
		*labName = rf.Lab
		if *injectors == "" {
			names = rf.Injectors
			if err := checkInjectors(names); err != nil {
				return badInput(fmt.Errorf("%s: injectors: %w", *replay, err))
			}
		}
	}
	f, err := fixtures.LoadLab(*labName)
	if err != nil {
		return badInput(err)
	}
	opts := explore.Options{Lab: f, Seed: *seed, Steps: *steps, MaxLen: *maxLen, Shrink: *shrink, Rescan: *rescan}
	if rf != nil {
		opts.Seed = rf.Seed // reported as the run's seed: the one that found the sequence
	}
	if !*quiet {
		opts.Progress = stderr
	}
	if len(names) > 0 {
		opts.Inject = startInjectors(names)
	}
	if *background > 0 {
		n := *background
		opts.Prepare = func(ctx context.Context, l *lab.Lab) error { return explore.InstallBackground(ctx, l, n) }
		opts.Ignore = explore.IsBackground
	}
	var res *explore.Result
	if rf != nil {
		res, err = explore.Replay(ctx, opts, rf.Steps)
	} else {
		res, err = explore.Explore(ctx, opts)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.Summary())
	if res.Failure == nil && res.OpError == nil {
		return nil
	}
	return reportFailure(res, names, *out, stdout)
}

// checkInjectors refuses injector names inject does not know.
func checkInjectors(names []string) error {
	known := inject.Names()
	for _, n := range names {
		if !slices.Contains(known, n) {
			return fmt.Errorf("unknown injector %q (have %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// startInjectors starts the named injectors (suites/framework/inject) on a lab.
func startInjectors(names []string) func(context.Context, *lab.Lab) (func() error, error) {
	return func(ctx context.Context, l *lab.Lab) (func() error, error) {
		var stops []func() error
		stopAll := func() error {
			var errs []error
			for i := len(stops) - 1; i >= 0; i-- {
				errs = append(errs, stops[i]())
			}
			return errors.Join(errs...)
		}
		for _, n := range names {
			stop, err := inject.Start(ctx, n, l)
			if err != nil {
				return nil, errors.Join(err, stopAll())
			}
			stops = append(stops, stop)
		}
		return stopAll, nil
	}
}

// reportFailure prints (and with --out writes) the replay fixture and the
// two scripts of the minimal failing sequence.
func reportFailure(res *explore.Result, injectors []string, dir string, stdout io.Writer) error {
	if res.OpError != nil {
		fmt.Fprintf(stdout, "an operation failed: %v\n", res.OpError)
	} else {
		fmt.Fprintf(stdout, "FAILURE %s", res.Failure)
	}
	fmt.Fprintf(stdout, "minimal sequence (%d steps):\n%s", len(res.Repro.Ops), explore.FormatOps(res.Repro.Ops))
	replay, err := explore.EncodeReplay(res.Repro, injectors)
	if err != nil {
		return err
	}
	files := []struct{ name, text string }{
		{"replay.yaml", string(replay)},
		{"repro.sh", explore.IPScript(res.Repro)},
		{"repro.cmd", explore.WindowsScript(res.Repro)},
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "\n----- %s -----\n%s", f.name, strings.ReplaceAll(f.text, "\r\n", "\n"))
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("writing the repro: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), 0o644); err != nil {
			return fmt.Errorf("writing the repro: %w", err)
		}
	}
	if dir != "" {
		fmt.Fprintf(stdout, "\nwritten to %s\n", dir)
	}
	return errors.New("the explorer found a failure")
}
