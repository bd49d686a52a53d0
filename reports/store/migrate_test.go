package store

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/reports/store/storetest"
)

// A store of schema version 1 (before crash.json) is migrated on Open: its
// runs keep their keys and get outcome passed or failed; ingesting a run's
// directory again, now with crash.json, adds the crash once. A store of a
// newer version is refused.
func TestMigrateFromVersion1(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "results.db")
	green, red := filepath.Join(t.TempDir(), "green"), filepath.Join(t.TempDir(), "red")
	storetest.WriteRun(t, green, &storetest.Windows, t0, storetest.Spec{Scenario: "KB952876", Text: "churns", Outcome: "pass"})
	storetest.WriteRun(t, red, &storetest.Windows, t0.Add(time.Hour), storetest.Spec{Scenario: "KB952876", Text: "churns", Outcome: "fail"})

	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(schema + "\nPRAGMA user_version = 1;"); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{green, red} { // as version 1 inserted them
		r, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO runs VALUES (?, ?, ?, ?, ?, '', '', 0, '', '', '', NULL, 'facts unknown')`,
			r.Key, r.Dir, r.Ingested.Format(timeFormat), r.Started.Format(timeFormat), r.Succeeded); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 2 {
		t.Errorf("user_version %d (%v) after migrating, want 2", v, err)
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Outcome != RunPassed || runs[1].Outcome != RunFailed || runs[1].Crash != nil {
		t.Fatalf("migrated runs: %+v", runs)
	}
	storetest.WriteCrash(t, red, storetest.CrashD1)
	got, err := s.Ingest(green, red)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Already || got[0].CrashAdded || !got[1].CrashAdded || got[1].Key != runs[1].Key ||
		!strings.Contains(got[1].String(), "was in the store without its crash; added it (bugcheck 0x000000D1") {
		t.Errorf("ingesting the migrated runs again: %v", got)
	}
	again, err := s.Ingest(red)
	if err != nil || !again[0].Already || again[0].CrashAdded {
		t.Errorf("ingesting the crash again: %v, %v", again, err)
	}
	runs, err = s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[1].Outcome != RunCrashed || runs[1].Crash == nil || runs[1].Crash.Bugcheck != "0x000000D1" || len(runs[1].Results) != 0 {
		t.Errorf("the run with its crash added: %+v", runs[1])
	}
	if _, err := s.db.Exec("PRAGMA user_version = 9"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "schema version 9, this kbharness knows 2 at most: a newer kbharness wrote it") {
		t.Errorf("opening a newer store: %v", err)
	}
}
