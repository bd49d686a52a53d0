package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
)

// FactsFile is the run's facts, beside junit.xml and report.json.
const FactsFile = "facts.json"

// Facts describe what a run ran on: every report carries them (facts.json,
// and JUnit properties named "kbharness.<json name>"), and the results
// store classifies each result by them against the KB catalog.
type Facts struct {
	Kbharness string            `json:"kbharness"`         // kbharness version (module version or VCS revision)
	Target    string            `json:"target"`            // -kb.target ("local" if unset)
	Host      string            `json:"host"`              // the target's host name
	Started   time.Time         `json:"started"`           // when the run started (UTC)
	OS        string            `json:"os"`                // "linux" or "windows" (the target's dialect)
	OSName    string            `json:"osName,omitempty"`  // "Microsoft Windows [Version 6.1.7601]", "Linux 6.1.0-13-amd64"
	Build     string            `json:"build,omitempty"`   // Windows: "6.1.7601"; Linux: the kernel release
	UBR       int               `json:"ubr,omitempty"`     // Windows: the update build revision (HKLM\...\CurrentVersion UBR)
	Updates   []string          `json:"updates,omitempty"` // Windows: installed updates ("KB2901197", ...), sorted
	Files     map[string]string `json:"files,omitempty"`   // Windows: file versions of tcpip.sys, netio.sys, tcpipreg.sys, ntoskrnl.exe
	Errors    []string          `json:"errors,omitempty"`  // facts that could not be read, and why
}

// Properties are the facts as JUnit properties, sorted by name.
func (f Facts) Properties() [][2]string {
	p := [][2]string{
		{"kbharness.kbharness", f.Kbharness}, {"kbharness.target", f.Target}, {"kbharness.host", f.Host},
		{"kbharness.started", f.Started.UTC().Format(time.RFC3339)}, {"kbharness.os", f.OS},
		{"kbharness.osName", f.OSName}, {"kbharness.build", f.Build},
	}
	if f.UBR != 0 {
		p = append(p, [2]string{"kbharness.ubr", fmt.Sprint(f.UBR)})
	}
	for _, u := range f.Updates {
		p = append(p, [2]string{"kbharness.update", u})
	}
	for name, v := range f.Files {
		p = append(p, [2]string{"kbharness.file." + name, v})
	}
	for _, e := range f.Errors {
		p = append(p, [2]string{"kbharness.error", e})
	}
	sort.SliceStable(p, func(i, j int) bool { return p[i][0] < p[j][0] })
	return p
}

// WriteFacts writes f to dir/FactsFile.
func WriteFacts(f Facts, dir string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, FactsFile), append(b, '\n'), 0o644)
}

// ReadFacts reads dir/FactsFile strictly: unknown fields are errors.
func ReadFacts(dir string) (Facts, error) {
	var f Facts
	b, err := os.ReadFile(filepath.Join(dir, FactsFile))
	if err != nil {
		return f, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%s: %w", filepath.Join(dir, FactsFile), err)
	}
	return f, nil
}

// AddFactsToJUnit adds f's Properties to every test suite of
// dir/junit.xml.
func AddFactsToJUnit(dir string, f Facts) error {
	path := filepath.Join(dir, "junit.xml")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var suites reporters.JUnitTestSuites
	if err := xml.Unmarshal(b, &suites); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i := range suites.TestSuites {
		for _, p := range f.Properties() {
			suites.TestSuites[i].Properties.Properties = append(suites.TestSuites[i].Properties.Properties, reporters.JUnitProperty{Name: p[0], Value: p[1]})
		}
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(out, '\n')...), 0o644)
}
