// Package registry is where each KB scenario package under suites/ says, once,
// what it is: its id, fixtures, Ginkgo labels, defect injectors and the
// self-test's expectation. A KB package registers in an init(); the
// self-test reads the registry instead of keeping its own table.
//
// The registry imports only fixtures, so the KB packages import it without a
// cycle. Its contents are whatever packages a binary links, so a process
// that only reads reports (reports, reports/store, kbharness) takes the
// scenario ids from the catalog instead (fixtures.ScenarioIDs): Register
// refuses an id the catalog lacks, and this package's tests check that the
// registered scenarios and the catalog's are the same set.
package registry

import (
	"fmt"
	"slices"
	"sync"

	"github.com/kbharness/kbharness/fixtures"
)

// Scenario is what a KB package registers.
type Scenario struct {
	// ID is the scenario id and Ginkgo label, an id of fixtures/catalog.yaml.
	ID string
	// Fixture is the scenario's embedded fixture ("scenarios/kb287032.yaml").
	Fixture string
	// Lab is the lab fixture the scenario runs on ("multihomed"); "" when
	// it runs on the host itself.
	Lab string
	// Labels are the Ginkgo labels of its specs, ID first.
	Labels []string
	// Injectors are the defect injectors (-kb.inject) that emulate its
	// defect.
	Injectors []string
	// SelfTest is the self-test's proof that its specs can go red; nil for
	// none (a Windows-only scenario).
	SelfTest *SelfTest
	// KB is its catalog entry, with the fixed builds: set by Register.
	KB fixtures.KB
}

// SelfTest is a self-test expectation: the suite binary run with Injector
// on the specs Labels selects must fail, its output saying each of Want.
type SelfTest struct {
	Injector string   // one of the scenario's Injectors
	Labels   string   // Ginkgo label filter
	Want     []string // what the failure output must say
}

var (
	mu        sync.Mutex
	scenarios = map[string]Scenario{}
)

// Register adds a scenario, with its catalog entry. It panics on an id the
// catalog lacks, on a duplicate id and on a self-test injector the scenario
// does not list: programming errors caught at init.
func Register(s Scenario) {
	kb, ok := fixtures.Lookup(s.ID)
	if !ok {
		panic(fmt.Sprintf("registry: scenario %q is not in fixtures/catalog.yaml", s.ID))
	}
	if s.SelfTest != nil && !slices.Contains(s.Injectors, s.SelfTest.Injector) {
		panic(fmt.Sprintf("registry: scenario %q: self-test injector %q is not among its injectors %v", s.ID, s.SelfTest.Injector, s.Injectors))
	}
	s.KB = kb
	mu.Lock()
	defer mu.Unlock()
	if _, dup := scenarios[s.ID]; dup {
		panic(fmt.Sprintf("registry: scenario %q registered twice", s.ID))
	}
	scenarios[s.ID] = s
}

// All returns the registered scenarios in catalog order.
func All() []Scenario {
	mu.Lock()
	defer mu.Unlock()
	var out []Scenario
	for _, id := range fixtures.ScenarioIDs() {
		if s, ok := scenarios[id]; ok {
			out = append(out, s)
		}
	}
	return out
}
