package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/kbharness/kbharness/reports"
	"github.com/kbharness/kbharness/reports/htmlreport"
	"github.com/kbharness/kbharness/reports/store"
)

func init() {
	register(&command{
		Name:    "report",
		Summary: "render the results store as one self-contained HTML page",
		Run:     runReport,
	})
}

const reportUsage = `Usage: kbharness report [--store PATH] [--baseline KEY] [--flake-window N] -o FILE.html

Renders the results store (see 'kbharness results --help') as one HTML file
with everything inline (no network): each run's verdict per KB scenario,
classified against the KB catalog by the run's facts (REGRESSION: failed on a
build carrying the fix; expected: defect present; plain pass or fail off
Windows or without facts.json), its failures with the normalised route tables, diff and event timeline,
hammer counts and probe latency plots, and a crashed guest's line (CRASHED:
bugcheck, its parameters, how the crash was noticed, the dump); across runs,
scenarios by OS build with whether each build's newest run crashed,
what changed since each host's previous run (or since the baseline run),
and flakes (pass/fail flips on one build over the last N runs).`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", reportUsage, stderr)
	path := fs.String("store", store.DefaultPath(), "the results store")
	out := fs.String("o", "", "the HTML file to write")
	baseline := fs.String("baseline", "", "compare the newest runs with this run (its key, or a prefix of it) instead of each host's previous run")
	window := fs.Int("flake-window", 10, "runs per scenario and build examined for flakes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return usagef("-o FILE.html is required")
	}
	if err := checkInt("--flake-window", *window, 2, 1000); err != nil {
		return err
	}
	if _, err := os.Stat(*path); err != nil {
		return badInput(fmt.Errorf("results store %s: %w (ingest runs first: kbharness results ingest)", *path, err))
	}
	s, err := store.Open(*path)
	if err != nil {
		return err
	}
	defer s.Close()
	runs, err := s.Runs()
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := htmlreport.Render(f, runs, htmlreport.Options{Classify: classify, Baseline: *baseline, Window: *window}); err != nil {
		return badInput(err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d run(s)\n", *out, len(runs))
	return nil
}

// classify is reports.Classify (the KB catalog) as the report's classifier.
func classify(scenario string, f reports.Facts, failed bool) string {
	return string(reports.Classify(scenario, f, failed))
}
