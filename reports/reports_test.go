package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

func spec(text string, state types.SpecState, msg string, labels ...string) types.SpecReport {
	return types.SpecReport{
		LeafNodeType:   types.NodeTypeIt,
		LeafNodeText:   text,
		LeafNodeLabels: labels,
		State:          state,
		Failure:        types.Failure{Message: msg},
	}
}

func TestSummaryGivesAVerdictPerScenario(t *testing.T) {
	r := types.Report{
		StartTime: time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC),
		RunTime:   3 * time.Second,
		SpecReports: types.SpecReports{
			spec("keeps the route (netlink)", types.SpecStatePassed, "", "secondary-ip-route-loss", "netlink"),
			spec("keeps the route (iproute2)", types.SpecStateFailed, "route default via 192.0.2.1 lost\nmore detail", "secondary-ip-route-loss", "iproute2"),
			spec("keeps the route (netsh)", types.SpecStateSkipped, "mechanism netsh unsupported on this host", "secondary-ip-route-loss", "netsh"),
			spec("tcpipreg answers", types.SpecStateSkipped, "Windows-only: unsupported on this host", "KB952876"),
			spec("hammer", types.SpecStateSkipped, "", "KB2901197"),
		},
	}
	var b strings.Builder
	WriteSummary(&b, r)
	out := b.String()
	for _, want := range []string{
		"secondary-ip-route-loss   FAIL  passed 1  failed 1  skipped 1",
		"  FAIL keeps the route (iproute2): route default via 192.0.2.1 lost\n",
		"  skip x1: mechanism netsh unsupported on this host",
		"KB952876                  SKIP  passed 0  failed 0  skipped 1",
		"KB2901197                 SKIP  passed 0  failed 0  skipped 1\n  skip x1: not selected (label filter or focus)",
		"KB287032                  not run",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteProducesEveryFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := Write(types.Report{SuiteDescription: "kbharness"}, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range Files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

// With a writable default or a named directory, Place uses it and says nothing.
func TestPlaceUsesWritableDirectories(t *testing.T) {
	named := filepath.Join(t.TempDir(), "named")
	def := filepath.Join(t.TempDir(), "out", "reports", "20261129-120000")
	for _, tc := range []struct{ dir, want string }{{named, named}, {"", def}} {
		got, note, err := place(tc.dir, def)
		if err != nil || got != tc.want || note != "" {
			t.Errorf("place(%q, %q) = %q, %q, %v; want %q, no note", tc.dir, def, got, note, err, tc.want)
		}
		if st, err := os.Stat(got); err != nil || !st.IsDir() {
			t.Errorf("%s not created: %v", got, err)
		}
	}
}

// A failed BeforeSuite skips every spec: the summary says why.
func TestSummaryShowsSuiteLevelFailures(t *testing.T) {
	r := types.Report{SpecReports: types.SpecReports{{
		LeafNodeType: types.NodeTypeBeforeSuite,
		State:        types.SpecStateFailed,
		Failure:      types.Failure{Message: "bad kbharness suite settings (nothing was run):\n-kb.inject / KBHARNESS_INJECT: unknown injector \"nosuch\""},
	}}}
	var b strings.Builder
	WriteSummary(&b, r)
	want := "FAIL [BeforeSuite] bad kbharness suite settings (nothing was run):\n  -kb.inject / KBHARNESS_INJECT: unknown injector \"nosuch\"\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}

// A failure's line is its own message, not Gomega's "Failed after 0.010s."
// nor a bare "Expected".
func TestSummaryShowsEachFailuresOwnMessage(t *testing.T) {
	lost := "the persistent route was deleted when 192.0.2.21/24 was deleted: route-removed default via 192.0.2.1 dev lan0 proto static (during step \"after deleting 192.0.2.21/24\" at 05:00:01.250)"
	r := types.Report{SpecReports: types.SpecReports{
		spec("keeps the route (netlink)", types.SpecStateFailed,
			"Failed after 0.010s.\n"+lost+"\nExpected\n    <chan netcfg.Event | 0xc000123456>: 0xc000123456\nnot to receive anything",
			"secondary-ip-route-loss"),
		spec("tables are history independent", types.SpecStateFailed,
			"Expected\n    <bool>: false\nto be true", "KB287032"),
		spec("hammer", types.SpecStateFailed,
			"Timed out after 2.000s.\nThe function passed to Eventually returned the following error:\n    <*errors.errorString | 0xc000010250>: \n    port range not narrowed\n    {s: \"port range not narrowed\"}",
			"KB2901197"),
		spec("forwards", types.SpecStateFailed, "\n\nhost stopped responding: "+strings.Repeat("x", 300), "KB943650"),
	}}
	var b strings.Builder
	WriteSummary(&b, r)
	for _, want := range []string{
		"  FAIL keeps the route (netlink): " + lost + "\n",
		"  FAIL tables are history independent: Expected false to be true\n",
		"  FAIL hammer: The function passed to Eventually returned the following error: port range not narrowed\n",
		"  FAIL forwards: host stopped responding: " + strings.Repeat("x", maxHeadline-len("host stopped responding: ")-3) + "...\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	t.Logf("summary:\n%s", b.String())
}
