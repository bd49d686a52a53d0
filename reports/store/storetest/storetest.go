// Package storetest writes synthetic run directories (Ginkgo's JSON report
// and facts.json, as a suite run leaves them; crash.json, as run-vm.ps1
// leaves it after a guest crash) for the tests of the results store, the
// HTML report and the commands over them.
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

// CrashD1 is a crash.json as run-vm.ps1 writes it (Windows PowerShell 5.1's
// ConvertTo-Json layout, UTF-8 without BOM) after the heartbeat of a guest
// was lost and its System log named bugcheck 0xD1.
const CrashD1 = `{
    "vm":  "kb-2016",
    "label":  "win2016",
    "detected":  "heartbeat lost (NoContact) for 60 s",
    "detectedAt":  "2026-11-29T23:40:12Z",
    "runStarted":  "2026-11-29T23:31:02Z",
    "bugcheck":  "0x000000D1",
    "params":  [
                   "0x0000000000000028",
                   "0x0000000000000002",
                   "0x0000000000000000",
                   "0xfffff80312345678"
               ],
    "bugcheckSource":  "BugCheck 1001",
    "dump":  "MEMORY.DMP",
    "minidumps":  [
                      "Minidump/112926-10234-01.dmp"
                  ],
    "systemLog":  "System.evtx",
    "marker":  null,
    "events":  [
                   {
                       "provider":  "Microsoft-Windows-WER-SystemErrorReporting",
                       "id":  1001,
                       "time":  "2026-11-29T23:44:51.1234567Z",
                       "record":  39660
                   }
               ],
    "errors":  [

               ]
}
`

// WriteCrash writes text as dir/crash.json.
func WriteCrash(t testing.TB, dir, text string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crash.json"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteCrashedRun writes the run directory of a guest that crashed before
// the suite binary wrote its report: dir/crash.json from text, and
// dir/facts.json from facts (started at start) unless it is nil.
func WriteCrashedRun(t testing.TB, dir string, facts *reports.Facts, start time.Time, text string) {
	t.Helper()
	WriteCrash(t, dir, text)
	if facts != nil {
		f := *facts
		f.Started = start
		if err := reports.WriteFacts(f, dir); err != nil {
			t.Fatal(err)
		}
	}
}
