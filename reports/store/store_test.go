package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/reports/store"
	"github.com/kbharness/kbharness/reports/store/storetest"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "state", "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Runs with Windows facts, Linux facts and none come back as ingested:
// facts, results with their outcomes and report entries, oldest first.
func TestIngestAndRead(t *testing.T) {
	s := open(t)
	dir := t.TempDir()
	win, lin, old := filepath.Join(dir, "win"), filepath.Join(dir, "linux"), filepath.Join(dir, "old")
	storetest.WriteRun(t, win, &storetest.Windows, t0.Add(2*time.Hour),
		storetest.Spec{Scenario: "KB2901197", Text: "hammers", Outcome: "fail", Message: "EADDRINUSE\nmore",
			Entries: map[string]any{"hammer connect/client-first counts": map[string]int64{"addrinuse": 7}}},
		storetest.Spec{Scenario: "KB952876", Text: "churns", Outcome: "skip", Message: "needs Windows"})
	storetest.WriteRun(t, lin, &storetest.Linux, t0.Add(time.Hour),
		storetest.Spec{Scenario: "secondary-ip-route-loss", Text: "keeps the route", Outcome: "pass"})
	storetest.WriteRun(t, old, nil, t0, storetest.Spec{Scenario: "KB287032", Text: "explores", Outcome: "pass"})

	got, err := s.Ingest(win, lin, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Already || got[0].Specs != 2 || !strings.Contains(got[2].String(), "facts unknown: no facts.json") {
		t.Errorf("Ingest = %v", got)
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	if runs[0].FactsNote == "" || runs[0].Facts.OS != "" || !runs[0].Started.Equal(t0) {
		t.Errorf("the run without facts.json: %+v", runs[0])
	}
	w := runs[2]
	wantFacts := storetest.Windows
	wantFacts.Started = t0.Add(2 * time.Hour)
	if diff := cmp.Diff(wantFacts, w.Facts); diff != "" || w.FactsNote != "" || w.Succeeded {
		t.Errorf("Windows run facts (-want +got):\n%s note %q succeeded %v", diff, w.FactsNote, w.Succeeded)
	}
	want := []store.Result{
		{Scenario: "KB2901197", Spec: "KB2901197: a scenario hammers", Outcome: store.Fail, Message: "EADDRINUSE\nmore",
			Location: "/src/suites/x.go:62", Duration: time.Second,
			Entries: []store.Entry{{Name: "hammer connect/client-first counts", Text: "map[addrinuse:7]", JSON: `{"addrinuse":7}`}}},
		{Scenario: "KB952876", Spec: "KB952876: a scenario churns", Outcome: store.Skip, Message: "needs Windows",
			Location: "/src/suites/x.go:11", Duration: time.Second},
	}
	if diff := cmp.Diff(want, w.Results); diff != "" {
		t.Errorf("Windows run results (-want +got):\n%s", diff)
	}
}

// Ingesting a run again changes nothing and says so.
func TestIngestIdempotent(t *testing.T) {
	s := open(t)
	dir := t.TempDir()
	storetest.WriteRun(t, dir, &storetest.Linux, t0, storetest.Spec{Scenario: "KB287032", Text: "explores", Outcome: "pass"})
	first, err := s.Ingest(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Ingest(dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		if !a.Already || a.Key != first[0].Key || !strings.Contains(a.String(), "already in the store; nothing changed") {
			t.Errorf("ingesting again: %v", a)
		}
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || len(runs[0].Results) != 1 {
		t.Errorf("after ingesting again: %d runs", len(runs))
	}
}

// Bad input fails the whole call with an error naming the file and what is
// wrong, and stores nothing, not even the good directory beside it.
func TestIngestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(dir string) error // applied to a good run directory
		file  string                 // the file the error names
		want  string
	}{
		{"no report", func(dir string) error { return os.Remove(filepath.Join(dir, "report.json")) },
			"", "no report.json: not a kbharness report directory"},
		{"malformed report", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "report.json"), []byte(`[{"StartTime": `), 0o644)
		},
			"report.json", "malformed Ginkgo JSON report"},
		{"two suites", func(dir string) error {
			b, err := os.ReadFile(filepath.Join(dir, "report.json"))
			if err != nil {
				return err
			}
			b = []byte("[" + string(b[1:len(b)-2]) + "," + string(b[1:]))
			return os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644)
		}, "report.json", "2 suite reports, want 1"},
		{"unknown facts field", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "facts.json"), []byte(`{"os": "windows", "servicePack": 1}`), 0o644)
		}, "facts.json", `unknown field "servicePack"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			good, bad := filepath.Join(t.TempDir(), "good"), filepath.Join(t.TempDir(), "bad")
			storetest.WriteRun(t, good, &storetest.Linux, t0, storetest.Spec{Scenario: "KB287032", Text: "explores", Outcome: "pass"})
			storetest.WriteRun(t, bad, &storetest.Windows, t0.Add(time.Hour), storetest.Spec{Scenario: "KB287032", Text: "explores", Outcome: "pass"})
			if err := tc.spoil(bad); err != nil {
				t.Fatal(err)
			}
			_, err := s.Ingest(good, bad)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(bad, tc.file)) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Ingest = %v, want an error naming %s with %q", err, filepath.Join(bad, tc.file), tc.want)
			}
			if runs, err := s.Runs(); err != nil || len(runs) != 0 {
				t.Errorf("after a failed ingest: %d runs stored (%v), want none", len(runs), err)
			}
		})
	}
}
