package netcfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs a command on a target: this machine, a network namespace, or
// (through a transport) a remote host. It is the one seam every command
// mechanism (ip, route.exe, netsh, PowerShell, wevtutil, reg) goes through,
// so the same builders and parsers serve every target, and tests run them
// against fakes and stand-ins.
type Runner interface {
	// Run runs argv to completion. A command that ran and exited non-zero
	// returns its output with a *CommandError; so does one that could not
	// be started.
	Run(ctx context.Context, argv []string) (Output, error)
}

// Output is what a command printed and how it exited.
type Output struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Combined is stdout followed by stderr.
func (o Output) Combined() []byte { return append(append([]byte(nil), o.Stdout...), o.Stderr...) }

// CommandError is a command that failed: it could not start, or it exited
// non-zero. It carries the argv and what the command printed.
type CommandError struct {
	Argv   []string
	Output Output
	Err    error // the start or wait error; nil for a plain non-zero exit
}

func (e *CommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "running %q: ", e.Argv)
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		fmt.Fprintf(&b, "exit status %d", e.Output.ExitCode)
	}
	if out := bytes.TrimSpace(e.Output.Combined()); len(out) > 0 {
		fmt.Fprintf(&b, ": %s", out)
	}
	return b.String()
}

func (e *CommandError) Unwrap() error { return e.Err }

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, argv []string) (Output, error)

func (f RunnerFunc) Run(ctx context.Context, argv []string) (Output, error) { return f(ctx, argv) }

// Exec runs commands on this machine with os/exec. A start that fails
// transiently (startFailedTransiently) is tried again, up to startAttempts
// times: the command never ran, so running it again cannot apply it twice.
var Exec Runner = RunnerFunc(func(ctx context.Context, argv []string) (Output, error) {
	if len(argv) == 0 {
		return Output{}, &CommandError{Err: errors.New("empty argv")}
	}
	return retryStart(func() (Output, error) {
		return ExecCmd(exec.CommandContext(ctx, argv[0], argv[1:]...))
	}, startFailedTransiently)
})

// startAttempts bounds retryStart.
const startAttempts = 3

// retryStart runs run until it succeeds, fails otherwise than by a start
// that transient reports, or has been tried startAttempts times.
func retryStart(run func() (Output, error), transient func(error) bool) (Output, error) {
	for attempt := 1; ; attempt++ {
		out, err := run()
		var ce *CommandError
		if attempt == startAttempts || !errors.As(err, &ce) || ce.Err == nil || !transient(ce.Err) {
			return out, err
		}
	}
}

// ExecCmd runs a prepared command (its Stdout and Stderr must be unset) and
// reports it the Runner way: a *CommandError when it cannot start or exits
// non-zero. Runners that prepare the process (another namespace, a
// transport) finish with it.
func ExecCmd(cmd *exec.Cmd) (Output, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	if cmd.ProcessState != nil {
		out.ExitCode = cmd.ProcessState.ExitCode()
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &exit):
		return out, &CommandError{Argv: cmd.Args, Output: out}
	default:
		return out, &CommandError{Argv: cmd.Args, Output: out, Err: err}
	}
}
