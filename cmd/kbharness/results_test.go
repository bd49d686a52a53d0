package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/internal/statedir"
	"github.com/kbharness/kbharness/reports/store"
	"github.com/kbharness/kbharness/reports/store/storetest"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestResultsUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		inOutput string
	}{
		{[]string{"results"}, exitUsage, "missing results subcommand"},
		{[]string{"results", "--help"}, exitOK, "SQLite's file\nlocking is not reliable there"},
		{[]string{"results", "export"}, exitUsage, `unknown results subcommand "export"`},
		{[]string{"results", "ingest"}, exitUsage, "no run directory to ingest"},
		{[]string{"results", "ingest", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
	} {
		code, out, errs := runArgs(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.inOutput) {
			t.Errorf("kbharness %q: exit %d, output\n%s%s\nwant exit %d and output containing %q", tc.args, code, out, errs, tc.code, tc.inOutput)
		}
	}
}

// The default store is under $KBHARNESS_STATE_DIR; ingesting twice says
// the run is there already; a directory without reports exits 2 naming it
// and stores nothing.
func TestResultsIngest(t *testing.T) {
	state := t.TempDir()
	t.Setenv(statedir.Env, state)
	run := filepath.Join(t.TempDir(), "run")
	storetest.WriteRun(t, run, &storetest.Windows, t0, storetest.Spec{Scenario: "KB952876", Text: "churns", Outcome: "pass"})

	code, out, errs := runArgs(t, context.Background(), "results", "ingest", run)
	if code != exitOK || !strings.Contains(out, run+": ingested run ") {
		t.Fatalf("ingest: exit %d, %s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(state, "results.db")); err != nil {
		t.Errorf("the default store: %v", err)
	}
	code, out, _ = runArgs(t, context.Background(), "results", "ingest", run)
	if code != exitOK || !strings.Contains(out, "is already in the store; nothing changed") {
		t.Errorf("ingesting again: exit %d, %s", code, out)
	}
	empty := t.TempDir()
	code, out, errs = runArgs(t, context.Background(), "results", "ingest", "--store", filepath.Join(state, "other.db"), run, empty)
	if code != exitUsage || !strings.Contains(errs, "bad input: "+empty+": no report.json and no crash.json") || out != "" {
		t.Errorf("ingesting a directory without reports: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// A crashed run without report.json is ingested with its bugcheck; a
// crash.json with an unknown field exits 2 naming the file and the field,
// and stores nothing.
func TestResultsIngestCrashed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "results.db")
	crashed, bad := filepath.Join(t.TempDir(), "crashed"), filepath.Join(t.TempDir(), "bad")
	storetest.WriteCrashedRun(t, crashed, &storetest.Windows, t0, storetest.CrashD1)
	storetest.WriteCrashedRun(t, bad, nil, t0, strings.Replace(storetest.CrashD1, `"dump":`, `"dumpFile": "x", "dump":`, 1))

	code, out, errs := runArgs(t, context.Background(), "results", "ingest", "--store", db, bad, crashed)
	if code != exitUsage || !strings.Contains(errs, "bad input: "+filepath.Join(bad, "crash.json")+`: malformed crash.json: json: unknown field "dumpFile"`) || out != "" {
		t.Errorf("ingesting a bad crash.json: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, out, errs = runArgs(t, context.Background(), "results", "ingest", "--store", db, crashed)
	if code != exitOK || !strings.Contains(out, crashed+": ingested crashed run ") ||
		!strings.Contains(out, "bugcheck 0x000000D1, detected: heartbeat lost (NoContact) for 60 s") {
		t.Fatalf("ingesting a crashed run: exit %d, %s%s", code, out, errs)
	}
	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Outcome != store.RunCrashed || runs[0].Crash.Bugcheck != "0x000000D1" {
		t.Errorf("the store holds %+v, want the crashed run alone", runs)
	}
}
