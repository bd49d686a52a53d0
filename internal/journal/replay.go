package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
)

// Target is a journal's target, open: its host and a way to run commands
// on it (Run operations).
type Target struct {
	Host netcfg.Host
	Run  netcfg.Runner
}

// Opener opens a target by the name a journal records. It returns an error
// matching netcfg.ErrNotFound when the target no longer exists (a deleted
// namespace): there is nothing left to restore.
type Opener func(ctx context.Context, target string) (*Target, error)

// Result is what a replay did.
type Result struct {
	Journal  string              // the file, "" for an in-memory journal
	Target   string              //
	Owner    Owner               // who made the changes
	Restored []string            // operations that changed the target
	Kept     []string            // operations skipped because the baseline holds the element
	Residual netcfg.SnapshotDiff // the baseline (-) against the target (+) after the replay
	Gone     bool                // the target no longer exists
}

// Clean reports whether the target is back at its baseline.
func (r *Result) Clean() bool { return r.Gone || r.Residual.Empty() }

func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "journal %s of pid %d (%s, started %s), target %s:\n", r.Journal, r.Owner.PID, r.Owner.Command,
		r.Owner.Started.Format("2006-01-02 15:04:05"), r.Target)
	if r.Gone {
		b.WriteString("  the target no longer exists: nothing to restore\n")
		return b.String()
	}
	for _, s := range r.Restored {
		fmt.Fprintf(&b, "  restored: %s\n", s)
	}
	for _, s := range r.Kept {
		fmt.Fprintf(&b, "  kept (in the baseline): %s\n", s)
	}
	if len(r.Restored) == 0 {
		b.WriteString("  nothing to restore\n")
	}
	if r.Residual.Empty() {
		b.WriteString("  the target equals its baseline\n")
	} else {
		fmt.Fprintf(&b, "  RESIDUAL difference from the baseline:\n%s", indent(r.Residual.Explain("the baseline", "the target")))
	}
	return b.String()
}

func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "")
}

// replay applies ops to t newest first. Each operation is idempotent and
// guarded by the baseline: an element the baseline holds is never deleted,
// one it lacks is never added, and an element already as the operation
// wants it is left alone.
func replay(ctx context.Context, t *Target, baseline *netcfg.Snapshot, ops []Op, res *Result) error {
	if len(ops) == 0 {
		return nil
	}
	now, err := t.Host.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("undoing changes to %s: %w", t.Host.Name(), err)
	}
	var errs []error
	for i := len(ops) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		op := ops[i]
		changed, kept, err := apply(ctx, t, baseline, now, op)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("undoing %q: %s: %w", op.Undoes, op, err))
		case kept:
			res.Kept = append(res.Kept, op.String())
		case changed:
			res.Restored = append(res.Restored, op.String())
			if now, err = t.Host.Snapshot(ctx); err != nil {
				return errors.Join(append(errs, fmt.Errorf("undoing changes to %s: %w", t.Host.Name(), err))...)
			}
		}
	}
	return errors.Join(errs...)
}

// apply carries out one operation; see replay.
func apply(ctx context.Context, t *Target, baseline, now *netcfg.Snapshot, op Op) (changed, kept bool, err error) {
	h := t.Host
	switch op.Kind {
	case DeleteAddress:
		if baseline.HasAddress(op.Address.Prefix) {
			return false, true, nil
		}
		if !now.HasAddress(op.Address.Prefix) {
			return false, false, nil
		}
		return true, false, ignore(h.DeleteAddress(ctx, mechanism(h, op), *op.Address), netcfg.ErrNotFound)
	case AddAddress:
		if !baseline.HasAddress(op.Address.Prefix) || now.HasAddress(op.Address.Prefix) {
			return false, false, nil
		}
		return true, false, ignore(h.AddAddress(ctx, mechanism(h, op), *op.Address), netcfg.ErrExists)
	case DeleteRoute:
		if hasRoute(baseline, *op.Route) {
			return false, true, nil
		}
		if !hasRoute(now, *op.Route) {
			return false, false, nil
		}
		return true, false, ignore(h.DeleteRoute(ctx, mechanism(h, op), *op.Route), netcfg.ErrNotFound)
	case AddRoute:
		if !hasRoute(baseline, *op.Route) || hasRoute(now, *op.Route) {
			return false, false, nil
		}
		return true, false, ignore(h.AddRoute(ctx, mechanism(h, op), *op.Route), netcfg.ErrExists)
	case Run:
		if a := op.Address; a != nil && (baseline.HasAddress(a.Prefix) || !now.HasAddress(a.Prefix)) {
			return false, baseline.HasAddress(a.Prefix), nil
		}
		if t.Run == nil {
			return false, false, netcfg.Unsupported("running commands", "the target has no command runner")
		}
		_, err := t.Run.Run(ctx, op.Argv)
		return true, false, err
	}
	return false, false, fmt.Errorf("unknown kind %q", op.Kind)
}

// hasRoute reports whether s holds r: in the persistent store for a
// persistent route, else in the active table.
func hasRoute(s *netcfg.Snapshot, r netcfg.RouteSpec) bool {
	store := netcfg.StoreActive
	if r.Persistent {
		store = netcfg.StorePersistent
	}
	return s.HasRoute(store, netcfg.Route{Dst: r.Dst, Gateway: r.Gateway, Interface: r.Interface})
}

// mechanism is the operation's mechanism if the host still has it, else the
// host's preferred one (a recovery may run where, say, `ip` is missing).
func mechanism(h netcfg.Host, op Op) netcfg.Mechanism {
	c := h.Capabilities()
	if c.Has(op.Mechanism) || len(c.Mechanisms) == 0 {
		return op.Mechanism
	}
	return c.Mechanisms[0]
}

func ignore(err, sentinel error) error {
	if errors.Is(err, sentinel) {
		return nil
	}
	return err
}

// Recover replays every journal in dir whose owner is dead and whose
// target the filter accepts (nil: all), then compares each target with its
// baseline. A journal is deleted once replayed, also with a residual
// difference (reported, it is nothing the journal can undo); it is kept when
// an operation failed, for the next recovery. Journals of live owners are
// skipped. Results come in file-name order; the error joins every failure.
func Recover(ctx context.Context, dir string, open Opener, filter func(target string) bool) ([]*Result, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing journals: %w", err)
	}
	sort.Slice(entries, func(i, k int) bool { return entries[i].Name() < entries[k].Name() })
	var results []*Result
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".tmp"):
			// A journal whose owner died before its header was complete:
			// no change was made yet.
			if f, err := tryLock(p); err == nil {
				os.Remove(p)
				f.Close()
			}
			continue
		case !strings.HasSuffix(e.Name(), Suffix):
			continue
		}
		res, err := recoverOne(ctx, p, open, filter)
		if res != nil {
			results = append(results, res)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}

// errLive marks a journal whose owner still runs.
var errLive = errors.New("owner alive")

// recoverOne recovers one journal file; a nil Result means it was skipped.
func recoverOne(ctx context.Context, path string, open Opener, filter func(string) bool) (*Result, error) {
	f, err := tryLock(path)
	if errors.Is(err, errLive) || errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a live owner, or another recovery finished it
	}
	if err != nil {
		return nil, fmt.Errorf("recovering %s: %w", path, err)
	}
	defer f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("recovering %s: %w", path, err)
	}
	h, ops, err := parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("recovering: %w (left in place; remove it by hand once the target is checked)", err)
	}
	if filter != nil && !filter(h.Target) {
		return nil, nil
	}
	res := &Result{Journal: path, Target: h.Target, Owner: h.Owner}
	t, err := open(ctx, h.Target)
	if errors.Is(err, netcfg.ErrNotFound) {
		res.Gone = true
		return res, removeJournal(path)
	}
	if err != nil {
		return res, fmt.Errorf("recovering %s: opening target %s: %w", path, h.Target, err)
	}
	defer t.Host.Close()
	if err := replay(ctx, t, h.Baseline, ops, res); err != nil {
		return res, fmt.Errorf("recovering %s: %w", path, err)
	}
	now, err := t.Host.Snapshot(ctx)
	if err != nil {
		return res, fmt.Errorf("recovering %s: %w", path, err)
	}
	res.Residual = netcfg.Diff(h.Baseline, now)
	return res, removeJournal(path)
}

func removeJournal(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing journal: %w", err)
	}
	return nil
}

// List returns the journal files in dir and whether each owner is alive.
func List(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing journals: %w", err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), Suffix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := tryLock(p)
		out[p] = errors.Is(err, errLive)
		if err == nil {
			f.Close()
		}
	}
	return out, nil
}
