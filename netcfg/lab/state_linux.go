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
// files. It skips kept labs and never touches a live owner's namespaces. It
// returns the namespace names and state files it removed.
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
// `kbharness lab down` and `kbharness cleanup --all`).
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
	for _, ns := range in.Namespaces {
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
