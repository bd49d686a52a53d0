package main

import (
	"context"
	"fmt"
	"io"

	"github.com/kbharness/kbharness/reports/store"
)

func init() {
	register(&command{
		Name:    "results",
		Summary: "keep suite runs in the results store: results ingest RUN_DIR...",
		Run:     runResults,
	})
}

const resultsUsage = `Usage: kbharness results ingest [--store PATH] RUN_DIR...

Ingests suite runs into the results store, an SQLite file
($KBHARNESS_STATE_DIR/results.db, else /var/lib/kbharness/results.db;
%ProgramData%\kbharness\results.db on Windows). RUN_DIR is a run's report
directory: its report.json, facts.json (without it the run's OS build is
unknown, and said so) and crash.json (run-vm.ps1's, when the guest crashed:
its bugcheck, how the crash was noticed and the dumps are kept with the run,
whose outcome is then "crashed"). It needs report.json or crash.json: a
guest that crashed mid-run may leave no report.json (or one cut short), and
its run is stored without results. All directories are ingested in one
transaction: one that cannot be read fails the call and nothing is stored.
A run already in the store (same report.json; for a crashed run without
one, same crash.json and facts.json) is left as it is.

A store written before crash.json was read (schema version 1) is migrated
when opened: its runs stay, with no crash; ingesting such a run's directory
again adds its crash.json, if it has one.

A fleet shares one store on one controller: copy each VM's run directory
there (scp, robocopy, the CI's artifacts) and ingest them on the controller,
where 'kbharness report' renders the history. Do not put the store on a
network share (SMB, NFS) for several machines to write: SQLite's file
locking is not reliable there and the database can be corrupted.

Exit status 2 when a directory is not a readable run (the error names the
file and what is wrong: crash.json is read strictly, an unknown or malformed
field is an error).`

func runResults(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, resultsUsage)
		return usagef("missing results subcommand")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, resultsUsage)
		return nil
	case "ingest":
		return runIngest(args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, resultsUsage)
	return usagef("unknown results subcommand %q", args[0])
}

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("results ingest", resultsUsage, stderr)
	path := fs.String("store", store.DefaultPath(), "the results store")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no run directory to ingest")
	}
	s, err := store.Open(*path)
	if err != nil {
		return err
	}
	defer s.Close()
	done, err := s.Ingest(fs.Args()...)
	if err != nil {
		return badInput(err)
	}
	for _, d := range done {
		fmt.Fprintln(stdout, d)
	}
	return s.Close()
}
