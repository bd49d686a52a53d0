// Package reports writes a suite run's reports: Ginkgo's JUnit XML and JSON,
// and our own summary view, one block per KB scenario with its verdict,
// failures (each one's own message, in a line) and skip reasons.
//
// The scenarios are the KB catalog's (fixtures/catalog.yaml), not the
// suite registry's (suites/registry): reports are also read by processes
// that link no KB package (reports/store, kbharness), where the registry is
// empty; the registry's tests keep it and the catalog the same set.
package reports

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/kbharness/kbharness/fixtures"
)

// Scenarios are the labels that name a KB scenario, in catalog order: the
// ids of fixtures/catalog.yaml.
var Scenarios = fixtures.ScenarioIDs()

// Files are the report files Write produces in its directory.
var Files = []string{"junit.xml", "report.json", "summary.txt"}

// DefaultDir picks the report directory for a run started at t: under the
// module root's out/reports when run from inside the source tree, else under
// ./kbharness-reports.
func DefaultDir(t time.Time) string {
	stamp := t.Format("20060102-150405")
	if root, ok := moduleRoot(); ok {
		return filepath.Join(root, "out", "reports", stamp)
	}
	return filepath.Join("kbharness-reports", stamp)
}

// Hint says how to choose where reports go.
const Hint = "set -kb.report-dir or KBHARNESS_REPORT_DIR to a writable directory"

// Place creates and returns the directory a run started at t writes its
// reports to: dir when the run names one (-kb.report-dir or
// KBHARNESS_REPORT_DIR), else DefaultDir(t). A directory the run names must
// be writable: if not, Place fails with Hint. The default may not be (a
// non-root run under an out/ a root run created): then Place falls back to
// a new directory under os.TempDir() and returns, in note, what happened,
// where the reports go and Hint; the run goes on.
func Place(dir string, t time.Time) (string, string, error) {
	return place(dir, DefaultDir(t))
}

func place(dir, def string) (got, note string, err error) {
	if dir != "" {
		if err := writable(dir); err != nil {
			return "", "", fmt.Errorf("report directory %s (-kb.report-dir / KBHARNESS_REPORT_DIR): %w; %s", dir, err, Hint)
		}
		return dir, "", nil
	}
	err = writable(def)
	if err == nil {
		return def, "", nil
	}
	fallback, ferr := os.MkdirTemp("", "kbharness-reports-"+filepath.Base(def)+"-")
	if ferr != nil {
		return "", "", fmt.Errorf("report directory %s: %w; falling back under %s: %v; %s", def, err, os.TempDir(), ferr, Hint)
	}
	return fallback, fmt.Sprintf("cannot write reports to %s (%v); writing them to %s instead; %s", def, err, fallback, Hint), nil
}

// writable creates dir if need be and checks that a file can be created in it.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".kbharness-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(data), "module github.com/kbharness/kbharness") {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Write writes junit.xml, report.json and summary.txt for r into dir (see
// Place for choosing dir).
func Write(r types.Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report directory: %w; %s", err, Hint)
	}
	if err := reporters.GenerateJUnitReport(r, filepath.Join(dir, "junit.xml")); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	if err := reporters.GenerateJSONReport(r, filepath.Join(dir, "report.json")); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "summary.txt"))
	if err != nil {
		return fmt.Errorf("writing summary: %w", err)
	}
	defer f.Close()
	WriteSummary(f, r)
	return f.Close()
}

// tally counts a scenario's specs by outcome.
type tally struct {
	passed, failed, skipped int
	failures                []string
	skips                   map[string]int
}

// WriteSummary renders the per-scenario view of r, each failure and skip
// in a line of its own message (see headline):
//
//	secondary-ip-route-loss  FAIL  passed 7  failed 1  skipped 12
//	  FAIL [netlink route, iproute2 address] keeps the default route: the persistent route was deleted when ...
//	  skip x12: mechanism netsh unsupported on this host ...
func WriteSummary(w io.Writer, r types.Report) {
	byScenario := map[string]*tally{}
	injectors := map[string]bool{}
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		for _, e := range s.ReportEntries {
			if e.Name == "injector" {
				injectors[e.StringRepresentation()] = true
			}
		}
		for _, label := range scenarioLabels(s) {
			t := byScenario[label]
			if t == nil {
				t = &tally{skips: map[string]int{}}
				byScenario[label] = t
			}
			switch {
			case s.State.Is(types.SpecStatePassed):
				t.passed++
			case s.State.Is(types.SpecStateSkipped | types.SpecStatePending):
				t.skipped++
				reason := headline(s.Failure.Message)
				if reason == "" {
					reason = "not selected (label filter or focus)"
				}
				t.skips[reason]++
			case s.State.Is(types.SpecStateFailureStates):
				t.failed++
				t.failures = append(t.failures, fmt.Sprintf("%s: %s", s.FullText(), headline(s.Failure.Message)))
			}
		}
	}
	fmt.Fprintf(w, "kbharness run %s, %s, %d specs\n", r.StartTime.Format(time.RFC3339), r.RunTime.Round(time.Millisecond), len(r.SpecReports))
	for _, s := range r.SpecReports {
		// A failed BeforeSuite (bad settings, say) skips every spec.
		if s.LeafNodeType.Is(types.NodeTypesForSuiteLevelNodes) && s.State.Is(types.SpecStateFailureStates) {
			fmt.Fprintf(w, "FAIL [%s] %s\n", s.LeafNodeType, strings.ReplaceAll(strings.TrimSpace(s.Failure.Message), "\n", "\n  "))
		}
	}
	if len(injectors) > 0 {
		fmt.Fprintf(w, "injected defects: %s (red is the expected outcome)\n", strings.Join(sortedKeys(injectors), ", "))
	}
	for _, label := range Scenarios {
		t := byScenario[label]
		if t == nil {
			fmt.Fprintf(w, "%-24s  not run\n", label)
			continue
		}
		verdict := "PASS"
		switch {
		case t.failed > 0:
			verdict = "FAIL"
		case t.passed == 0:
			verdict = "SKIP"
		}
		fmt.Fprintf(w, "%-24s  %s  passed %d  failed %d  skipped %d\n", label, verdict, t.passed, t.failed, t.skipped)
		for _, f := range t.failures {
			fmt.Fprintf(w, "  FAIL %s\n", f)
		}
		for _, reason := range sortedKeys(t.skips) {
			fmt.Fprintf(w, "  skip x%d: %s\n", t.skips[reason], reason)
		}
	}
}

func scenarioLabels(s types.SpecReport) []string {
	var out []string
	for _, l := range s.Labels() {
		for _, known := range Scenarios {
			if l == known {
				out = append(out, l)
			}
		}
	}
	return out
}

// maxHeadline bounds a failure's line in the summary, in bytes.
const maxHeadline = 240

var (
	// asyncPreambleRE is the first line Gomega's Eventually and
	// Consistently put before the failure's own message.
	asyncPreambleRE = regexp.MustCompile(`^(Timed out|Failed|Told to stop trying|Context was cancelled|No future change is possible\.  Bailing out early).* after [0-9]+\.[0-9]{3}s\.$`)
	// typeTagRE is the type tag format.Object puts before a value.
	typeTagRE = regexp.MustCompile(`^<[^<>]*>:\s*`)
)

// headline is the first meaningful line of a failure message, in at most
// maxHeadline bytes: Gomega's async preamble ("Failed after 0.010s.") and
// value type tags ("<*errors.errorString | 0xc0001>:") dropped, blank lines
// skipped; a line ending in ':' is joined to the next, and a matcher's
// "Expected" to the rest of its message.
func headline(msg string) string {
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(typeTagRE.ReplaceAllString(strings.TrimSpace(l), "")); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 1 && asyncPreambleRE.MatchString(lines[0]) {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return ""
	}
	out := lines[0]
	for _, l := range lines[1:] {
		if !strings.HasSuffix(out, ":") && lines[0] != "Expected" {
			break
		}
		out += " " + l
	}
	if len(out) > maxHeadline {
		out = strings.ToValidUTF8(out[:maxHeadline-3], "") + "..."
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
