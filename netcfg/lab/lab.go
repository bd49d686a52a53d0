// Package lab builds kbharness's namespace labs on Linux: the host under test
// and its peers, each in a network namespace kbharness creates itself, joined
// by veth and addressed from a fixtures.Lab. It can instead attach to an
// existing namespace, touching only the interfaces the fixture names; there,
// and on the Windows lab VM, every change goes through an undo journal
// (internal/journal) that a crashed run's successor replays.
//
// Lab namespaces are named "kbh-<pid>-<rand6>-<role>". A run killed with
// kill -9 leaves its namespaces behind; New and Cleanup remove those whose
// owning process is gone, and never touch a live run's lab. To tell a dead
// owner from a new process that reused its pid, New writes a state file
// /run/kbharness/<ID> holding the owner's pid and its start time (field 22 of
// /proc/<pid>/stat); an owner is alive only while /proc/<pid> exists, is not a
// zombie and, when a state file exists, has the recorded start time.
package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg"
)

// Prefix starts the name of every namespace kbharness creates.
const Prefix = "kbh-"

// HostRole is the role name of the host under test.
const HostRole = "host"

// Lab is a running lab.
type Lab struct {
	ID      string        // "kbh-<pid>-<rand6>"; in attach mode, the namespace name
	Fixture *fixtures.Lab // the topology it was built from
	Host    netcfg.Host   // the host under test, bound to its namespace
	// Namespaces maps a role (HostRole, or a peer name from the fixture) to
	// its namespace name under /run/netns. In attach mode it holds HostRole
	// only.
	Namespaces map[string]string
	// Recovered reports the journals of dead runs on this target that
	// Attach (or New on Windows) replayed before starting.
	Recovered []*journal.Result
	owned     bool             // created by us: Close deletes the namespaces
	remote    netcfg.Runner    // the host's commands, on a remote target; nil for this machine
	journal   *journal.Journal // undo log of every change made through Host
	target    *journal.Target  // the unjournaled host, for undoing
	closeOnce sync.Once        // the first Close or Detach wins
	closeErr  error            // its result
}

// Owned reports whether kbharness built the lab (namespaces it creates and
// deletes). Attached and Windows labs are hosts it did not build: defect
// injectors are refused there, and every change is undone from a durable
// journal, also after a crash.
func (l *Lab) Owned() bool { return l.owned }

// Remote reports a host reached over a transport (ssh://, winrm://,
// psdirect://, standin://): it has no namespace here, so what must run on
// the host itself (sockets, the hammer) runs there through Exec, or not at
// all.
func (l *Lab) Remote() bool { return l.remote != nil }

// Transport runs commands on a remote host (a *target.Conn, which also
// copies files, or the stand-ins' runner); nil on this machine.
func (l *Lab) Transport() netcfg.Runner { return l.remote }

// Journal is the lab's undo log: its file, if durable, and its target.
func (l *Lab) Journal() *journal.Journal { return l.journal }

// startJournal snapshots host as the baseline, starts the journal (durable
// in journal.Dir() unless the lab is owned) and journals l.Host.
func (l *Lab) startJournal(ctx context.Context, target string, t *journal.Target) error {
	baseline, err := t.Host.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("taking the baseline of %s: %w", target, err)
	}
	dir := journal.Dir()
	if l.owned {
		dir = ""
	}
	j, err := journal.New(dir, target, baseline)
	if err != nil {
		return err
	}
	l.journal, l.target, l.Host = j, t, j.Wrap(t.Host)
	return nil
}

// Undo reverts every change made through Host, newest first. On a host
// kbharness did not build it then compares the host with its baseline
// (taken before Attach added anything) and fails on any difference: the
// host was not restored.
func (l *Lab) Undo(ctx context.Context) error {
	if l.journal == nil {
		return nil
	}
	res, err := l.journal.Undo(ctx, l.target)
	if err != nil {
		return fmt.Errorf("undoing the changes to %s: %w", l.journal.Target(), err)
	}
	if !l.owned && !res.Residual.Empty() {
		return fmt.Errorf("%s not restored to its baseline after undo %s", l.journal.Target(), res.Residual.Explain("the baseline", "the host"))
	}
	return nil
}

// finish undoes what is left and closes the journal; a journal whose undo
// failed stays on disk for `kbharness cleanup`.
func (l *Lab) finish(ctx context.Context) error {
	if l.journal == nil {
		return nil
	}
	err := l.Undo(ctx)
	return errors.Join(err, l.journal.Close())
}

// AttachTarget opens a host kbharness did not build ("netns:NAME" on Linux,
// "local" on Windows, a remote target anywhere) without a lab fixture, for
// tools that change it outside the suites (kbharness hammer --target, or
// --range on Windows).
// Dead runs' journals for it are replayed first (see Recovered); every
// change made through Host or recorded in Journal is undone by Close, which
// then checks the baseline.
func AttachTarget(ctx context.Context, target string) (*Lab, error) {
	l := &Lab{ID: target, Fixture: &fixtures.Lab{Name: target}, Namespaces: map[string]string{}}
	if name, ok := strings.CutPrefix(target, "netns:"); ok {
		l.Namespaces[HostRole] = name
	}
	if err := l.recoverDead(ctx, target); err != nil {
		return nil, fmt.Errorf("attaching to %s: %w", target, err)
	}
	t, err := OpenTarget(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("attaching to %s: %w", target, err)
	}
	if IsRemote(target) {
		l.remote = t.Run
	}
	if err := l.startJournal(ctx, target, t); err != nil {
		t.Host.Close()
		return nil, fmt.Errorf("attaching to %s: %w", target, err)
	}
	return l, nil
}

// recoverDead replays the journals that dead runs left for target, and
// fails if one leaves the target different from that run's baseline.
func (l *Lab) recoverDead(ctx context.Context, target string) error {
	results, err := journal.Recover(ctx, journal.Dir(), OpenTarget, func(t string) bool { return t == target })
	l.Recovered = results
	if err != nil {
		return err
	}
	for _, r := range results {
		if !r.Clean() {
			return fmt.Errorf("a dead run's changes to %s were undone, but the target still differs from its baseline; check it:\n%s", target, r)
		}
	}
	return nil
}

// Link returns fixture link i.
func (l *Lab) Link(i int) fixtures.Link { return l.Fixture.Links[i] }

// Interface returns the host's interface name on link i.
func (l *Lab) Interface(i int) string { return l.Fixture.Links[i].Interface }

// PeerNamespace returns the namespace of link i's peer ("" in attach mode).
func (l *Lab) PeerNamespace(i int) string { return l.Namespaces[l.Fixture.Links[i].Peer] }

// Gateway returns the peer's first address of the family on link i: the
// gateway scenarios route through. It is the zero Addr if there is none.
func (l *Lab) Gateway(link int, family netcfg.Family) netip.Addr {
	return firstOf(l.Fixture.Links[link].PeerAddresses, family).Addr()
}

// HostAddress returns the host's first address of the family on link i, or
// the zero Prefix.
func (l *Lab) HostAddress(link int, family netcfg.Family) netip.Prefix {
	return firstOf(l.Fixture.Links[link].Addresses, family)
}

// Roles returns HostRole followed by the peer names, in fixture order.
func (l *Lab) Roles() []string {
	roles := []string{HostRole}
	if !l.owned {
		return roles
	}
	seen := map[string]bool{}
	for _, k := range l.Fixture.Links {
		if !seen[k.Peer] {
			seen[k.Peer] = true
			roles = append(roles, k.Peer)
		}
	}
	return roles
}

func firstOf(ps []netip.Prefix, family netcfg.Family) netip.Prefix {
	for _, p := range ps {
		if netcfg.FamilyOf(p) == family {
			return p
		}
	}
	return netip.Prefix{}
}

// Info describes a group of kbh- namespaces sharing one lab ID, as List
// finds them under /run/netns.
type Info struct {
	ID         string   // "kbh-<pid>-<rand6>"
	PID        int      // owner's pid, from the name
	Alive      bool     // owner still running (see the package doc)
	Kept       bool     // left for manual use by `kbharness lab up` without --hold
	Namespaces []string // namespace names, sorted
	StateFile  string   // path of its state file, "" if none
}

// ParseNamespace splits a kbharness namespace name "kbh-<pid>-<rand>-<role>"
// into its lab ID "kbh-<pid>-<rand>" and pid. ok is false for names that do
// not start with "kbh-<pid>-".
func ParseNamespace(name string) (id string, pid int, ok bool) {
	rest, found := strings.CutPrefix(name, Prefix)
	if !found {
		return "", 0, false
	}
	pidStr, tail, found := strings.Cut(rest, "-")
	if !found || tail == "" {
		return "", 0, false
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 || pidStr != strconv.Itoa(pid) {
		return "", 0, false
	}
	token, _, _ := strings.Cut(tail, "-")
	return fmt.Sprintf("%s%d-%s", Prefix, pid, token), pid, true
}
