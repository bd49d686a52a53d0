package store_test

import (
	"encoding/json"
	"fmt"
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

// crash writes storetest.CrashD1 with old replaced by new as a run
// directory's crash.json.
func crash(old, new string) func(dir string) error {
	return func(dir string) error {
		text := strings.Replace(storetest.CrashD1, old, new, 1)
		if text == storetest.CrashD1 {
			return fmt.Errorf("%q is not in storetest.CrashD1", old)
		}
		return os.WriteFile(filepath.Join(dir, "crash.json"), []byte(text), 0o644)
	}
}

// wantCrash is storetest.CrashD1 as read.
var wantCrash = &store.Crash{
	VM: "kb-2016", Label: "win2016", Detected: "heartbeat lost (NoContact) for 60 s",
	DetectedAt: "2026-11-29T23:40:12Z", RunStarted: "2026-11-29T23:31:02Z",
	Bugcheck: "0x000000D1", Params: []string{"0x0000000000000028", "0x0000000000000002", "0x0000000000000000", "0xfffff80312345678"},
	BugcheckSource: "BugCheck 1001", Dump: "MEMORY.DMP", Minidumps: []string{"Minidump/112926-10234-01.dmp"},
	SystemLog: "System.evtx", Marker: json.RawMessage("null"),
	Events: []store.CrashEvent{{Provider: "Microsoft-Windows-WER-SystemErrorReporting", ID: 1001, Time: "2026-11-29T23:44:51.1234567Z", Record: 39660}},
	Errors: []string{},
}

// A crashed run is stored with its crash.json and outcome crashed: without
// report.json (facts or not), with a partial report.json (its results kept),
// and with a report.json the crash cut short (no results, and said so). A
// BOM is tolerated. Ingesting them again changes nothing.
func TestIngestCrashed(t *testing.T) {
	s := open(t)
	dir := t.TempDir()
	only, bare, partial, cut := filepath.Join(dir, "only"), filepath.Join(dir, "bare"), filepath.Join(dir, "partial"), filepath.Join(dir, "cut")
	storetest.WriteCrashedRun(t, only, &storetest.Windows, t0, storetest.CrashD1)
	storetest.WriteCrashedRun(t, bare, nil, time.Time{}, "\ufeff"+strings.Replace(storetest.CrashD1, `"marker":  null`, `"marker":  {"scenario": "KB943650", "pid": 4242}`, 1))
	storetest.WriteRun(t, partial, &storetest.Windows, t0.Add(time.Hour),
		storetest.Spec{Scenario: "KB952876", Text: "churns", Outcome: "pass"})
	storetest.WriteCrash(t, partial, storetest.CrashD1)
	storetest.WriteRun(t, cut, &storetest.Windows, t0.Add(2*time.Hour), storetest.Spec{Scenario: "KB952876", Text: "churns", Outcome: "pass"})
	storetest.WriteCrash(t, cut, strings.Replace(storetest.CrashD1, `"0x000000D1"`, `null`, 1))
	if err := os.WriteFile(filepath.Join(cut, "report.json"), []byte(`[{"SuitePath": "/src/su`), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := s.Ingest(only, bare, partial, cut)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{
		only + ": ingested crashed run ", bare + ": ingested crashed run ", partial + ": ingested crashed run ", cut + ": ingested crashed run ",
	} {
		if !strings.HasPrefix(got[i].String(), want) {
			t.Errorf("Ingest[%d] = %s, want %s...", i, got[i], want)
		}
	}
	if !strings.Contains(got[0].String(), "(0 results; bugcheck 0x000000D1, detected: heartbeat lost (NoContact) for 60 s); no report.json: the suite binary died with the guest") ||
		!strings.Contains(got[3].String(), "no bugcheck found") {
		t.Errorf("Ingest = %v", got)
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	byDir := map[string]*store.Run{}
	for _, r := range runs {
		byDir[r.Dir] = r
		if r.Outcome != store.RunCrashed || r.Crash == nil || r.Succeeded != (r.Dir == partial) {
			t.Errorf("%s: outcome %q, crash %v, succeeded %v; want crashed (succeeded only as the partial report says)", r.Dir, r.Outcome, r.Crash, r.Succeeded)
		}
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 4", len(runs))
	}
	o := byDir[only]
	if diff := cmp.Diff(wantCrash, o.Crash); diff != "" {
		t.Errorf("crash.json read back (-want +got):\n%s", diff)
	}
	if len(o.Results) != 0 || !o.Started.Equal(t0) || o.Facts.Build != "6.1.7601" || o.ReportNote != "no report.json: the suite binary died with the guest" {
		t.Errorf("the crashed run without report.json: %+v", o)
	}
	b := byDir[bare]
	if b.Crash.MarkerScenario() != "KB943650" || !b.Started.Equal(time.Date(2026, 11, 29, 23, 31, 2, 0, time.UTC)) || b.FactsNote == "" {
		t.Errorf("the crashed run without report.json nor facts: started %v, marker %s, facts note %q", b.Started, b.Crash.Marker, b.FactsNote)
	}
	p := byDir[partial]
	if len(p.Results) != 1 || p.Results[0].Outcome != store.Pass || p.ReportNote != "" || p.Crash.Bugcheck != "0x000000D1" {
		t.Errorf("the crashed run with a partial report: %+v", p)
	}
	c := byDir[cut]
	if len(c.Results) != 0 || !strings.Contains(c.ReportNote, "report.json left unreadable by the crash") ||
		!strings.Contains(c.ReportNote, filepath.Join(cut, "report.json")+": malformed Ginkgo JSON report") || c.Crash.Bugcheck != "" {
		t.Errorf("the crashed run with a cut report: note %q, %d results, bugcheck %q", c.ReportNote, len(c.Results), c.Crash.Bugcheck)
	}

	again, err := s.Ingest(only, bare, partial, cut)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range again {
		if !a.Already || a.CrashAdded || a.Key != got[i].Key {
			t.Errorf("ingesting again: %v", a)
		}
	}
	if runs, err := s.Runs(); err != nil || len(runs) != 4 {
		t.Errorf("after ingesting again: %d runs (%v)", len(runs), err)
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
			"", "no report.json and no crash.json: not a kbharness run directory"},
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
		// crash.json is read strictly, beside a report.json or alone.
		{"unknown crash field", crash(`"dump":  "MEMORY.DMP",`, `"dump":  "MEMORY.DMP", "dumpPath": "C:\\Windows\\MEMORY.DMP",`),
			"crash.json", `unknown field "dumpPath"`},
		{"crash params not strings", crash(`"0x0000000000000028",`, `40,`), "crash.json", "Crash.params of type string"},
		{"crash not detected", crash(`"heartbeat lost (NoContact) for 60 s"`, `""`), "crash.json", `field "detected": missing or empty`},
		{"bugcheck not hex", crash(`"0x000000D1"`, `"DRIVER_IRQL_NOT_LESS_OR_EQUAL"`), "crash.json",
			`field "bugcheck": "DRIVER_IRQL_NOT_LESS_OR_EQUAL" is not a hexadecimal code`},
		{"crash time not RFC 3339", crash(`"2026-11-29T23:40:12Z"`, `"29.11.2026 23:40:12"`), "crash.json",
			`field "detectedAt": "29.11.2026 23:40:12" is not an RFC 3339 time`},
		{"dump outside the run", crash(`"MEMORY.DMP"`, `"C:\\Windows\\MEMORY.DMP"`), "crash.json",
			`field "dump": "C:\\Windows\\MEMORY.DMP" is not a path relative to the run directory`},
		{"minidump outside the run", crash(`"Minidump/112926-10234-01.dmp"`, `"../112926-10234-01.dmp"`), "crash.json",
			`field "minidumps": "../112926-10234-01.dmp" is not a path relative to the run directory`},
		{"two crash objects", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "crash.json"), []byte(storetest.CrashD1+"{}\n"), 0o644)
		}, "crash.json", "data after the object"},
		{"crash without report, malformed", func(dir string) error {
			if err := os.Remove(filepath.Join(dir, "report.json")); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "crash.json"), []byte(`{"vm": "kb-2016",`), 0o644)
		}, "crash.json", "malformed crash.json: unexpected EOF"},
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
