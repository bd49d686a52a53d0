package reports

import "github.com/kbharness/kbharness/fixtures"

// Classify classifies a scenario's result on the run described by f against
// the KB catalog (fixtures.Classify): REGRESSION for a failure on a build
// carrying the fix, "expected: defect present" for one on a build without,
// the plain outcome off Windows, and so on. The UBR is not used (see
// fixtures.KB.Status).
func Classify(scenario string, f Facts, failed bool) fixtures.Verdict {
	return fixtures.Classify(scenario, fixtures.Platform{OS: f.OS, Build: f.Build, Files: f.Files, Updates: f.Updates}, failed)
}
