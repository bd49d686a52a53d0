// Package lab builds kbharness's namespace labs on Linux: the host under test
// and its peers, each in a network namespace kbharness creates itself, joined
// by veth and addressed from a fixtures.Lab. It can instead attach to an
// existing namespace, touching only the interfaces the fixture names.
//
// Lab namespaces are named "kbh-<pid>-<random>-<role>". A run killed with
// kill -9 leaves its namespaces behind; New and Cleanup remove those whose
// owning pid is gone, and never touch a live run's lab.
package lab

import (
	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// Prefix starts the name of every namespace kbharness creates.
const Prefix = "kbh-"

// HostRole is the role name of the host under test.
const HostRole = "host"

// Lab is a running lab.
type Lab struct {
	ID      string        // "kbh-<pid>-<random>"
	Fixture *fixtures.Lab // the topology it was built from
	Host    netcfg.Host   // the host under test, bound to its namespace
	// Namespaces maps a role (HostRole, or a peer name from the fixture) to
	// its namespace name under /run/netns.
	Namespaces map[string]string
	owned      bool // created by us: Close deletes the namespaces
}
