package framework

import (
	"flag"
	"os"
	"strings"
)

// Options are the suite binary's own settings. Each flag defaults to an
// environment variable so they work the same under `go test`, the ginkgo CLI
// and a copied suite binary:
//
//	-kb.netns / KBHARNESS_NETNS            attach to this existing namespace instead of building a lab
//	-kb.lab-dir / KBHARNESS_LAB_DIR        directory whose NAME.yaml replaces the embedded lab NAME
//	-kb.inject / KBHARNESS_INJECT          comma-separated defect injectors to start in every lab
//	-kb.report-dir / KBHARNESS_REPORT_DIR  where JUnit, JSON and summary reports go
var Options struct {
	Netns     string
	LabDir    string
	Inject    string
	ReportDir string
}

func init() {
	flag.StringVar(&Options.Netns, "kb.netns", os.Getenv("KBHARNESS_NETNS"),
		"attach to this existing network namespace (a real lab host) instead of building a namespace lab; only the fixture's interfaces are touched")
	flag.StringVar(&Options.LabDir, "kb.lab-dir", os.Getenv("KBHARNESS_LAB_DIR"),
		"directory of lab fixtures; NAME.yaml there replaces the embedded lab NAME")
	flag.StringVar(&Options.Inject, "kb.inject", os.Getenv("KBHARNESS_INJECT"),
		"comma-separated defect injectors to start in every lab (proof that the suites can fail); see inject.Names()")
	flag.StringVar(&Options.ReportDir, "kb.report-dir", os.Getenv("KBHARNESS_REPORT_DIR"),
		"directory for junit.xml, report.json and summary.txt (default: out/reports/<time> under the module root, else ./kbharness-reports/<time>)")
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
