// Package htmlreport renders the results store as one self-contained HTML
// page (inline CSS and SVG, no scripts, nothing fetched): each run's
// verdict per KB scenario with its failures' route tables, diff and event
// timeline, hammer counts and probe latencies; a crashed guest's bugcheck
// (crash.json); across runs, a matrix of scenarios by OS build with the
// newest run's crash state, what changed since the previous run (or a
// baseline), and flakes.
package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/kbharness/kbharness/reports"
	"github.com/kbharness/kbharness/reports/store"
)

// Classifier names a scenario's verdict on a run with facts f, given
// whether it failed (reports.Classify against the KB catalog: "pass",
// "REGRESSION", "expected: defect present", ...).
type Classifier func(scenario string, f reports.Facts, failed bool) string

// Plain is the classifier without a catalog: "fail" or "pass".
func Plain(_ string, _ reports.Facts, failed bool) string {
	if failed {
		return "fail"
	}
	return "pass"
}

// Options tune Render.
type Options struct {
	Classify Classifier // nil: Plain
	// Baseline is the key (or a prefix of it) of the run the newest run of
	// every host is compared with; "" compares each with its host's
	// previous run.
	Baseline string
	Window   int // runs per scenario and build examined for flakes (0: 10)
}

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("report").Parse(pageText))

// Render writes the report over runs (oldest first, as store.Runs returns
// them) to w.
func Render(w io.Writer, runs []*store.Run, opt Options) error {
	m, err := build(runs, opt, time.Now())
	if err != nil {
		return err
	}
	return page.Execute(w, m)
}

// Verdicts that are not the classifier's.
const (
	notRun    = "not run"                  // every spec of the scenario was filtered out
	skip      = "skip"                     // run, but every spec skipped itself
	crashed   = "crash"                    // the guest crashed while the scenario ran (its crash marker was left)
	noResult  = "no result: guest crashed" // a crashed run without results for the scenario
	noCrash   = "no crash"
	crashWord = "CRASHED"
)

// model is what the template shows.
type model struct {
	Generated string
	Runs      []runView // newest first
	Crashed   []runView // the crashed runs, newest first
	Columns   []string  // the matrix's platforms
	Crashes   []cell    // per platform, the newest run's crash state
	Matrix    []matrixRow
	Changes   []change
	Flakes    []flake
	Window    int
}

// runView is one run: its verdict per scenario and its diagnostics.
type runView struct {
	Key, Dir, Started string
	Platform, Host    string
	FactsNote         string // why the facts are unknown
	Updates           string // installed updates, space-separated
	Scenarios         []cell
	Failures          []failure
	Hammers           []hammer
	HammerCols        []string // the hammer table's count columns
	Latency           []plot
	Crash             *crashView // nil: the guest did not crash
	ReportNote        string     // why a crashed run has no results
}

// crashView is a run's crash.json.
type crashView struct {
	Line, Source, DetectedAt, VM string
	Evidence, Errors             []string
	Marker                       string
}

// cell is one verdict, with its CSS class.
type cell struct {
	Scenario, Verdict, Class string
	Pass, Fail, Skip         int
	Note                     string
	Run                      string // the run it comes from (the matrix's crash row)
}

type failure struct {
	Scenario, Verdict, Class, Spec, Message, Location, Header string
	Sections                                                  []section
	Other                                                     []store.Entry
}

type section struct {
	Title string
	Open  bool
	Lines []line
}

type line struct{ Text, Class string }

type matrixRow struct {
	Scenario string
	Cells    []cell
}

type change struct {
	Run, Against, Platform, Host string
	Regressions, Fixes           []cell // the verdicts now
	Crash                        string // the newest run's CRASHED line, if it crashed
}

type flake struct {
	Scenario, Platform string
	Sequence           []string // "P", "F", oldest first
	Flips              int
	Streak             string // "pass ×3"
	Flaky              bool
}

// platform names a run's OS build: "windows 6.1.7601 UBR 24000".
func platform(f reports.Facts) string {
	switch {
	case f.OS == "":
		return "facts unknown"
	case f.UBR != 0:
		return fmt.Sprintf("%s %s UBR %d", f.OS, f.Build, f.UBR)
	}
	return strings.TrimSpace(f.OS + " " + f.Build)
}

// class maps a verdict to its CSS class.
func class(verdict string) string {
	switch {
	case strings.Contains(verdict, "REGRESSION"):
		return "regression"
	case strings.HasPrefix(verdict, "expected"):
		return "expected"
	case strings.HasPrefix(verdict, "pass"):
		return "pass"
	case strings.HasPrefix(verdict, "fail"):
		return "fail"
	case verdict == crashed || strings.HasPrefix(verdict, crashWord):
		return "crash"
	}
	return "skip"
}

// verdicts classifies every scenario of r.
func verdicts(r *store.Run, classify Classifier) map[string]cell {
	out := map[string]cell{}
	for _, res := range r.Results {
		c := out[res.Scenario]
		c.Scenario = res.Scenario
		switch res.Outcome {
		case store.Pass:
			c.Pass++
		case store.Fail:
			c.Fail++
		default:
			c.Skip++
			if res.Message != "" && c.Note == "" {
				c.Note = res.Message
			}
		}
		out[res.Scenario] = c
	}
	for id, c := range out {
		switch {
		case c.Fail > 0 || c.Pass > 0:
			c.Verdict = classify(id, r.Facts, c.Fail > 0)
		case c.Note != "":
			c.Verdict = skip
		default:
			c.Verdict = notRun
		}
		c.Class = class(c.Verdict)
		out[id] = c
	}
	// The scenario whose crash marker was left never finished: it crashed.
	if id := r.Crash.MarkerScenario(); id != "" {
		c := out[id]
		c.Scenario, c.Verdict, c.Class = id, crashed, "crash"
		c.Note = "its crash marker was left: the guest crashed while it ran"
		out[id] = c
	}
	return out
}

// crashLine is the one line that says a run crashed:
// "CRASHED: bugcheck 0x000000D1 (params ...), detected: heartbeat lost ..., dump: MEMORY.DMP".
func crashLine(c *store.Crash) string {
	s := crashWord + ": "
	if c.Bugcheck == "" {
		s += "no bugcheck found"
	} else {
		s += "bugcheck " + c.Bugcheck
		if len(c.Params) > 0 {
			s += " (params " + strings.Join(c.Params, ", ") + ")"
		}
	}
	s += ", detected: " + c.Detected + ", dump: "
	switch {
	case c.Dump != "":
		s += c.Dump
	case len(c.Minidumps) > 0:
		s += strings.Join(c.Minidumps, ", ")
	default:
		s += "none"
	}
	return s
}

func crashOf(c *store.Crash) *crashView {
	v := &crashView{Line: crashLine(c), Source: c.BugcheckSource, DetectedAt: c.DetectedAt, Errors: c.Errors}
	if c.VM != "" {
		v.VM = c.VM
		if c.Label != "" {
			v.VM += " (" + c.Label + ")"
		}
	}
	for _, e := range append(append([]string{c.Dump}, c.Minidumps...), c.SystemLog) {
		if e != "" {
			v.Evidence = append(v.Evidence, e)
		}
	}
	if m := string(c.Marker); m != "" && m != "null" {
		v.Marker = m
	}
	return v
}

func build(runs []*store.Run, opt Options, now time.Time) (*model, error) {
	if opt.Classify == nil {
		opt.Classify = Plain
	}
	if opt.Window <= 0 {
		opt.Window = 10
	}
	m := &model{Generated: now.UTC().Format(time.RFC3339), Window: opt.Window}
	all := make([]map[string]cell, len(runs))
	for i, r := range runs {
		all[i] = verdicts(r, opt.Classify)
	}
	for i := len(runs) - 1; i >= 0; i-- {
		v := view(runs[i], all[i])
		m.Runs = append(m.Runs, v)
		if v.Crash != nil {
			m.Crashed = append(m.Crashed, v)
		}
	}
	m.matrix(runs, all)
	if err := m.changes(runs, all, opt.Baseline); err != nil {
		return nil, err
	}
	m.flakes(runs, all, opt.Window)
	return m, nil
}

func short(key string) string { return key[:min(12, len(key))] }

func view(r *store.Run, cells map[string]cell) runView {
	v := runView{Key: short(r.Key), Dir: r.Dir, Started: r.Started.UTC().Format("2006-01-02 15:04:05Z"),
		Platform: platform(r.Facts), FactsNote: r.FactsNote, Updates: strings.Join(r.Facts.Updates, " "), ReportNote: r.ReportNote}
	if r.Facts.Host != "" {
		v.Host = r.Facts.Host + " (" + r.Facts.Target + ")"
	}
	if r.Crash != nil {
		v.Crash = crashOf(r.Crash)
		if v.Host == "" {
			v.Host = v.Crash.VM
		}
	}
	for _, id := range reports.Scenarios {
		c, ok := cells[id]
		if !ok {
			c = cell{Scenario: id, Verdict: notRun, Class: "skip"}
			if r.Crash != nil {
				c.Verdict = noResult
			}
		}
		v.Scenarios = append(v.Scenarios, c)
	}
	for _, res := range r.Results {
		if res.Outcome == store.Fail {
			v.Failures = append(v.Failures, failureOf(res, cells[res.Scenario]))
		}
		v.addHammers(res)
		if p, ok := latencyPlot(res); ok {
			v.Latency = append(v.Latency, p)
		}
	}
	return v
}

func failureOf(res store.Result, c cell) failure {
	f := failure{Scenario: res.Scenario, Verdict: c.Verdict, Class: c.Class, Spec: res.Spec, Message: res.Message, Location: res.Location}
	if f.Scenario == "" {
		f.Scenario, f.Verdict, f.Class = "suite", "fail", "fail"
	}
	for _, e := range res.Entries {
		if e.Name == "network state at failure" {
			f.Header, f.Sections = networkState(e.Text, res.Message)
		} else {
			f.Other = append(f.Other, e)
		}
	}
	return f
}

// networkState splits the framework's "network state at failure" entry
// into its "--- title" sections, classing diff lines (+/-), route events,
// and the events the failure message quotes ("lost").
func networkState(text, message string) (string, []section) {
	var header string
	var out []section
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if title, ok := strings.CutPrefix(l, "--- "); ok {
			title = strings.TrimSuffix(title, ":")
			open := strings.HasPrefix(title, "diff") || strings.HasPrefix(title, "event timeline") || strings.Contains(title, "failed")
			out = append(out, section{Title: title, Open: open})
			continue
		}
		if len(out) == 0 {
			header = strings.TrimSpace(header + "\n" + l)
			continue
		}
		s := &out[len(out)-1]
		s.Lines = append(s.Lines, line{Text: l, Class: lineClass(s.Title, l, message)})
	}
	return header, out
}

func lineClass(title, l, message string) string {
	if strings.HasPrefix(title, "diff") {
		switch {
		case strings.HasPrefix(l, "+"):
			return "add"
		case strings.HasPrefix(l, "-"):
			return "del"
		}
		return ""
	}
	if !strings.HasPrefix(title, "event timeline") {
		return ""
	}
	if _, event, ok := strings.Cut(l, "] "); ok && strings.Contains(message, event) {
		return "lost"
	}
	switch {
	case strings.Contains(l, "-removed "):
		return "del"
	case strings.Contains(l, "-added "):
		return "add"
	case strings.Contains(l, "== step:"):
		return "step"
	}
	return ""
}

// changes compares the newest run of every host with its previous run
// (or the baseline).
func (m *model) changes(runs []*store.Run, all []map[string]cell, baseline string) error {
	base := -1
	if baseline != "" {
		for i, r := range runs {
			if strings.HasPrefix(r.Key, baseline) {
				if base >= 0 {
					return fmt.Errorf("baseline %q names more than one run", baseline)
				}
				base = i
			}
		}
		if base < 0 {
			return fmt.Errorf("baseline %q: no such run in the store", baseline)
		}
	}
	newest := map[[2]string]int{}   // host, target → newest run
	previous := map[[2]string]int{} // … → the run before it
	for i, r := range runs {
		k := [2]string{r.Facts.Host, r.Facts.Target}
		if j, ok := newest[k]; ok {
			previous[k] = j
		}
		newest[k] = i
	}
	for k, i := range newest {
		j, ok := previous[k]
		if base >= 0 {
			j, ok = base, base != i
		}
		if !ok {
			continue
		}
		c := change{Run: short(runs[i].Key), Against: short(runs[j].Key), Platform: platform(runs[i].Facts), Host: runs[i].Facts.Host}
		if runs[i].Crash != nil {
			c.Crash = crashLine(runs[i].Crash)
		}
		for _, id := range reports.Scenarios {
			was, now := all[j][id], all[i][id]
			switch failed(was.Verdict, now.Verdict) {
			case [2]bool{false, true}:
				c.Regressions = append(c.Regressions, now)
			case [2]bool{true, false}:
				c.Fixes = append(c.Fixes, now)
			}
		}
		m.Changes = append(m.Changes, c)
	}
	sort.Slice(m.Changes, func(a, b int) bool { return m.Changes[a].Run < m.Changes[b].Run })
	return nil
}

// failed says, for two verdicts both of a run scenario, whether each
// failed; any other pair (one skipped or not run) is no change.
func failed(was, now string) [2]bool {
	ran := func(v string) bool { return v != skip && v != notRun && v != noResult && v != "" }
	if !ran(was) || !ran(now) {
		return [2]bool{}
	}
	f := func(v string) bool { c := class(v); return c != "pass" }
	return [2]bool{f(was), f(now)}
}

// matrix shows, per scenario and platform, the newest verdict of a run
// that ran the scenario (crash: the guest crashed while it ran); and per
// platform whether its newest run crashed.
func (m *model) matrix(runs []*store.Run, all []map[string]cell) {
	col := map[string]int{}
	for _, r := range runs {
		p := platform(r.Facts)
		if _, ok := col[p]; !ok {
			col[p] = len(m.Columns)
			m.Columns = append(m.Columns, p)
		}
	}
	sort.Strings(m.Columns)
	for i, p := range m.Columns {
		col[p] = i
	}
	m.Crashes = make([]cell, len(m.Columns))
	for _, r := range runs {
		c := cell{Verdict: noCrash, Class: "pass", Run: short(r.Key)}
		if r.Crash != nil {
			c.Verdict, c.Class, c.Note = crashWord+" (no bugcheck found)", "crash", crashLine(r.Crash)
			if r.Crash.Bugcheck != "" {
				c.Verdict = crashWord + " " + r.Crash.Bugcheck
			}
		}
		m.Crashes[col[platform(r.Facts)]] = c
	}
	for _, id := range reports.Scenarios {
		row := matrixRow{Scenario: id, Cells: make([]cell, len(m.Columns))}
		for i := range row.Cells {
			row.Cells[i] = cell{Verdict: notRun, Class: "skip"}
		}
		for i, r := range runs {
			c, ok := all[i][id]
			if !ok || c.Verdict == notRun {
				continue
			}
			row.Cells[col[platform(r.Facts)]] = c
		}
		m.Matrix = append(m.Matrix, row)
	}
}

// flakes lists, per scenario and platform, the pass/fail sequence of the
// last window runs that ran it, its flips and the current streak.
func (m *model) flakes(runs []*store.Run, all []map[string]cell, window int) {
	seqs := map[[2]string][]bool{} // scenario, platform → failed, oldest first
	var keys [][2]string
	for i, r := range runs {
		for _, id := range reports.Scenarios {
			c := all[i][id]
			if c.Pass+c.Fail == 0 {
				continue
			}
			k := [2]string{id, platform(r.Facts)}
			if _, ok := seqs[k]; !ok {
				keys = append(keys, k)
			}
			seqs[k] = append(seqs[k], c.Fail > 0)
		}
	}
	for _, k := range keys {
		s := seqs[k]
		s = s[max(0, len(s)-window):]
		if len(s) < 2 {
			continue
		}
		f := flake{Scenario: k[0], Platform: k[1]}
		for i, failed := range s {
			f.Sequence = append(f.Sequence, map[bool]string{false: "P", true: "F"}[failed])
			if i > 0 && failed != s[i-1] {
				f.Flips++
			}
		}
		n := 1
		for n < len(s) && s[len(s)-1-n] == s[len(s)-1] {
			n++
		}
		f.Streak = fmt.Sprintf("%s ×%d", map[bool]string{false: "pass", true: "fail"}[s[len(s)-1]], n)
		f.Flaky = f.Flips >= 2
		m.Flakes = append(m.Flakes, f)
	}
	sort.SliceStable(m.Flakes, func(a, b int) bool { return m.Flakes[a].Flips > m.Flakes[b].Flips })
}
