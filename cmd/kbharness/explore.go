package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
repro.cmd. Exit status 1 when a failure was found.`

func runExplore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explore", exploreUsage, stderr)
	seed := fs.Uint64("seed", 0, "rapid seed (0: from the clock; printed)")
	steps := fs.Int("steps", 1000, "step budget (shrinking comes on top)")
	maxLen := fs.Int("max-len", 12, "longest sequence")
	labName := fs.String("lab", "multihomed", "lab fixture: embedded name or YAML path")
	injectors := fs.String("inject", "", "comma-separated defect injectors to start on the lab ("+strings.Join(inject.Names(), ", ")+")")
	background := fs.Int("background", 0, "background host routes from 198.18.0.0/15 to install first (benchmarking)")
	out := fs.String("out", "", "directory to write replay.yaml, repro.sh and repro.cmd into on failure")
	replay := fs.String("replay", "", "replay fixture to run instead of exploring")
	shrink := fs.Duration("shrink-time", 20*time.Second, "time bound on rapid's shrinking; a pass dropping steps that do not matter follows it")
	quiet := fs.Bool("quiet", false, "no progress lines")
	rescan := fs.Bool("rescan", false, "check every step against a full dump instead of the event-fed mirror (benchmark baseline)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *steps < 1 || *maxLen < 1 {
		return usagef("--steps and --max-len must be positive")
	}
	var rf *explore.ReplayFile
	if *replay != "" {
		var err error
		if rf, err = explore.LoadReplay(*replay); err != nil {
			return err
		}
		*labName = rf.Lab
		if *injectors == "" {
			*injectors = strings.Join(rf.Injectors, ",")
		}
	}
	f, err := fixtures.LoadLab(*labName)
	if err != nil {
		return err
	}
	opts := explore.Options{Lab: f, Seed: *seed, Steps: *steps, MaxLen: *maxLen, Shrink: *shrink, Rescan: *rescan}
	if !*quiet {
		opts.Progress = stderr
	}
	names := splitNames(*injectors)
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
