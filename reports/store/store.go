// Package store keeps the results of suite runs in one SQLite database
// (through modernc.org/sqlite, pure Go: no cgo, so the Windows binary
// carries it), so that reports can compare runs across builds and time.
//
// A run is ingested from its report directory (report.json, facts.json) in
// one transaction, keyed by the hash of its report.json: ingesting it again
// changes nothing.
package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/kbharness/kbharness/reports"
)

// StateDirEnv overrides the state directory, as for the undo journals.
const StateDirEnv = "KBHARNESS_STATE_DIR"

// DefaultPath is the store's default file: $KBHARNESS_STATE_DIR/results.db
// if set, else %ProgramData%\kbharness\results.db on Windows and
// /var/lib/kbharness/results.db elsewhere (beside the journals).
func DefaultPath() string {
	if d := os.Getenv(StateDirEnv); d != "" {
		return filepath.Join(d, "results.db")
	}
	if runtime.GOOS == "windows" {
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "kbharness", "results.db")
	}
	return "/var/lib/kbharness/results.db"
}

// timeFormat is RFC 3339 in UTC with fixed nanoseconds, so that times sort
// as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// schemaVersion is PRAGMA user_version of a store this code writes.
const schemaVersion = 1

// schema: one row per run, one per spec (or failed suite node) of a run,
// one per report entry of a spec.
const schema = `
CREATE TABLE runs (
	key        TEXT PRIMARY KEY, -- sha256 of report.json (its first 16 bytes, hex)
	dir        TEXT NOT NULL,    -- the report directory it was ingested from
	ingested   TEXT NOT NULL,    -- timeFormat, UTC
	started    TEXT NOT NULL,    -- facts' start time, else the report's (timeFormat, UTC)
	succeeded  INTEGER NOT NULL, -- the suite's own verdict
	os         TEXT NOT NULL,    -- the facts (empty when unknown) ...
	build      TEXT NOT NULL,
	ubr        INTEGER NOT NULL,
	host       TEXT NOT NULL,
	target     TEXT NOT NULL,
	kbharness  TEXT NOT NULL,
	facts      TEXT,             -- ... and all of facts.json; NULL when the run has none
	facts_note TEXT NOT NULL     -- why the facts are unknown
);
CREATE INDEX runs_build ON runs (os, build, ubr, started);
CREATE TABLE results (
	run         TEXT NOT NULL REFERENCES runs (key),
	seq         INTEGER NOT NULL, -- the spec's position in report.json
	scenario    TEXT NOT NULL,    -- the spec's scenario label ("" for none)
	spec        TEXT NOT NULL,    -- full spec text
	outcome     TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'skip')),
	message     TEXT NOT NULL,    -- failure or skip message
	location    TEXT NOT NULL,    -- file:line of the failure, else of the spec
	duration_ns INTEGER NOT NULL,
	PRIMARY KEY (run, seq)
);
CREATE INDEX results_scenario ON results (scenario, run);
CREATE TABLE entries (
	run  TEXT NOT NULL,
	seq  INTEGER NOT NULL,
	n    INTEGER NOT NULL, -- the entry's position in the spec
	name TEXT NOT NULL,    -- e.g. "network state at failure", "hammer connect/client-first counts"
	text TEXT NOT NULL,    -- its string representation
	json TEXT NOT NULL,    -- its value as JSON
	PRIMARY KEY (run, seq, n),
	FOREIGN KEY (run, seq) REFERENCES results (run, seq)
);`

// Outcomes of a Result.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Run is one ingested suite run.
type Run struct {
	Key       string
	Dir       string
	Ingested  time.Time
	Started   time.Time
	Succeeded bool
	Facts     reports.Facts // zero when unknown
	FactsNote string        // non-empty when the facts are unknown: why
	Results   []Result
}

// Result is one spec of a run, or a failed suite-level node.
type Result struct {
	Scenario string // the scenario label (reports.Scenarios), "" for none
	Spec     string
	Outcome  string // Pass, Fail or Skip
	Message  string
	Location string
	Duration time.Duration
	Entries  []Entry
}

// Entry is a report entry (AddReportEntry) of a spec.
type Entry struct {
	Name, Text, JSON string
}

// Store is an open results database.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens the store at path, creating it (and its directory) if need be.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("opening results store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("opening results store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening results store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// migrate creates the schema in a new store and refuses one of another version.
func (s *Store) migrate() error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	switch v {
	case schemaVersion:
		return nil
	case 0:
		if _, err := tx.Exec(schema); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return err
		}
		return tx.Commit()
	default:
		return fmt.Errorf("schema version %d, this kbharness knows %d", v, schemaVersion)
	}
}

// Ingested says what Ingest did with one directory.
type Ingested struct {
	Dir, Key string
	Specs    int
	Already  bool   // the run was in the store already: nothing changed
	Note     string // e.g. facts unknown
}

func (i Ingested) String() string {
	if i.Already {
		return fmt.Sprintf("%s: run %s is already in the store; nothing changed", i.Dir, i.Key)
	}
	s := fmt.Sprintf("%s: ingested run %s (%d results)", i.Dir, i.Key, i.Specs)
	if i.Note != "" {
		s += "; " + i.Note
	}
	return s
}

// Ingest reads each run directory and stores its run, all in one
// transaction: a directory that cannot be read (no report.json, malformed
// JSON, unknown facts fields) fails the whole call with an error naming
// the file, and nothing is stored. Runs already in the store are left as
// they are.
func (s *Store) Ingest(dirs ...string) ([]Ingested, error) {
	runs := make([]*Run, len(dirs))
	var errs []error
	for i, d := range dirs {
		r, err := Load(d)
		runs[i] = r
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	tx, err := s.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("ingesting into %s: %w", s.path, err)
	}
	defer tx.Rollback()
	out := make([]Ingested, len(runs))
	for i, r := range runs {
		out[i] = Ingested{Dir: r.Dir, Key: r.Key, Specs: len(r.Results), Note: r.FactsNote}
		var n int
		if err := tx.QueryRow("SELECT count(*) FROM runs WHERE key = ?", r.Key).Scan(&n); err != nil {
			return nil, fmt.Errorf("ingesting %s: %w", r.Dir, err)
		}
		if n > 0 {
			out[i].Already = true
			continue
		}
		if err := insert(tx, r); err != nil {
			return nil, fmt.Errorf("ingesting %s: %w", r.Dir, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ingesting into %s: %w", s.path, err)
	}
	return out, nil
}

func insert(tx *sql.Tx, r *Run) error {
	var facts any // NULL when unknown
	if r.FactsNote == "" {
		b, err := json.Marshal(r.Facts)
		if err != nil {
			return err
		}
		facts = string(b)
	}
	f := r.Facts
	if _, err := tx.Exec(`INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Key, r.Dir, r.Ingested.UTC().Format(timeFormat), r.Started.UTC().Format(timeFormat), r.Succeeded,
		f.OS, f.Build, f.UBR, f.Host, f.Target, f.Kbharness, facts, r.FactsNote); err != nil {
		return err
	}
	for seq, res := range r.Results {
		if _, err := tx.Exec(`INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Key, seq, res.Scenario, res.Spec, res.Outcome, res.Message, res.Location, int64(res.Duration)); err != nil {
			return err
		}
		for n, e := range res.Entries {
			if _, err := tx.Exec(`INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)`, r.Key, seq, n, e.Name, e.Text, e.JSON); err != nil {
				return err
			}
		}
	}
	return nil
}

// Load reads a run directory: report.json (required: Ginkgo's JSON report,
// an array of one Report) and facts.json (optional: without it the facts
// are unknown and FactsNote says so).
func Load(dir string) (*Run, error) {
	path := filepath.Join(dir, "report.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no report.json: not a kbharness report directory", dir)
	}
	if err != nil {
		return nil, err
	}
	var rs []types.Report
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: malformed Ginkgo JSON report: %w", path, err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("%s: %d suite reports, want 1", path, len(rs))
	}
	rep := rs[0]
	if rep.StartTime.IsZero() {
		return nil, fmt.Errorf("%s: no StartTime: not a Ginkgo JSON report", path)
	}
	sum := sha256.Sum256(b)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r := &Run{Key: hex.EncodeToString(sum[:16]), Dir: abs, Ingested: time.Now().UTC(), Started: rep.StartTime.UTC(), Succeeded: rep.SuiteSucceeded}
	r.Facts, err = reports.ReadFacts(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Facts = reports.Facts{}
		r.FactsNote = "facts unknown: no " + reports.FactsFile + " in the run directory (a run from before facts were recorded)"
	case err != nil:
		return nil, err // names the file
	case !r.Facts.Started.IsZero():
		r.Started = r.Facts.Started.UTC()
	}
	for _, s := range rep.SpecReports {
		if res, ok := result(s); ok {
			r.Results = append(r.Results, res)
		}
	}
	return r, nil
}

// result maps a spec report to a Result: every It, and suite-level nodes
// (BeforeSuite, ...) only when they failed.
func result(s types.SpecReport) (Result, bool) {
	suiteNode := s.LeafNodeType.Is(types.NodeTypesForSuiteLevelNodes)
	if s.LeafNodeType != types.NodeTypeIt && !(suiteNode && s.State.Is(types.SpecStateFailureStates)) {
		return Result{}, false
	}
	res := Result{
		Spec:     s.FullText(),
		Message:  strings.TrimSpace(s.Failure.Message),
		Location: s.LeafNodeLocation.String(),
		Duration: s.RunTime,
	}
	if suiteNode {
		res.Spec = "[" + s.LeafNodeType.String() + "]"
	}
	for _, l := range s.Labels() {
		if res.Scenario == "" && isScenario(l) {
			res.Scenario = l
		}
	}
	switch {
	case s.State.Is(types.SpecStatePassed):
		res.Outcome = Pass
	case s.State.Is(types.SpecStateFailureStates):
		res.Outcome = Fail
		res.Location = s.Failure.Location.String()
	default:
		res.Outcome = Skip
	}
	for _, e := range s.ReportEntries {
		res.Entries = append(res.Entries, Entry{Name: e.Name, Text: e.StringRepresentation(), JSON: e.Value.AsJSON})
	}
	return res, true
}

func isScenario(label string) bool {
	for _, s := range reports.Scenarios {
		if s == label {
			return true
		}
	}
	return false
}

// Runs returns every run with its results, oldest first.
func (s *Store) Runs() ([]*Run, error) {
	rows, err := s.db.Query(`SELECT key, dir, ingested, started, succeeded, facts, facts_note FROM runs ORDER BY started, key`)
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	defer rows.Close()
	var runs []*Run
	byKey := map[string]*Run{}
	for rows.Next() {
		r := &Run{}
		var ingested, started string
		var facts sql.NullString
		if err := rows.Scan(&r.Key, &r.Dir, &ingested, &started, &r.Succeeded, &facts, &r.FactsNote); err != nil {
			return nil, fmt.Errorf("reading runs: %w", err)
		}
		r.Ingested, _ = time.Parse(timeFormat, ingested)
		r.Started, _ = time.Parse(timeFormat, started)
		if facts.Valid {
			if err := json.Unmarshal([]byte(facts.String), &r.Facts); err != nil {
				return nil, fmt.Errorf("run %s: stored facts: %w", r.Key, err)
			}
		}
		runs = append(runs, r)
		byKey[r.Key] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	if err := s.results(byKey); err != nil {
		return nil, err
	}
	return runs, nil
}

// results fills in the results and entries of the runs in byKey. A
// result's seq is its index in its run's Results (insert writes 0..n-1).
func (s *Store) results(byKey map[string]*Run) error {
	rows, err := s.db.Query(`SELECT run, scenario, spec, outcome, message, location, duration_ns FROM results ORDER BY run, seq`)
	if err != nil {
		return fmt.Errorf("reading results: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var run string
		var res Result
		if err := rows.Scan(&run, &res.Scenario, &res.Spec, &res.Outcome, &res.Message, &res.Location, &res.Duration); err != nil {
			return fmt.Errorf("reading results: %w", err)
		}
		byKey[run].Results = append(byKey[run].Results, res)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading results: %w", err)
	}
	erows, err := s.db.Query(`SELECT run, seq, name, text, json FROM entries ORDER BY run, seq, n`)
	if err != nil {
		return fmt.Errorf("reading report entries: %w", err)
	}
	defer erows.Close()
	for erows.Next() {
		var run string
		var seq int
		var e Entry
		if err := erows.Scan(&run, &seq, &e.Name, &e.Text, &e.JSON); err != nil {
			return fmt.Errorf("reading report entries: %w", err)
		}
		res := &byKey[run].Results[seq]
		res.Entries = append(res.Entries, e)
	}
	return erows.Err()
}
