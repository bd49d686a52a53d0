package standin

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"github.com/kbharness/kbharness/internal/standin/wire"
	"github.com/kbharness/kbharness/netcfg"
)

var errEmptyArgv = errors.New("empty argv")

// Runner runs the stand-in commands (route, netsh, powershell, wevtutil)
// on the server at addr without Wine: what the client PE does, from a
// Linux controller, so the Windows-dialect command host
// (winhost.OpenCommands) drives a namespace's kernel through them. The
// server keeps the persistent store itself; no registry travels.
func Runner(addr string) netcfg.Runner {
	return netcfg.RunnerFunc(func(ctx context.Context, argv []string) (netcfg.Output, error) {
		if len(argv) == 0 {
			return netcfg.Output{}, &netcfg.CommandError{Argv: argv, Err: errEmptyArgv}
		}
		name := strings.TrimSuffix(strings.ToLower(filepath.Base(argv[0])), ".exe")
		if err := ctx.Err(); err != nil {
			return netcfg.Output{}, &netcfg.CommandError{Argv: argv, Err: err}
		}
		resp, err := wire.Call(addr, wire.Request{Command: name, Args: argv[1:]})
		if err != nil {
			return netcfg.Output{}, &netcfg.CommandError{Argv: argv, Err: err}
		}
		out := netcfg.Output{Stdout: []byte(resp.Stdout), Stderr: []byte(resp.Stderr), ExitCode: resp.Exit}
		if resp.Exit != 0 {
			return out, &netcfg.CommandError{Argv: argv, Output: out}
		}
		return out, nil
	})
}
