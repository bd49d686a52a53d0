package registry_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/suites/framework/inject"
	"github.com/kbharness/kbharness/suites/registry"

	// Every KB package, for its registration (see TestEveryPackageIsImported).
	_ "github.com/kbharness/kbharness/suites/kb287032"
	_ "github.com/kbharness/kbharness/suites/kb2901197"
	_ "github.com/kbharness/kbharness/suites/kb943650"
	_ "github.com/kbharness/kbharness/suites/kb952876"
	_ "github.com/kbharness/kbharness/suites/secondaryip"
)

func ids(ss []registry.Scenario) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

// The registered scenarios are the catalog's, in its order: every
// registered scenario has a catalog entry (Register refuses one without)
// and every catalog entry a registered scenario.
func TestRegistryMatchesCatalog(t *testing.T) {
	if got, want := ids(registry.All()), fixtures.ScenarioIDs(); !slices.Equal(got, want) {
		t.Errorf("registered %v, catalog %v", got, want)
	}
	for _, s := range registry.All() {
		if s.KB.ID != s.ID || len(s.KB.Builds) == 0 {
			t.Errorf("%s: catalog entry not attached: %+v", s.ID, s.KB)
		}
	}
}

// Each package under suites/ with a registry.go is imported above, so a new
// KB package cannot escape TestRegistryMatchesCatalog.
func TestEveryPackageIsImported(t *testing.T) {
	files, err := filepath.Glob("../*/registry.go")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(filepath.Dir(f)) == "registry" })
	if len(files) != len(registry.All()) {
		t.Errorf("%d packages have a registry.go (%v), %d scenarios are registered: import the new package here", len(files), files, len(registry.All()))
	}
}

// Injectors exist, labels start with the id, and the lab is the one the
// scenario's fixture names.
func TestRegistrationsAreConsistent(t *testing.T) {
	for _, s := range registry.All() {
		for _, n := range s.Injectors {
			if !slices.Contains(inject.Names(), n) {
				t.Errorf("%s: unknown injector %q (have %v)", s.ID, n, inject.Names())
			}
		}
		if len(s.Labels) == 0 || s.Labels[0] != s.ID {
			t.Errorf("%s: labels %v do not start with the id", s.ID, s.Labels)
		}
		if st := s.SelfTest; st != nil && (!strings.Contains(st.Labels, s.ID) || len(st.Want) == 0) {
			t.Errorf("%s: self-test %+v selects other specs or wants nothing", s.ID, st)
		}
		data, err := fixtures.ReadEmbedded(s.Fixture)
		if err != nil {
			t.Errorf("%s: %v", s.ID, err)
			continue
		}
		var lab struct{ Lab string }
		if err := yaml.Unmarshal(data, &lab); err != nil || lab.Lab != s.Lab {
			t.Errorf("%s: registered lab %q, %s says %q (%v)", s.ID, s.Lab, s.Fixture, lab.Lab, err)
		}
	}
}

func TestRegisterRefuses(t *testing.T) {
	for _, tc := range []struct {
		s    registry.Scenario
		want string
	}{
		{registry.Scenario{ID: "KB999"}, `registry: scenario "KB999" is not in fixtures/catalog.yaml`},
		{registry.Scenario{ID: "KB287032"}, `registry: scenario "KB287032" registered twice`},
		{registry.Scenario{ID: "KB287032", SelfTest: &registry.SelfTest{Injector: "stall"}},
			`registry: scenario "KB287032": self-test injector "stall" is not among its injectors []`},
	} {
		func() {
			defer func() {
				if got := recover(); got != tc.want {
					t.Errorf("Register(%+v) panicked with %v, want %q", tc.s, got, tc.want)
				}
			}()
			registry.Register(tc.s)
		}()
	}
}
