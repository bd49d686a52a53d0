package htmlreport_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/reports"
	"github.com/kbharness/kbharness/reports/htmlreport"
	"github.com/kbharness/kbharness/reports/store"
	"github.com/kbharness/kbharness/reports/store/storetest"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// render ingests the runs (spec lists, one run each, an hour apart) with
// facts and renders the report.
func render(t *testing.T, opt htmlreport.Options, facts *reports.Facts, runs ...[]storetest.Spec) string {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, specs := range runs {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		storetest.WriteRun(t, dir, facts, t0.Add(time.Duration(i)*time.Hour), specs...)
		if _, err := s.Ingest(dir); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := htmlreport.Render(&b, all, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func spec(scenario, outcome string) []storetest.Spec {
	return []storetest.Spec{{Scenario: scenario, Text: "keeps the route", Outcome: outcome, Message: "lost the route"}}
}

// flakeRow is the flakes table's row of a scenario on a platform: its
// sequence, flips and streak.
func flakeRow(t *testing.T, page, scenario, platform string) (seq, flips, streak string) {
	t.Helper()
	re := regexp.MustCompile(`<tr class="(?:flaky)?" data-scenario="` + regexp.QuoteMeta(scenario) + `" data-platform="` + regexp.QuoteMeta(platform) +
		`">(?s:.*?)<td class="seq">(.*?)</td><td class="num flips">(\d+)</td><td class="streak">(.*?)</td>`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no flakes row for %s on %s", scenario, platform)
	}
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], ""), m[2], m[3]
}

// A scenario that goes P F P P F on one build flips three times and ends
// on a failure streak of one; the window keeps only the last runs.
func TestFlakesOnAFlipSequence(t *testing.T) {
	var runs [][]storetest.Spec
	for _, o := range strings.Fields("P F P P F") {
		runs = append(runs, spec("KB287032", map[string]string{"P": "pass", "F": "fail"}[o]))
	}
	for _, tc := range []struct {
		window                         int
		wantSeq, wantFlips, wantStreak string
		flaky                          bool
	}{
		{window: 10, wantSeq: "PFPPF", wantFlips: "3", wantStreak: "fail ×1", flaky: true},
		{window: 3, wantSeq: "PPF", wantFlips: "1", wantStreak: "fail ×1"},
	} {
		page := render(t, htmlreport.Options{Window: tc.window}, &storetest.Windows, runs...)
		seq, flips, streak := flakeRow(t, page, "KB287032", "windows 6.1.7601 UBR 24000")
		if seq != tc.wantSeq || flips != tc.wantFlips || streak != tc.wantStreak {
			t.Errorf("window %d: sequence %s, %s flips, streak %q; want %s, %s, %q", tc.window, seq, flips, streak, tc.wantSeq, tc.wantFlips, tc.wantStreak)
		}
		if got := strings.Contains(page, `<tr class="flaky" data-scenario="KB287032"`); got != tc.flaky {
			t.Errorf("window %d: marked flaky %v, want %v", tc.window, got, tc.flaky)
		}
	}
	// A stable scenario: no flips, a pass streak of three.
	page := render(t, htmlreport.Options{}, &storetest.Linux, spec("KB943650", "pass"), spec("KB943650", "pass"), spec("KB943650", "pass"))
	if seq, flips, streak := flakeRow(t, page, "KB943650", "linux 6.1.0-13-amd64"); seq != "PPP" || flips != "0" || streak != "pass ×3" {
		t.Errorf("stable scenario: %s, %s flips, streak %q", seq, flips, streak)
	}
}

// A failure shows the classifier's verdict in the run, the matrix and the
// changes since the previous run, its network state split into sections
// with the lost route marked, hammer counts and a latency plot; everything
// from the reports is escaped and nothing is fetched.
func TestFailureDiagnostics(t *testing.T) {
	state := "host h, lab l\n--- at the start point:\ndefault via 192.0.2.1 dev lan0\n--- now:\n192.0.2.0/24 dev lan0\n" +
		"--- diff (- only in the start point, + only on the host now)\n- default via 192.0.2.1 dev lan0\n" +
		"--- event timeline:\n   +0.015s  [after deleting 192.0.2.21/24] route-removed default via 192.0.2.1 dev lan0\n"
	failing := []storetest.Spec{
		{Scenario: "secondary-ip-route-loss", Text: "keeps the route", Outcome: "fail",
			Message: "the persistent route was deleted: route-removed default via 192.0.2.1 dev lan0 <script>alert(1)</script>",
			Entries: map[string]any{"network state at failure": state}},
		{Scenario: "KB2901197", Text: "hammers", Outcome: "pass",
			Entries: map[string]any{"hammer connect/client-first counts": map[string]int64{"attempts": 3000, "addrinuse": 0, "success": 256}}},
		{Scenario: "KB943650", Text: "stays responsive", Outcome: "pass",
			Entries: map[string]any{"probe latency p50/p99": "netlink-route-get: 81 checks, 0 failed, p50 113µs, p99 404µs, max 404µs\ntcp-echo 198.51.100.1:7007: 81 checks, 0 failed, p50 249µs, p99 3.7ms, max 3.7ms"}},
	}
	classify := func(scenario string, f reports.Facts, failed bool) string {
		if failed && f.Build == "6.1.7601" && f.UBR >= 24000 {
			return "REGRESSION"
		}
		return htmlreport.Plain(scenario, f, failed)
	}
	page := render(t, htmlreport.Options{Classify: classify}, &storetest.Windows, spec("secondary-ip-route-loss", "pass"), failing)
	for _, want := range []string{
		`<tr data-scenario="secondary-ip-route-loss"><th>secondary-ip-route-loss</th><td class="regression">REGRESSION`,
		`<li class="change-regression" data-scenario="secondary-ip-route-loss"><b>secondary-ip-route-loss</b> passed, now fails: <span class="tag regression">REGRESSION</span>`,
		`<details class="section" data-section="diff (- only in the start point, &#43; only on the host now)" open>`,
		`<span class="del">- default via 192.0.2.1 dev lan0</span>`,
		`<span class="lost">   &#43;0.015s  [after deleting 192.0.2.21/24] route-removed default via 192.0.2.1 dev lan0</span>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`<th>attempts</th><th>success</th><th>addrinuse</th>`,
		`<td class="num">3000</td><td class="num">256</td><td class="num">0</td>`,
		`<svg class="latency"`, `tcp-echo 198.51.100.1:7007`, `>3.7ms</text>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, banned := range []string{"<script", "<link", " src=", "url(", "https://", "@import"} {
		if strings.Contains(page, banned) {
			t.Errorf("the page has %q: not self-contained or not escaped", banned)
		}
	}
}

// A run without facts is said to be, and a baseline that names no run is
// an error.
func TestUnknownFactsAndBaseline(t *testing.T) {
	page := render(t, htmlreport.Options{}, nil, spec("KB287032", "pass"))
	if !strings.Contains(page, "facts unknown: no facts.json") || !strings.Contains(page, "<th>facts unknown</th>") {
		t.Error("a run without facts.json is not shown as facts unknown")
	}
	err := htmlreport.Render(&bytes.Buffer{}, nil, htmlreport.Options{Baseline: "abc"})
	if err == nil || !strings.Contains(err.Error(), `baseline "abc": no such run`) {
		t.Errorf("Render with an unknown baseline = %v", err)
	}
}

// renderDirs ingests run directories as they are and renders the report.
func renderDirs(t *testing.T, opt htmlreport.Options, dirs ...string) string {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(dirs...); err != nil {
		t.Fatal(err)
	}
	all, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := htmlreport.Render(&b, all, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A crashed run says so prominently: its CRASHED line (bugcheck, params,
// how it was noticed, the dump) in the crashed guests, in its section and
// in the changes; the matrix's crash row per build, and a crash cell for
// the scenario whose crash marker was left. A crash with a partial report
// keeps its results. Everything from crash.json is escaped.
func TestCrashedRun(t *testing.T) {
	dir := t.TempDir()
	green, crashed, partial := filepath.Join(dir, "green"), filepath.Join(dir, "crashed"), filepath.Join(dir, "partial")
	storetest.WriteRun(t, green, &storetest.Windows, t0, storetest.Spec{Scenario: "KB943650", Text: "stays responsive", Outcome: "pass"})
	storetest.WriteCrashedRun(t, crashed, &storetest.Windows, t0.Add(time.Hour),
		strings.Replace(storetest.CrashD1, `"heartbeat lost (NoContact) for 60 s"`, `"heartbeat lost <b>(NoContact)</b> for 60 s"`, 1))
	storetest.WriteRun(t, partial, &storetest.Linux, t0.Add(2*time.Hour), storetest.Spec{Scenario: "KB287032", Text: "explores", Outcome: "pass"})
	text := strings.Replace(storetest.CrashD1, `"0x000000D1"`, "null", 1)
	text = strings.Replace(text, `"BugCheck 1001"`, "null", 1)
	text = strings.Replace(text, `"marker":  null`, `"marker":  {"scenario": "KB943650", "host": "lab<script>"}`, 1)
	text = strings.Replace(text, `"errors":  [

               ]`, `"errors":  ["no bugcheck in the System log (BugCheck 1001, Kernel-Power 41) since the run started"]`, 1)
	storetest.WriteCrash(t, partial, text)
	page := renderDirs(t, htmlreport.Options{}, green, crashed, partial)

	d1 := "CRASHED: bugcheck 0x000000D1 (params 0x0000000000000028, 0x0000000000000002, 0x0000000000000000, 0xfffff80312345678), " +
		"detected: heartbeat lost &lt;b&gt;(NoContact)&lt;/b&gt; for 60 s, dump: MEMORY.DMP"
	none := "CRASHED: no bugcheck found, detected: heartbeat lost (NoContact) for 60 s, dump: MEMORY.DMP"
	if n := strings.Count(page, `<p class="crashline">`+d1+`</p>`); n != 2 {
		t.Errorf("the 0xD1 crash line is on the page %d times, want 2 (crashed guests, the run's section)", n)
	}
	for _, want := range []string{
		`<h2 id="crashes">Crashed guests (2)</h2>`,
		`<p class="crashline"><span class="tag crash">` + d1 + `</span></p>`, // the changes since the previous run
		`<p class="crashline">` + none + `</p>`,
		`<td class="crash" title="` + d1 + `"><a href="#run-`,
		`">CRASHED 0x000000D1</a></td>`,
		`">CRASHED (no bugcheck found)</a></td>`,
		`VM kb-2016 (win2016) · detected at 2026-11-29T23:40:12Z · bugcheck from BugCheck 1001`,
		`<code>MEMORY.DMP</code>, <code>Minidump/112926-10234-01.dmp</code>, <code>System.evtx</code>`,
		`<li>no bugcheck in the System log (BugCheck 1001, Kernel-Power 41) since the run started</li>`,
		`<p>crash marker left: <code>{&#34;scenario&#34;:&#34;KB943650&#34;,&#34;host&#34;:&#34;lab&lt;script&gt;&#34;}</code></p>`,
		"no report.json: the suite binary died with the guest",
		`<span class="tag skip">no result: guest crashed</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// The matrix: KB943650 crashed on Linux (its marker), passed on Windows
	// before the crash-only run (which ran nothing the report knows of).
	row := regexp.MustCompile(`<tr data-scenario="KB943650"><th>KB943650</th>(.*)</tr>`).FindStringSubmatch(page)
	if row == nil || row[1] != `<td class="crash">crash</td><td class="pass">pass <span class="muted">(1/0/0)</span></td>` {
		t.Errorf("the matrix's KB943650 row: %q", row)
	}
	if !strings.Contains(page, `<tr data-scenario="KB287032"><th>KB287032</th><td class="pass">pass`) {
		t.Error("the partial report's results are not in the matrix")
	}
	for _, banned := range []string{"<script", "<b>(NoContact)"} {
		if strings.Contains(page, banned) {
			t.Errorf("the page has %q: not escaped", banned)
		}
	}
}
