package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg/lab"
	remote "github.com/kbharness/kbharness/netcfg/target"
)

func init() {
	register(&command{
		Name:    "cleanup",
		Summary: "undo dead runs' changes to attached hosts (journals) and remove their lab namespaces",
		Run:     runCleanup,
	})
}

const cleanupUsage = `Usage: kbharness cleanup [--target URL] [--all] [--ssh-identity F] [--ssh-known-hosts F] [--password-file F]

First, replays the undo journals that dead kbharness runs left in the state
directory ($KBHARNESS_STATE_DIR/journal, else /var/lib/kbharness/journal;
%ProgramData%\kbharness\journal on Windows): every change a run made to a
host it did not build (a namespace attached with -kb.target netns:NAME, the local
Windows lab VM, a remote guest reached by ssh://, winrm:// or psdirect://,
whose journal stays on this controller) is reverted, newest first, and the host is compared with the
baseline the run recorded before its first change. Prints what was restored
and any residual difference. Journals of running processes are left alone.
Safe to run again: a cleanup killed halfway is finished by the next one.

Then removes every kbh-<pid>-* network namespace (under /run/netns) whose
owning process is gone, the processes still running inside them, and stale
state files under /run/kbharness. Labs of live processes and labs left by
'kbharness lab up' without --hold are kept.

Exit status 1 if a host still differs from its baseline after the replay or
an undo failed (the journal is then kept for the next cleanup).`

func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cleanup", cleanupUsage, stderr)
	target := fs.String("target", "", `replay only the journals of this target ("netns:NAME", "local" on Windows, ssh://user@host[:port], winrm://user@host[:port], psdirect://VM?user=NAME)`)
	remote.Default.Register(fs, "")
	all := fs.Bool("all", false, "also remove kbh- namespaces of running processes and kept labs (their tests will fail)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	err := recoverJournals(ctx, *target, stdout)
	if *target != "" {
		return err
	}
	return errors.Join(err, removeLabs(ctx, *all, stdout, stderr))
}

// recoverJournals replays dead runs' journals and reports each.
func recoverJournals(ctx context.Context, target string, stdout io.Writer) error {
	dir := journal.Dir()
	var filter func(string) bool
	if target != "" {
		filter = func(t string) bool { return t == target }
	}
	results, err := journal.Recover(ctx, dir, lab.OpenTarget, filter)
	residual := 0
	for _, r := range results {
		fmt.Fprint(stdout, r)
		if !r.Clean() {
			residual++
		}
	}
	live, lerr := journal.List(dir)
	for path, alive := range live {
		if alive {
			fmt.Fprintf(stdout, "journal %s: its owner is still running; left alone\n", path)
		}
	}
	if residual > 0 {
		err = errors.Join(err, fmt.Errorf("%d target(s) still differ from their baseline after the replay (see RESIDUAL above)", residual))
	}
	return errors.Join(err, lerr)
}

// removeLabs removes dead runs' lab namespaces, or with all every lab.
func removeLabs(ctx context.Context, all bool, stdout, stderr io.Writer) error {
	if !all {
		removed, err := lab.Cleanup(ctx)
		printRemoved(stdout, removed)
		return err
	}
	infos, err := lab.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, in := range infos {
		if in.Alive {
			fmt.Fprintf(stderr, "warning: removing lab %s of running process %d\n", in.ID, in.PID)
		}
		removed, err := lab.Down(ctx, in.ID)
		printRemoved(stdout, removed)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// printRemoved prints what lab cleanup did: "killed pid N ..." lines as
// they are, and each namespace or state file removed.
func printRemoved(w io.Writer, removed []string) {
	for _, r := range removed {
		if !strings.HasPrefix(r, "killed ") {
			r = "removed " + r
		}
		fmt.Fprintln(w, r)
	}
}
