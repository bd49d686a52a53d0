// Package journal is kbharness's crash-safe undo log for hosts it did not
// build: a namespace attached with -kb.target netns:NAME, the local Windows
// lab VM, and remote guests (the journal stays on the controller). Before each change the inverse is appended to the
// journal file and fsynced; at a normal end the journal is replayed newest
// first and deleted. When the owner dies (kill -9, a crash, a second Ctrl-C)
// the file stays behind, and `kbharness cleanup` or the next run replays it
// (Recover), then compares the target with the baseline snapshot the journal
// holds and reports any residual difference.
//
// The file is JSON lines: a header (owner, target, baseline) and one undo
// operation a line. The owner holds an exclusive lock on it (flock,
// LockFileEx) for its whole life, so "the owner is dead" is exactly "the lock
// can be taken", whatever became of its pid. Replays are idempotent and
// guarded by the baseline: an address or route the baseline holds is never
// deleted, one it lacks is never added. A kill during recovery leaves the
// file for the next recovery.
//
// Labs kbharness built use the same operations in memory (New with an empty
// dir): their undo runs the same code, and deleting the namespaces is their
// crash safety.
package journal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kbharness/kbharness/netcfg"
)

// Suffix ends the name of every journal file in the state directory.
const Suffix = ".journal"

// version is the file format's version, the header's first field.
const version = 1

// Kind is what an undo operation does.
type Kind string

const (
	DeleteAddress Kind = "delete-address" // undoes an added address
	AddAddress    Kind = "add-address"    // undoes a deleted address
	DeleteRoute   Kind = "delete-route"   // undoes an added route
	AddRoute      Kind = "add-route"      // undoes a deleted route
	Run           Kind = "run"            // runs Argv on the target, e.g. to restore a setting
)

// Op is one undo operation.
type Op struct {
	Kind      Kind                `json:"kind"`
	Mechanism netcfg.Mechanism    `json:"mechanism,omitempty"`
	Address   *netcfg.AddressSpec `json:"address,omitempty"`
	Route     *netcfg.RouteSpec   `json:"route,omitempty"`
	// Argv is a Run's command. A Run with an Address deletes that address
	// (DeleteIPAddress of its NTE context): it runs only while the address
	// is there and not in the baseline.
	Argv []string `json:"argv,omitempty"`
	// Undoes says which change the operation undoes, for people reading
	// the journal or cleanup's output.
	Undoes string `json:"undoes"`
}

func (o Op) String() string {
	switch {
	case o.Kind == Run && o.Address != nil:
		return fmt.Sprintf("%s %s (deletes %s dev %s)", o.Kind, o.Undoes, o.Address.Prefix, o.Address.Interface)
	case o.Address != nil:
		return fmt.Sprintf("%s %s dev %s (%s)", o.Kind, o.Address.Prefix, o.Address.Interface, o.Mechanism)
	case o.Route != nil:
		return fmt.Sprintf("%s %s (%s)", o.Kind, routeText(*o.Route), o.Mechanism)
	}
	return fmt.Sprintf("%s %q", o.Kind, o.Argv)
}

func routeText(r netcfg.RouteSpec) string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	if r.Interface != "" {
		s += " dev " + r.Interface
	}
	if r.Persistent {
		s += " persistent"
	}
	return s
}

// validate checks an operation read back from a file.
func (o Op) validate() error {
	switch o.Kind {
	case DeleteAddress, AddAddress:
		if o.Address == nil || !o.Address.Prefix.IsValid() || o.Address.Interface == "" {
			return fmt.Errorf("%s without a valid address and interface", o.Kind)
		}
	case DeleteRoute, AddRoute:
		if o.Route == nil || !o.Route.Dst.IsValid() {
			return fmt.Errorf("%s without a valid route", o.Kind)
		}
	case Run:
		if len(o.Argv) == 0 {
			return errors.New("run without argv")
		}
		if o.Address != nil && (!o.Address.Prefix.IsValid() || o.Address.Interface == "") {
			return errors.New("run guarded by an invalid address")
		}
	default:
		return fmt.Errorf("unknown kind %q", o.Kind)
	}
	if o.Kind != Run && o.Mechanism == "" {
		return fmt.Errorf("%s without a mechanism", o.Kind)
	}
	return nil
}

// Owner is the process that made the changes.
type Owner struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"` // the process's start time; zero if unknown
	Command string    `json:"command"` // os.Args[0]
}

// Header is a journal's first line.
type Header struct {
	Version  int              `json:"version"`
	Target   string           `json:"target"` // e.g. "netns:lab1", "local"
	Owner    Owner            `json:"owner"`
	Created  time.Time        `json:"created"`
	Baseline *netcfg.Snapshot `json:"baseline"` // the target before the first change
}

// Journal is an open undo log of one target, owned by this process.
type Journal struct {
	mu     sync.Mutex
	path   string // "" for an in-memory journal
	file   *os.File
	header Header
	ops    []Op
	closed bool
}

// New starts a journal of changes to target, whose state before any change
// is baseline. With dir "" the journal lives in memory only (labs kbharness
// built); otherwise it is a file in dir, created with the header written and
// fsynced, and locked by this process until Close.
func New(dir, target string, baseline *netcfg.Snapshot) (*Journal, error) {
	j := &Journal{header: Header{
		Version: version, Target: target, Owner: self(), Created: time.Now().UTC(), Baseline: baseline,
	}}
	if dir == "" {
		return j, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating journal directory: %w", err)
	}
	name := fmt.Sprintf("%s-%d-%d", safeName(target), os.Getpid(), time.Now().UnixNano())
	tmp := filepath.Join(dir, name+".tmp")
	f, err := createLocked(tmp)
	if err != nil {
		return nil, fmt.Errorf("creating journal %s: %w", tmp, err)
	}
	j.file, j.path = f, filepath.Join(dir, name+Suffix)
	// Written and synced under a temporary name, then renamed: a recovery
	// never sees a journal without its header.
	if err := j.appendLine(j.header); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, j.path); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("creating journal %s: %w", j.path, err)
	}
	if err := syncDir(dir); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// Path is the journal's file, "" for an in-memory journal.
func (j *Journal) Path() string { return j.path }

// Target is the journal's target.
func (j *Journal) Target() string { return j.header.Target }

// Baseline is the target's snapshot before the first change.
func (j *Journal) Baseline() *netcfg.Snapshot { return j.header.Baseline }

// Record appends op durably (write and fsync) before the change it undoes
// is made.
func (j *Journal) Record(op Op) error {
	if err := op.validate(); err != nil {
		return fmt.Errorf("recording undo %s: %w", op, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("recording undo %s: journal closed", op)
	}
	if j.file != nil {
		if err := j.appendLine(op); err != nil {
			return err
		}
	}
	j.ops = append(j.ops, op)
	return nil
}

func (j *Journal) appendLine(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("writing journal: %w", err)
	}
	if _, err := j.file.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("writing journal %s: %w", j.path, err)
	}
	if err := j.file.Sync(); err != nil {
		return fmt.Errorf("syncing journal %s: %w", j.path, err)
	}
	return nil
}

// Undo replays the journal's operations on t, newest first (see replay),
// forgets them (the file keeps its header) and compares t with the
// baseline.
func (j *Journal) Undo(ctx context.Context, t *Target) (*Result, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	res := &Result{Journal: j.path, Target: j.header.Target, Owner: j.header.Owner}
	if err := replay(ctx, t, j.header.Baseline, j.ops, res); err != nil {
		return res, err
	}
	now, err := t.Host.Snapshot(ctx)
	if err != nil {
		return res, fmt.Errorf("comparing %s with its baseline: %w", t.Host.Name(), err)
	}
	res.Residual = netcfg.Diff(j.header.Baseline, now)
	j.ops = nil
	if j.file != nil {
		if err := rewriteHeader(j.file, j.path, j.header); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Close deletes the journal's file and releases its lock. Operations not
// undone are left for recovery: Close keeps the file if any remain.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if j.file == nil {
		return nil
	}
	var errs []error
	if len(j.ops) == 0 {
		// Removed while still locked: nobody recovers a finished journal.
		if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing journal: %w", err))
		}
	}
	if err := j.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing journal: %w", err))
	}
	return errors.Join(errs...)
}

// rewriteHeader truncates the file to its header line.
func rewriteHeader(f *os.File, path string, h Header) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(data, 0)
	}
	if err == nil {
		_, err = f.Seek(int64(len(data)), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return fmt.Errorf("rewriting journal %s: %w", path, err)
	}
	return nil
}

// parse reads a journal file's content. A torn last line (the owner died
// while writing it, before the change it undoes was made) is dropped; any
// other damage is an error naming the line.
func parse(name string, data []byte) (Header, []Op, error) {
	var h Header
	var ops []Op
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	n := 0
	complete := len(data) > 0 && data[len(data)-1] == '\n'
	total := bytes.Count(data, []byte{'\n'})
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n > total && !complete {
			break // torn last line
		}
		if n == 1 {
			if err := json.Unmarshal(line, &h); err != nil {
				return h, nil, fmt.Errorf("%s:1: header: %w", name, err)
			}
			if h.Version != version {
				return h, nil, fmt.Errorf("%s:1: header: version %d, want %d", name, h.Version, version)
			}
			if h.Target == "" || h.Baseline == nil {
				return h, nil, fmt.Errorf("%s:1: header: missing target or baseline", name)
			}
			continue
		}
		var op Op
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&op); err != nil {
			return h, nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if err := op.validate(); err != nil {
			return h, nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return h, nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if n == 0 {
		return h, nil, fmt.Errorf("%s: empty journal", name)
	}
	return h, ops, nil
}

// safeName turns a target into a file-name part.
func safeName(target string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, target)
}

// self describes this process as an owner.
func self() Owner {
	return Owner{PID: os.Getpid(), Started: processStart(), Command: filepath.Base(os.Args[0])}
}
