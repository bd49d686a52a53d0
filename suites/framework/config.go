package framework

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/netcfg/target"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

// Options are the suite binary's own settings. Each flag defaults to an
// environment variable so they work the same under `go test`, the ginkgo CLI
// and a copied suite binary:
//
//	-kb.target / KBHARNESS_TARGET          the host: local (namespace labs; Windows: this machine), netns:NAME, ssh://, winrm://, psdirect://, standin://
//	-kb.ssh-identity, -kb.ssh-known-hosts, -kb.password-file, -kb.poll  how targets are reached (package netcfg/target)
//	-kb.lab-dir / KBHARNESS_LAB_DIR        directory whose NAME.yaml replaces the embedded lab NAME
//	-kb.inject / KBHARNESS_INJECT          comma-separated defect injectors to start in every lab
//	-kb.report-dir / KBHARNESS_REPORT_DIR  where JUnit, JSON and summary reports go
//	-kb.hammer-agent / KBHARNESS_HAMMER_AGENT  the legacy hammer agent (agent/hammer, a Windows .exe) for remote Windows hosts
//	-kb.results-store / KBHARNESS_RESULTS_STORE  a results store (SQLite file) the run ingests itself into when it ends
var Options struct {
	Target       string
	LabDir       string
	Inject       string
	ReportDir    string
	HammerAgent  string
	ResultsStore string
}

func init() {
	flag.StringVar(&Options.Target, "kb.target", os.Getenv("KBHARNESS_TARGET"),
		"the host the suites run against: local (the default: namespace labs built here; on Windows this machine), netns:NAME (attach to an existing namespace, a real lab host: only the fixture's interfaces are touched), ssh://user@host[:port], winrm://user@host[:port], psdirect://VMNAME?user=NAME (probed on connect), or "+lab.StandinScheme+"HOST:PORT (the Windows command stand-ins' server); the lab fixture names the host's adapters")
	target.Default.Register(flag.CommandLine, "kb.")
	flag.StringVar(&Options.ResultsStore, "kb.results-store", os.Getenv("KBHARNESS_RESULTS_STORE"),
		"ingest this run into the results store at this path (SQLite, as kbharness results ingest) when it ends")
	flag.StringVar(&Options.HammerAgent, "kb.hammer-agent", os.Getenv("KBHARNESS_HAMMER_AGENT"),
		"the legacy hammer agent (agent/hammer built with mingw-w64) that KB2901197 copies to and runs on a remote Windows host")
	flag.StringVar(&Options.LabDir, "kb.lab-dir", os.Getenv("KBHARNESS_LAB_DIR"),
		"directory of lab fixtures; NAME.yaml there replaces the embedded lab NAME")
	flag.StringVar(&Options.Inject, "kb.inject", os.Getenv("KBHARNESS_INJECT"),
		"comma-separated defect injectors to start in every lab (proof that the suites can fail): "+strings.Join(inject.Names(), ", ")+"; an unknown name fails the run before any lab is built")
	flag.StringVar(&Options.ReportDir, "kb.report-dir", os.Getenv("KBHARNESS_REPORT_DIR"),
		"directory for junit.xml, report.json and summary.txt (default: out/reports/<time> under the module root, else ./kbharness-reports/<time>)")
}

// CheckOptions validates Options before any spec runs: the suite's
// BeforeSuite calls it, so that a bad setting fails the run once, before a
// lab is built, instead of failing every spec. Every -kb.inject name must be
// a registered injector (inject.Names), and injectors need a lab kbharness
// builds (no -kb.target but local, not a Windows host); -kb.lab-dir must be a
// directory.
func CheckOptions() error {
	var errs []error
	known := inject.Names()
	names := Injectors()
	for _, n := range names {
		if !slices.Contains(known, n) {
			errs = append(errs, fmt.Errorf("-kb.inject / KBHARNESS_INJECT: unknown injector %q (known: %s)", n, strings.Join(known, ", ")))
		}
	}
	if len(names) > 0 {
		switch {
		case Options.Target != "" && Options.Target != target.Local:
			errs = append(errs, fmt.Errorf("-kb.inject / KBHARNESS_INJECT with -kb.target / KBHARNESS_TARGET %q: injectors run only in namespace labs kbharness builds, never on a host it did not build", Options.Target))
		case TargetDialect() == netcfg.DialectWindows:
			errs = append(errs, errors.New("-kb.inject / KBHARNESS_INJECT on Windows: injectors run only in namespace labs kbharness builds (Linux)"))
		}
	}
	if t := Options.Target; t != "" && !strings.HasPrefix(t, lab.StandinScheme) {
		if _, err := target.Parse(t); err != nil {
			errs = append(errs, fmt.Errorf("-kb.target / KBHARNESS_TARGET: %w", err))
		}
	}
	if d := Options.LabDir; d != "" {
		if st, err := os.Stat(d); err != nil {
			errs = append(errs, fmt.Errorf("-kb.lab-dir / KBHARNESS_LAB_DIR: %w", err))
		} else if !st.IsDir() {
			errs = append(errs, fmt.Errorf("-kb.lab-dir / KBHARNESS_LAB_DIR %s: not a directory", d))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bad kbharness suite settings (nothing was run):\n%w", err)
	}
	return nil
}

// Injectors returns the injector names asked for with -kb.inject.
func Injectors() []string {
	var out []string
	for _, n := range strings.Split(Options.Inject, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}
