// Package store keeps the results of suite runs in one SQLite database
// (through modernc.org/sqlite, pure Go: no cgo, so the Windows binary
// carries it), so that reports can compare runs across builds and time.
//
// A run is ingested from its run directory (report.json, facts.json, and
// crash.json when run-vm.ps1 noticed the guest crash) in one transaction,
// keyed by the hash of its report.json (of crash.json and facts.json for a
// crashed run without report.json): ingesting it again changes nothing.
package store

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/kbharness/kbharness/internal/statedir"
	"github.com/kbharness/kbharness/reports"
)

// DefaultPath is the store's default file: results.db in the state
// directory ($KBHARNESS_STATE_DIR, else %ProgramData%\kbharness on Windows
// and /var/lib/kbharness elsewhere), beside the journals.
func DefaultPath() string { return statedir.Path("results.db") }

// timeFormat is RFC 3339 in UTC with fixed nanoseconds, so that times sort
// as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// schemaVersion is PRAGMA user_version of a store this code writes:
// schema, then migrations[i] took version i+1 to i+2.
var schemaVersion = 1 + len(migrations)

// schema (version 1): one row per run, one per spec (or failed suite node)
// of a run, one per report entry of a spec. A new store is created at
// version 1 and migrated like an old one, so both end with the same tables.
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

// migrations: migrations[0] takes version 1 to 2 (crash.json). Runs stored
// at version 1 keep their key (the hash of report.json) and get outcome
// passed or failed and no crash: version 1 did not read crash.json. Ingesting
// such a run's directory again adds its crash.json, if it has one.
var migrations = []string{`
ALTER TABLE runs ADD COLUMN outcome TEXT NOT NULL DEFAULT 'failed'
	CHECK (outcome IN ('passed', 'failed', 'crashed')); -- crashed: the directory had crash.json
UPDATE runs SET outcome = CASE WHEN succeeded THEN 'passed' ELSE 'failed' END;
ALTER TABLE runs ADD COLUMN report_note TEXT NOT NULL DEFAULT ''; -- why a crashed run has no results
ALTER TABLE runs ADD COLUMN crash TEXT;                            -- crash.json (as Crash, re-encoded); NULL: no crash
ALTER TABLE runs ADD COLUMN bugcheck TEXT NOT NULL DEFAULT '';     -- crash.json's bugcheck, '' when none
CREATE INDEX runs_outcome ON runs (outcome, bugcheck);`,
}

// Outcomes of a Result.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Outcomes of a Run.
const (
	RunPassed  = "passed"
	RunFailed  = "failed"
	RunCrashed = "crashed" // the run directory has crash.json: the guest crashed
)

// Run is one ingested suite run.
type Run struct {
	Key        string
	Dir        string
	Ingested   time.Time
	Started    time.Time
	Succeeded  bool          // the suite's own verdict (false without report.json)
	Outcome    string        // RunPassed, RunFailed or RunCrashed
	Facts      reports.Facts // zero when unknown
	FactsNote  string        // non-empty when the facts are unknown: why
	ReportNote string        // non-empty when a crashed run has no results: why
	Crash      *Crash        // crash.json; nil when the guest did not crash
	Results    []Result
}

// CrashFile is the file run-vm.ps1 writes into a run directory when the
// guest crashed during the run.
const CrashFile = "crash.json"

// Crash is a crash.json (see run-vm.ps1 and ci-templates/README.md): how
// the crash was noticed, the bugcheck from the guest's System log and the
// evidence collected, with paths relative to the run directory.
type Crash struct {
	VM             string          `json:"vm"`
	Label          string          `json:"label"`          // the VM's OS build label, e.g. win2016
	Detected       string          `json:"detected"`       // how: "heartbeat lost (NoContact) for 60 s", ...
	DetectedAt     string          `json:"detectedAt"`     // RFC 3339, "" when unknown
	RunStarted     string          `json:"runStarted"`     // RFC 3339, "" when unknown
	Bugcheck       string          `json:"bugcheck"`       // "0x000000D1"; "" when none was found
	Params         []string        `json:"params"`         // the bugcheck's four parameters
	BugcheckSource string          `json:"bugcheckSource"` // "BugCheck 1001" or "Kernel-Power 41"
	Dump           string          `json:"dump"`           // "MEMORY.DMP", "" when not copied
	Minidumps      []string        `json:"minidumps"`      // "Minidump/112926-10234-01.dmp"
	SystemLog      string          `json:"systemLog"`      // "System.evtx"
	Marker         json.RawMessage `json:"marker"`         // the KB943650 crash marker left behind, or null
	Events         []CrashEvent    `json:"events"`         // the System log events the bugcheck came from
	Errors         []string        `json:"errors"`         // what could not be collected
}

// CrashEvent is an event of the guest's System log named in crash.json.
type CrashEvent struct {
	Provider string `json:"provider"`
	ID       int    `json:"id"`
	Time     string `json:"time"`
	Record   int64  `json:"record"`
}

// MarkerScenario is the scenario of the crash marker the run left
// behind ("KB943650"), or "".
func (c *Crash) MarkerScenario() string {
	var m struct {
		Scenario string `json:"scenario"`
	}
	if c == nil || json.Unmarshal(c.Marker, &m) != nil {
		return ""
	}
	return m.Scenario
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
	switch {
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("schema version %d, this kbharness knows %d at most: a newer kbharness wrote it", v, schemaVersion)
	case v == 0:
		if _, err := tx.Exec(schema); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
		v = 1
	}
	for ; v < schemaVersion; v++ {
		if _, err := tx.Exec(migrations[v-1]); err != nil {
			return fmt.Errorf("migrating the schema from version %d to %d: %w", v, v+1, err)
		}
	}
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// Ingested says what Ingest did with one directory.
type Ingested struct {
	Dir, Key   string
	Specs      int
	Crash      *Crash // the run's crash.json, nil when the guest did not crash
	Already    bool   // the run was in the store already: nothing changed (but CrashAdded)
	CrashAdded bool   // the run was in the store without its crash.json (stored by schema version 1): added
	Note       string // e.g. facts unknown, no report.json
}

func (i Ingested) String() string {
	if i.CrashAdded {
		return fmt.Sprintf("%s: run %s was in the store without its crash; added it (%s)", i.Dir, i.Key, crashSummary(i.Crash))
	}
	if i.Already {
		return fmt.Sprintf("%s: run %s is already in the store; nothing changed", i.Dir, i.Key)
	}
	kind := "run"
	if i.Crash != nil {
		kind = "crashed run"
	}
	s := fmt.Sprintf("%s: ingested %s %s (%d results", i.Dir, kind, i.Key, i.Specs)
	if i.Crash != nil {
		s += "; " + crashSummary(i.Crash)
	}
	s += ")"
	if i.Note != "" {
		s += "; " + i.Note
	}
	return s
}

func crashSummary(c *Crash) string {
	if c.Bugcheck == "" {
		return "no bugcheck found, detected: " + c.Detected
	}
	return "bugcheck " + c.Bugcheck + ", detected: " + c.Detected
}

// Ingest reads each run directory and stores its run, all in one
// transaction: a directory that cannot be read (neither report.json nor
// crash.json, malformed JSON, unknown facts or crash fields) fails the
// whole call with an error naming the file, and nothing is stored. Runs
// already in the store are left as they are, but for one stored by schema
// version 1 whose directory has crash.json: its crash is added.
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
		out[i] = Ingested{Dir: r.Dir, Key: r.Key, Specs: len(r.Results), Crash: r.Crash,
			Note: strings.Join(nonEmpty(r.ReportNote, r.FactsNote), "; ")}
		var n int
		var crash sql.NullString
		err := tx.QueryRow("SELECT count(*), max(crash) FROM runs WHERE key = ?", r.Key).Scan(&n, &crash)
		if err != nil {
			return nil, fmt.Errorf("ingesting %s: %w", r.Dir, err)
		}
		if n > 0 {
			out[i].Already = true
			if r.Crash != nil && !crash.Valid {
				if err := addCrash(tx, r); err != nil {
					return nil, fmt.Errorf("ingesting %s: %w", r.Dir, err)
				}
				out[i].CrashAdded = true
			}
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

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// crashColumns are r's crash and bugcheck columns.
func crashColumns(r *Run) (crash any, bugcheck string, err error) {
	if r.Crash == nil {
		return nil, "", nil
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the marker as it was, not with \u003c
	if err := enc.Encode(r.Crash); err != nil {
		return nil, "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), r.Crash.Bugcheck, nil
}

// addCrash adds r's crash to its run, stored without one.
func addCrash(tx *sql.Tx, r *Run) error {
	crash, bugcheck, err := crashColumns(r)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`UPDATE runs SET crash = ?, bugcheck = ?, outcome = ? WHERE key = ? AND crash IS NULL`, crash, bugcheck, RunCrashed, r.Key)
	return err
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
	crash, bugcheck, err := crashColumns(r)
	if err != nil {
		return err
	}
	f := r.Facts
	if _, err := tx.Exec(`INSERT INTO runs (key, dir, ingested, started, succeeded, os, build, ubr, host, target, kbharness, facts, facts_note,
		outcome, report_note, crash, bugcheck) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Key, r.Dir, r.Ingested.UTC().Format(timeFormat), r.Started.UTC().Format(timeFormat), r.Succeeded,
		f.OS, f.Build, f.UBR, f.Host, f.Target, f.Kbharness, facts, r.FactsNote,
		r.Outcome, r.ReportNote, crash, bugcheck); err != nil {
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

// Load reads a run directory: report.json (Ginkgo's JSON report, an array
// of one Report), crash.json (run-vm.ps1's, when the guest crashed) and
// facts.json (optional: without it the facts are unknown and FactsNote says
// so). It needs report.json or crash.json. A crashed run's report.json may
// be missing (the suite binary died with the guest) or cut short: the run
// is then stored without results and ReportNote says why.
func Load(dir string) (*Run, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	crash, crashRaw, err := ReadCrash(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err // names the file
	}
	r := &Run{Dir: abs, Ingested: time.Now().UTC(), Crash: crash}
	path := filepath.Join(dir, "report.json")
	b, err := os.ReadFile(path)
	var rep *types.Report
	switch {
	case errors.Is(err, fs.ErrNotExist) && crash == nil:
		return nil, fmt.Errorf("%s: no report.json and no %s: not a kbharness run directory", dir, CrashFile)
	case errors.Is(err, fs.ErrNotExist):
		r.ReportNote = "no report.json: the suite binary died with the guest"
	case err != nil:
		return nil, err
	default:
		rep, err = parseReport(path, b)
		if err != nil && crash == nil {
			return nil, err
		}
		if err != nil {
			r.ReportNote = "report.json left unreadable by the crash, its results are not stored: " + err.Error()
		}
	}
	if rep != nil {
		sum := sha256.Sum256(b)
		r.Key = hex.EncodeToString(sum[:16])
		r.Started, r.Succeeded = rep.StartTime.UTC(), rep.SuiteSucceeded
	}
	r.Facts, err = reports.ReadFacts(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Facts = reports.Facts{}
		r.FactsNote = "facts unknown: no " + reports.FactsFile + " in the run directory (a run from before facts were recorded)"
		if crash != nil {
			r.FactsNote = "facts unknown: no " + reports.FactsFile + " in the run directory"
		}
	case err != nil:
		return nil, err // names the file
	case !r.Facts.Started.IsZero():
		r.Started = r.Facts.Started.UTC()
	}
	if rep == nil {
		// The key of a crashed run without a report: its crash.json and facts.json.
		h := sha256.New()
		h.Write(crashRaw)
		if fb, err := os.ReadFile(filepath.Join(dir, reports.FactsFile)); err == nil {
			h.Write([]byte{0})
			h.Write(fb)
		}
		r.Key = hex.EncodeToString(h.Sum(nil)[:16])
		if r.Started.IsZero() {
			r.Started = crash.started(filepath.Join(dir, CrashFile))
		}
	}
	switch {
	case crash != nil:
		r.Outcome = RunCrashed
	case r.Succeeded:
		r.Outcome = RunPassed
	default:
		r.Outcome = RunFailed
	}
	if rep != nil {
		for _, s := range rep.SpecReports {
			if res, ok := result(s); ok {
				r.Results = append(r.Results, res)
			}
		}
	}
	return r, nil
}

// parseReport reads Ginkgo's JSON report at path (contents b).
func parseReport(path string, b []byte) (*types.Report, error) {
	var rs []types.Report
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: malformed Ginkgo JSON report: %w", path, err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("%s: %d suite reports, want 1", path, len(rs))
	}
	if rs[0].StartTime.IsZero() {
		return nil, fmt.Errorf("%s: no StartTime: not a Ginkgo JSON report", path)
	}
	return &rs[0], nil
}

// started is when a crashed run without facts or report started: crash.json's
// runStarted, else detectedAt, else when crash.json was written.
func (c *Crash) started(path string) time.Time {
	for _, s := range []string{c.RunStarted, c.DetectedAt} {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC()
		}
	}
	if fi, err := os.Stat(path); err == nil {
		return fi.ModTime().UTC()
	}
	return time.Time{}
}

var (
	utf8BOM     = []byte("\xef\xbb\xbf")
	hexCode     = regexp.MustCompile(`^0x[0-9A-Fa-f]{1,16}$`)
	notRelative = regexp.MustCompile(`^([A-Za-z]:|[/\\])|(^|[/\\])\.\.([/\\]|$)`)
)

// ReadCrash reads dir/crash.json strictly: unknown fields, trailing data,
// an empty "detected", a bugcheck that is not hexadecimal, times that are
// not RFC 3339 and evidence paths outside the run directory are errors
// naming the file and the field. A UTF-8 BOM (PowerShell's Set-Content
// -Encoding UTF8) is tolerated. It returns the file's contents too; an
// error wrapping fs.ErrNotExist when there is none.
func ReadCrash(dir string) (*Crash, []byte, error) {
	path := filepath.Join(dir, CrashFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var c Crash
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, utf8BOM)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("%s: malformed crash.json: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%s: malformed crash.json: data after the object", path)
	}
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%s: field %q: %s", path, field, fmt.Sprintf(format, a...))
	}
	if strings.TrimSpace(c.Detected) == "" {
		return nil, nil, bad("detected", "missing or empty: how the crash was noticed")
	}
	if c.Bugcheck != "" && !hexCode.MatchString(c.Bugcheck) {
		return nil, nil, bad("bugcheck", "%q is not a hexadecimal code like 0x000000D1", c.Bugcheck)
	}
	for _, f := range []struct{ name, v string }{{"detectedAt", c.DetectedAt}, {"runStarted", c.RunStarted}} {
		if _, err := time.Parse(time.RFC3339, f.v); f.v != "" && err != nil {
			return nil, nil, bad(f.name, "%q is not an RFC 3339 time", f.v)
		}
	}
	paths := []struct{ name, v string }{{"dump", c.Dump}, {"systemLog", c.SystemLog}}
	for _, m := range c.Minidumps {
		paths = append(paths, struct{ name, v string }{"minidumps", m})
	}
	for _, p := range paths {
		if notRelative.MatchString(p.v) {
			return nil, nil, bad(p.name, "%q is not a path relative to the run directory", p.v)
		}
	}
	if len(c.Marker) == 0 {
		c.Marker = json.RawMessage("null")
	}
	return &c, b, nil
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
	rows, err := s.db.Query(`SELECT key, dir, ingested, started, succeeded, outcome, facts, facts_note, report_note, crash
		FROM runs ORDER BY started, key`)
	if err != nil {
		return nil, fmt.Errorf("reading runs: %w", err)
	}
	defer rows.Close()
	var runs []*Run
	byKey := map[string]*Run{}
	for rows.Next() {
		r := &Run{}
		var ingested, started string
		var facts, crash sql.NullString
		if err := rows.Scan(&r.Key, &r.Dir, &ingested, &started, &r.Succeeded, &r.Outcome, &facts, &r.FactsNote, &r.ReportNote, &crash); err != nil {
			return nil, fmt.Errorf("reading runs: %w", err)
		}
		r.Ingested, _ = time.Parse(timeFormat, ingested)
		r.Started, _ = time.Parse(timeFormat, started)
		if facts.Valid {
			if err := json.Unmarshal([]byte(facts.String), &r.Facts); err != nil {
				return nil, fmt.Errorf("run %s: stored facts: %w", r.Key, err)
			}
		}
		if crash.Valid {
			r.Crash = &Crash{}
			if err := json.Unmarshal([]byte(crash.String), r.Crash); err != nil {
				return nil, fmt.Errorf("run %s: stored crash: %w", r.Key, err)
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
