//go:build linux

package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// NetnsDir is where `ip netns add` bind-mounts named namespaces.
const NetnsDir = "/run/netns"

// StateDir holds one state file per lab built by New, named by lab ID.
const StateDir = "/run/kbharness"

// state is the content of a lab's state file.
type state struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"` // owner's start time, clock ticks after boot (/proc/<pid>/stat field 22)
	Keep  bool   `json:"keep"`  // left for manual use: Cleanup skips it
}

func statePath(id string) string { return filepath.Join(StateDir, id) }

func writeState(id string, st state) error {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return fmt.Errorf("writing lab state: %w", err)
	}
	data, _ := json.Marshal(st)
	tmp := statePath(id) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing lab state: %w", err)
	}
	if err := os.Rename(tmp, statePath(id)); err != nil {
		return fmt.Errorf("writing lab state: %w", err)
	}
	return nil
}

func readState(id string) (state, error) {
	var st state
	data, err := os.ReadFile(statePath(id))
	if err != nil {
		return st, fmt.Errorf("reading lab state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("reading lab state %s: %w", statePath(id), err)
	}
	return st, nil
}

func removeState(id string) error {
	if err := os.Remove(statePath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing lab state: %w", err)
	}
	return nil
}

// procStart reads /proc/<pid>/stat: the process start time (field 22) and
// whether it is a zombie (state Z or X). ok is false if there is no such
// process.
func procStart(pid int) (start uint64, zombie, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false, true
	}
	fields := strings.Fields(string(data[i+1:])) // fields[0] is field 3
	if len(fields) < 20 {
		return 0, false, true
	}
	start, _ = strconv.ParseUint(fields[19], 10, 64)
	return start, fields[0] == "Z" || fields[0] == "X", true
}

func selfStart() uint64 {
	start, _, _ := procStart(os.Getpid())
	return start
}

// alive reports whether the owner of a lab runs: its pid exists and is not a
// zombie and, if the lab has a state file, has the recorded start time.
func alive(pid int, st *state) bool {
	start, zombie, ok := procStart(pid)
	if !ok || zombie {
		return false
	}
	return st == nil || st.Start == 0 || st.Start == start
}

// List returns the kbh- namespaces under /run/netns grouped by lab ID, and
// labs that have a state file but no namespace left, sorted by ID.
func List() ([]Info, error) {
	entries, err := os.ReadDir(NetnsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	byID := map[string]*Info{}
	get := func(id string, pid int) *Info {
		if byID[id] == nil {
			byID[id] = &Info{ID: id, PID: pid}
		}
		return byID[id]
	}
	for _, e := range entries {
		if id, pid, ok := ParseNamespace(e.Name()); ok {
			in := get(id, pid)
			in.Namespaces = append(in.Namespaces, e.Name())
		}
	}
	states, err := os.ReadDir(StateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing lab states: %w", err)
	}
	for _, e := range states {
		if id, pid, ok := ParseNamespace(e.Name() + "-"); ok && id == e.Name() && !strings.Contains(id, ".") {
			get(id, pid).StateFile = statePath(id)
		}
	}
	infos := make([]Info, 0, len(byID))
	for _, in := range byID {
		var st *state
		if in.StateFile != "" {
			if s, err := readState(in.ID); err == nil {
				st = &s
				in.Kept = s.Keep
			}
		}
		in.Alive = alive(in.PID, st)
		sort.Strings(in.Namespaces)
		infos = append(infos, *in)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].ID < infos[j].ID })
	return infos, nil
}

// Cleanup removes the leftovers of dead runs: every kbh-<pid>-* namespace
// whose owner is no longer alive (see the package doc) and stale state
// files. Processes still running in such a namespace (a helper that
// outlived its owner) are killed first, see Down. It skips kept labs and
// never touches a live owner's namespaces. It returns the processes it
// killed ("killed pid N (comm) in NAMESPACE"), then the namespace names and
// state files it removed.
func Cleanup(ctx context.Context) (removed []string, err error) {
	infos, err := List()
	if err != nil {
		return nil, fmt.Errorf("cleaning up labs: %w", err)
	}
	var errs []error
	for _, in := range infos {
		if in.Alive || in.Kept {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		r, err := remove(in)
		removed = append(removed, r...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("cleaning up labs: %w", errors.Join(errs...))
	}
	return removed, nil
}

// Down removes one lab's namespaces and state file whoever owns it (used by
// `kbharness lab down` and `kbharness cleanup --all`). Before deleting a
// namespace it SIGKILLs every process in it (`ip netns pids NAME | xargs
// kill -9`) and waits up to KillWindow for them to be gone: deleting the
// name would otherwise leave them running in an unnamed namespace that no
// later cleanup can find. The returned list names the killed processes
// ("killed pid N (comm) in NAMESPACE"), then what was removed.
func Down(ctx context.Context, id string) (removed []string, err error) {
	infos, err := List()
	if err != nil {
		return nil, fmt.Errorf("removing lab %s: %w", id, err)
	}
	for _, in := range infos {
		if in.ID == id {
			r, err := remove(in)
			if err != nil {
				return r, fmt.Errorf("removing lab %s: %w", id, err)
			}
			return r, nil
		}
	}
	return nil, fmt.Errorf("removing lab %s: no such lab in %s or %s", id, NetnsDir, StateDir)
}

func remove(in Info) (removed []string, err error) {
	var errs []error
	killed, stuck, err := killInNamespaces(in.Namespaces, KillWindow)
	removed = append(removed, killed...)
	if err != nil {
		errs = append(errs, err)
	}
	for _, ns := range in.Namespaces {
		if stuck[ns] {
			continue // deleting the name would hide the survivors: keep it for a later cleanup
		}
		if err := deleteNamespace(ns); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, ns)
	}
	if in.StateFile != "" && len(errs) == 0 {
		if err := removeState(in.ID); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, in.StateFile)
		}
	}
	return removed, errors.Join(errs...)
}

// deleteNamespace deletes a named namespace like `ip netns delete`:
// umount2(MNT_DETACH) and unlink of /run/netns/NAME, then checks it is gone.
// A namespace already gone, or already unmounted by an interrupted delete,
// is not an error: a concurrent Cleanup may have won the race.
func deleteNamespace(name string) error {
	p := filepath.Join(NetnsDir, name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return fmt.Errorf("deleting namespace %s: unmounting %s: %w", name, p, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting namespace %s: %w", name, err)
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting namespace %s: %s still exists", name, p)
	}
	return nil
}

// KillWindow bounds how long Cleanup and Down wait for the processes they
// SIGKILL in a lab's namespaces to be gone.
const KillWindow = 5 * time.Second

// nsProc is a process found in a namespace.
type nsProc struct {
	pid   int
	start uint64 // /proc/<pid>/stat field 22: tells a reused pid apart
	comm  string
	ns    string
}

func (p nsProc) String() string { return fmt.Sprintf("pid %d (%s) in %s", p.pid, p.comm, p.ns) }

// gone reports whether p no longer runs: no such pid, a zombie (it has
// released its namespaces; pid 1 may never reap it), or another process
// that reused the pid.
func (p nsProc) gone() bool {
	start, zombie, ok := procStart(p.pid)
	return !ok || zombie || start != p.start
}

// namespaceProcs returns the processes whose network namespace is the named
// one, like `ip netns pids NAME`: those whose /proc/<pid>/ns/net has the
// device and inode of /run/netns/NAME. This process is never listed.
func namespaceProcs(name string) ([]nsProc, error) {
	var want unix.Stat_t
	if err := unix.Stat(filepath.Join(NetnsDir, name), &want); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("finding processes in namespace %s: %w", name, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("finding processes in namespace %s: %w", name, err)
	}
	var procs []nsProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		var st unix.Stat_t
		// Fails for a process gone meanwhile, or a zombie (no namespaces).
		if unix.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st) != nil || st.Dev != want.Dev || st.Ino != want.Ino {
			continue
		}
		start, zombie, ok := procStart(pid)
		if !ok || zombie {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		procs = append(procs, nsProc{pid: pid, start: start, comm: strings.TrimSpace(string(comm)), ns: name})
	}
	return procs, nil
}

// killInNamespaces SIGKILLs every process in the named namespaces and polls
// /proc every 10ms, for up to window, until all are gone. It returns one
// "killed pid N (comm) in NAMESPACE" line per process gone, and the
// namespaces in which a process could not be listed or is still running.
func killInNamespaces(names []string, window time.Duration) (killed []string, stuck map[string]bool, err error) {
	stuck = map[string]bool{}
	var errs []error
	var procs []nsProc
	for _, ns := range names {
		p, err := namespaceProcs(ns)
		if err != nil {
			errs = append(errs, err)
			stuck[ns] = true
			continue
		}
		procs = append(procs, p...)
	}
	for _, p := range procs {
		if err := unix.Kill(p.pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
			errs = append(errs, fmt.Errorf("killing %s: %w", p, err))
		}
	}
	deadline := time.Now().Add(window)
	for {
		left := procs[:0]
		for _, p := range procs {
			if p.gone() {
				killed = append(killed, "killed "+p.String())
			} else {
				left = append(left, p)
			}
		}
		procs = left
		if len(procs) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range procs {
		errs = append(errs, fmt.Errorf("%s still runs %s after SIGKILL", p, window))
		stuck[p.ns] = true
	}
	return killed, stuck, errors.Join(errs...)
}
