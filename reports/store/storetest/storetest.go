// Package storetest writes synthetic run directories (Ginkgo's JSON report
// and facts.json, as a suite run leaves them) for the tests of the results
// store, the HTML report and the commands over them.
package storetest

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/kbharness/kbharness/reports"
)

// Spec is one spec of a synthetic run.
type Spec struct {
	Scenario string // its scenario label
	Text     string // the It's text
	Outcome  string // "pass", "fail" or "skip"
	Message  string // failure or skip message
	Entries  map[string]any
}

// Linux and Windows are facts of a lab namespace run and of a Windows 7
// SP1 guest reached by WinRM.
var (
	Linux = reports.Facts{Kbharness: "v0.9.0", Target: "local", Host: "ci-runner", OS: "linux",
		OSName: "Linux 6.1.0-13-amd64", Build: "6.1.0-13-amd64"}
	Windows = reports.Facts{Kbharness: "v0.9.0", Target: "winrm://admin@win7-lab", Host: "WIN7-LAB", OS: "windows",
		OSName: "Microsoft Windows [Version 6.1.7601]", Build: "6.1.7601", UBR: 24000,
		Updates: []string{"KB2901197", "KB952876"}, Files: map[string]string{"tcpip.sys": "6.1.7601.24000"}}
)

// WriteRun writes dir/report.json for specs, started at start, and
// dir/facts.json from facts unless it is nil (a run from before facts).
func WriteRun(t testing.TB, dir string, facts *reports.Facts, start time.Time, specs ...Spec) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := types.Report{SuitePath: "/src/suites", SuiteDescription: "kbharness", StartTime: start, EndTime: start.Add(time.Minute), SuiteSucceeded: true}
	for i, s := range specs {
		sr := types.SpecReport{
			ContainerHierarchyTexts:  []string{s.Scenario + ": a scenario"},
			ContainerHierarchyLabels: [][]string{{s.Scenario}},
			LeafNodeType:             types.NodeTypeIt,
			LeafNodeText:             s.Text,
			LeafNodeLocation:         types.CodeLocation{FileName: "/src/suites/x.go", LineNumber: 10 + i},
			StartTime:                start,
			EndTime:                  start.Add(time.Second),
			RunTime:                  time.Second,
		}
		switch s.Outcome {
		case "pass":
			sr.State = types.SpecStatePassed
		case "fail":
			sr.State = types.SpecStateFailed
			r.SuiteSucceeded = false
			sr.Failure = types.Failure{Message: s.Message, Location: types.CodeLocation{FileName: "/src/suites/x.go", LineNumber: 62}}
		default:
			sr.State = types.SpecStateSkipped
			sr.Failure = types.Failure{Message: s.Message}
		}
		names := slices.Sorted(maps.Keys(s.Entries))
		for _, name := range names {
			sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: name, Value: types.WrapEntryValue(s.Entries[name]), Time: start})
		}
		r.SpecReports = append(r.SpecReports, sr)
	}
	if err := reporters.GenerateJSONReport(r, filepath.Join(dir, "report.json")); err != nil {
		t.Fatal(err)
	}
	if facts != nil {
		f := *facts
		f.Started = start
		if err := reports.WriteFacts(f, dir); err != nil {
			t.Fatal(err)
		}
	}
}
