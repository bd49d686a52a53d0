// Command kbharness runs kbharness's tools: `kbharness <command> [flags]`.
// Each command lives in its own file and registers itself from init, so a
// new command is a new file; main.go does not change.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad usage or input, or unsupported on this host
)

// command is one `kbharness <name>` subcommand.
type command struct {
	Name    string
	Summary string // one line for `kbharness --help`
	// Run executes the command with the arguments after its name. It
	// returns a *usageError for bad usage and flag.ErrHelp after printing
	// help.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

// register adds a command; call it from an init function.
func register(c *command) {
	if _, dup := commands[c.Name]; dup {
		panic("kbharness: command registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

// usageError is bad command-line usage: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// inputError is bad input: an input file (a lab fixture, a replay file)
// that cannot be read, decoded or validated. Exit code 2, as bad usage.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// badInput marks err, from loading an input file, as bad input (nil stays nil).
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &inputError{err: err}
}

// isBadInput reports whether err is bad input: marked by badInput, or a
// fixture error (file, line, field) wherever it comes from.
func isBadInput(err error) bool {
	var (
		ie *inputError
		fe *fixtures.Error
		ve *fixtures.FieldError
	)
	return errors.As(err, &ie) || errors.As(err, &fe) || errors.As(err, &ve)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args to a command and maps its result to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kbharness: unknown command %q\n", args[0])
		printUsage(stderr)
		return exitUsage
	}
	err := c.Run(ctx, args[1:], stdout, stderr)
	var ue *usageError
	var unsup *netcfg.UnsupportedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "kbharness %s: %v (see kbharness %s --help)\n", c.Name, err, c.Name)
		return exitUsage
	case isBadInput(err):
		fmt.Fprintf(stderr, "kbharness %s: bad input: %v\n", c.Name, err)
		return exitUsage
	case errors.As(err, &unsup):
		fmt.Fprintf(stderr, "unsupported on this host: %s: %s\n", unsup.What, unsup.Reason)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "kbharness %s: %v\n", c.Name, err)
		return exitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: kbharness <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w, "\nRun `kbharness <command> --help` for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 bad usage or input (a flag out of its bounds, an input")
	fmt.Fprintln(w, "file that is missing or does not decode or validate) or unsupported on this host.")
}

// newFlags returns a flag set that writes its help to stderr and returns
// errors instead of exiting.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// checkInt returns a usage error naming flag when n lies outside [lo, hi].
func checkInt(flag string, n, lo, hi int) error {
	if n < lo || n > hi {
		return usagef("%s %d is out of bounds: want %d to %d", flag, n, lo, hi)
	}
	return nil
}

// checkDuration returns a usage error naming flag when d lies outside [lo, hi].
func checkDuration(flag string, d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return usagef("%s %s is out of bounds: want %s to %s", flag, fixtures.FormatDuration(d), fixtures.FormatDuration(lo), fixtures.FormatDuration(hi))
	}
	return nil
}

// parseFlags parses args; a flag error becomes a *usageError (the flag
// package has already printed it with the usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	return nil
}
