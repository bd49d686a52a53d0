package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kbharness/kbharness/netcfg/lab"
)

func init() {
	register(&command{
		Name:    "cleanup",
		Summary: "remove lab namespaces left behind by dead kbharness runs",
		Run:     runCleanup,
	})
}

const cleanupUsage = `Usage: kbharness cleanup [--all]

Removes every kbh-<pid>-* network namespace (under /run/netns) whose owning
process is gone, and stale state files under /run/kbharness. Labs of live
processes and labs left by 'kbharness lab up' without --hold are kept.
Prints each namespace and state file it removed.`

func runCleanup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cleanup", cleanupUsage, stderr)
	all := fs.Bool("all", false, "remove every kbh- namespace, also of running processes and kept labs (their tests will fail)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if !*all {
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

func printRemoved(w io.Writer, removed []string) {
	for _, r := range removed {
		fmt.Fprintf(w, "removed %s\n", r)
	}
}
