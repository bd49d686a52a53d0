package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/reports"
	"github.com/kbharness/kbharness/reports/store/storetest"
)

func TestReportUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "none.db")
	for _, tc := range []struct {
		args     []string
		code     int
		inOutput string
	}{
		{[]string{"report", "--help"}, exitOK, "Usage: kbharness report"},
		{[]string{"report"}, exitUsage, "-o FILE.html is required"},
		{[]string{"report", "-o", "x.html", "extra"}, exitUsage, `unexpected arguments ["extra"]`},
		{[]string{"report", "-o", "x.html", "--flake-window", "1"}, exitUsage, "--flake-window 1 is out of bounds"},
		{[]string{"report", "--store", db, "-o", "x.html"}, exitUsage, "bad input: results store " + db},
	} {
		code, out, errs := runArgs(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.inOutput) {
			t.Errorf("kbharness %q: exit %d, output\n%s%s\nwant exit %d and output containing %q", tc.args, code, out, errs, tc.code, tc.inOutput)
		}
	}
}

// Two ingested runs, a pass then a failure, render as one page naming the
// failure as new since the previous run; a baseline that names no run
// exits 2.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	db, page := filepath.Join(dir, "results.db"), filepath.Join(dir, "report.html")
	green, red := filepath.Join(dir, "green"), filepath.Join(dir, "red")
	storetest.WriteRun(t, green, &storetest.Linux, t0, storetest.Spec{Scenario: "KB287032", Text: "explores", Outcome: "pass"})
	storetest.WriteRun(t, red, &storetest.Linux, t0.Add(1), storetest.Spec{Scenario: "KB287032", Text: "explores", Outcome: "fail", Message: "a route lost"})
	if code, out, errs := runArgs(t, context.Background(), "results", "ingest", "--store", db, green, red); code != exitOK {
		t.Fatalf("ingest: exit %d, %s%s", code, out, errs)
	}
	code, out, errs := runArgs(t, context.Background(), "report", "--store", db, "-o", page)
	if code != exitOK || out != "wrote "+page+": 2 run(s)\n" {
		t.Fatalf("report: exit %d, %s%s", code, out, errs)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `<li class="change-regression" data-scenario="KB287032">`) || !strings.Contains(string(b), "a route lost") {
		t.Errorf("the page does not name the new failure:\n%s", b)
	}
	code, _, errs = runArgs(t, context.Background(), "report", "--store", db, "-o", page, "--baseline", "ffff")
	if code != exitUsage || !strings.Contains(errs, `baseline "ffff": no such run`) {
		t.Errorf("an unknown baseline: exit %d, %s", code, errs)
	}
}

// Verdicts come from the KB catalog (reports.Classify) by the run's facts.
func TestReportClassifies(t *testing.T) {
	dir := t.TempDir()
	db, page, run := filepath.Join(dir, "results.db"), filepath.Join(dir, "report.html"), filepath.Join(dir, "run")
	storetest.WriteRun(t, run, &storetest.Windows, t0, storetest.Spec{Scenario: "KB2901197", Text: "hammers", Outcome: "fail", Message: "EADDRINUSE"})
	if code, out, errs := runArgs(t, context.Background(), "results", "ingest", "--store", db, run); code != exitOK {
		t.Fatalf("ingest: exit %d, %s%s", code, out, errs)
	}
	if code, out, errs := runArgs(t, context.Background(), "report", "--store", db, "-o", page); code != exitOK {
		t.Fatalf("report: exit %d, %s%s", code, out, errs)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	want := string(reports.Classify("KB2901197", storetest.Windows, true))
	if want == "fail" || !strings.Contains(string(b), `<tr data-scenario="KB2901197"><th>KB2901197</th><td class="`) ||
		!strings.Contains(string(b), ">"+want+" <span") {
		t.Errorf("the matrix does not show the catalog's verdict %q for KB2901197 on %s", want, storetest.Windows.Build)
	}
}

// A crashed run without report.json reaches the page with its bugcheck.
func TestReportCrashed(t *testing.T) {
	dir := t.TempDir()
	db, page, run := filepath.Join(dir, "results.db"), filepath.Join(dir, "report.html"), filepath.Join(dir, "run")
	storetest.WriteCrashedRun(t, run, &storetest.Windows, t0, storetest.CrashD1)
	if code, out, errs := runArgs(t, context.Background(), "results", "ingest", "--store", db, run); code != exitOK {
		t.Fatalf("ingest: exit %d, %s%s", code, out, errs)
	}
	if code, out, errs := runArgs(t, context.Background(), "report", "--store", db, "-o", page); code != exitOK {
		t.Fatalf("report: exit %d, %s%s", code, out, errs)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CRASHED: bugcheck 0x000000D1 (params 0x0000000000000028, 0x0000000000000002, 0x0000000000000000, 0xfffff80312345678), " +
			"detected: heartbeat lost (NoContact) for 60 s, dump: MEMORY.DMP",
		">CRASHED 0x000000D1</a></td>",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
