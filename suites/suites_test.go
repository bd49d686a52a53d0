// The kbharness suite binary: every KB area's specs, imported for their side
// effect, in one Ginkgo suite. Run it with `go test ./suites` or the ginkgo
// CLI; filter by scenario with -ginkgo.label-filter=KB287032.
package suites

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/reports"
	"github.com/kbharness/kbharness/reports/store"
	"github.com/kbharness/kbharness/suites/framework"

	_ "github.com/kbharness/kbharness/suites/hostcheck"
	_ "github.com/kbharness/kbharness/suites/kb287032"
	_ "github.com/kbharness/kbharness/suites/kb2901197"
	_ "github.com/kbharness/kbharness/suites/kb943650"
	_ "github.com/kbharness/kbharness/suites/kb952876"
	_ "github.com/kbharness/kbharness/suites/secondaryip"
)

func TestSuites(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kbharness")
}

// A bad suite setting (an unknown -kb.inject name, say) fails the run once,
// here, before any spec builds a lab.
var _ = BeforeSuite(func() {
	if err := framework.CheckOptions(); err != nil {
		Fail(err.Error())
	}
	if t := framework.Options.Target; lab.IsRemote(t) && !strings.HasPrefix(t, lab.StandinScheme) {
		info, err := framework.ProbeTarget()
		if err != nil {
			Fail(fmt.Sprintf("target %s (nothing was run): %v", t, err))
		}
		fmt.Fprintf(GinkgoWriter, "target %s: %s\n", t, info)
		AddReportEntry("target", fmt.Sprintf("%s: %s", t, info))
	}
	facts := runFacts()
	AddReportEntry("kbharness facts", facts)
})

// facts are the run's facts, read once (reports.Facts).
var facts *reports.Facts

func runFacts() reports.Facts {
	if facts == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		f := framework.RunFacts(ctx)
		facts = &f
	}
	return *facts
}

// Reports go to -kb.report-dir, else the default directory, with the
// run's facts (facts.json, JUnit properties, and in report.json the
// BeforeSuite's entry "kbharness facts": the target's OS, build and file
// versions); when the default is not writable (a non-root run under a
// root-owned out/), to a directory under the system's temporary directory,
// with a note saying so and how to choose: the run still passes.
var _ = ReportAfterSuite("kbharness reports", func(r Report) {
	dir, note, err := reports.Place(framework.Options.ReportDir, time.Now())
	if note != "" {
		fmt.Fprintf(GinkgoWriter, "%s\n", note)
		fmt.Printf("kbharness: %s\n", note)
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(reports.Write(r, dir)).To(Succeed())
	f := runFacts()
	Expect(reports.WriteFacts(f, dir)).To(Succeed())
	Expect(reports.AddFactsToJUnit(dir, f)).To(Succeed())
	fmt.Fprintf(GinkgoWriter, "run facts: %s %s build %s (%d errors)\n", f.OS, f.OSName, f.Build, len(f.Errors))
	if path := framework.Options.ResultsStore; path != "" {
		Expect(ingest(path, dir)).To(Succeed())
	}
	fmt.Fprintf(GinkgoWriter, "reports written to %s (%v)\n", dir, reports.Files)
	fmt.Printf("kbharness: reports written to %s\n", dir)
})

// ingest adds the run in dir to the results store at path.
func ingest(path, dir string) error {
	s, err := store.Open(path)
	if err != nil {
		return err
	}
	defer s.Close()
	done, err := s.Ingest(dir)
	for _, d := range done {
		fmt.Printf("kbharness: results store %s: %s\n", path, d)
	}
	return err
}
