package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

func TestFactsInJUnitAndJSON(t *testing.T) {
	dir := t.TempDir()
	if err := reporters.GenerateJUnitReport(types.Report{SuiteDescription: "kbharness"}, filepath.Join(dir, "junit.xml")); err != nil {
		t.Fatal(err)
	}
	f := Facts{Kbharness: "v0.1.0", Target: "ssh://root@192.0.2.20", Host: "win7", Started: time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC),
		OS: "windows", OSName: "Microsoft Windows 7", Build: "6.1.7601", UBR: 24000, Updates: []string{"KB2901197"},
		Files: map[string]string{"tcpip.sys": "6.1.7601.24000"}}
	if err := WriteFacts(f, dir); err != nil {
		t.Fatal(err)
	}
	if err := AddFactsToJUnit(dir, f); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	for _, want := range []string{`name="kbharness.build" value="6.1.7601"`, `name="kbharness.ubr" value="24000"`, `name="kbharness.update" value="KB2901197"`, `name="kbharness.file.tcpip.sys" value="6.1.7601.24000"`, `name="SuiteSucceeded"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("junit.xml lacks %s:\n%s", want, b)
		}
	}
	got, err := ReadFacts(dir)
	if err != nil || got.UBR != 24000 || got.Files["tcpip.sys"] != "6.1.7601.24000" || !got.Started.Equal(f.Started) {
		t.Errorf("ReadFacts = %+v, %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, FactsFile), []byte(`{"os":"windows","bogus":1}`), 0o644)
	if _, err := ReadFacts(dir); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("an unknown field: %v", err)
	}
}
