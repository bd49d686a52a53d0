package hammer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kbharness/kbharness/netcfg"
)

// Remote is a host reached by commands that takes files: a target.Conn.
type Remote interface {
	netcfg.Runner
	Put(ctx context.Context, path string, data []byte) error
}

// AgentPath is where RunAgent copies the agent on the guest.
const AgentPath = `C:\Windows\Temp\kbh-hammer.exe`

// RunAgent runs the legacy agent on a remote Windows host, the way Run
// runs the Go hammer here: it copies exe (agent/hammer built for the
// guest) to AgentPath; when cfg.PortRange is set it hands the command that
// restores the guest's dynamic port range to cfg.BeforeRangeChange (the
// journal), narrows the range with netsh and restores it afterwards; it
// runs the agent (AgentArgv), reads its report (ParseAgentReport) and the
// Tcpip events 4227 and 4231 the run added to the guest's System log
// (wevtutil, counted before and after: the guest's clock is not ours).
// cfg.Target is an address of the guest's own.
func RunAgent(ctx context.Context, r Remote, exe []byte, cfg Config) (res *Result, err error) {
	agentCfg := cfg
	agentCfg.PortRange, agentCfg.QuietWait, agentCfg.BeforeRangeChange = PortRange{}, 0, nil
	argv, err := AgentArgv(AgentPath, agentCfg)
	if err != nil {
		return nil, err
	}
	if err := r.Put(ctx, AgentPath, exe); err != nil {
		return nil, err
	}
	if !cfg.PortRange.IsZero() {
		old, err := WindowsPortRange(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("reading the guest's dynamic port range: %w", err)
		}
		if cfg.BeforeRangeChange != nil {
			if err := cfg.BeforeRangeChange(WindowsSetRangeArgv(old)); err != nil {
				return nil, err
			}
		}
		restore, err := SetWindowsPortRange(ctx, r, cfg.PortRange)
		if err != nil {
			return nil, fmt.Errorf("narrowing the guest's dynamic port range to %s: %w", cfg.PortRange, err)
		}
		defer func() {
			if rerr := restore(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("restoring the guest's dynamic port range %s: %w", old, rerr))
			}
		}()
	}
	before, evErr := WindowsTcpipEvents(ctx, r, time.Time{}, time.Time{})
	out, runErr := r.Run(ctx, argv)
	var ce *netcfg.CommandError
	if runErr != nil && !(errors.As(runErr, &ce) && ce.Err == nil && out.ExitCode == 1) {
		// Exit 1 is "signature seen"; anything else failed.
		return nil, fmt.Errorf("running the agent on the guest: %w", runErr)
	}
	res, err = ParseAgentReport(out.Stdout)
	if res == nil {
		return nil, err
	}
	res.PortRange = cfg.PortRange
	after, evErr2 := WindowsTcpipEvents(ctx, r, time.Time{}, time.Time{})
	if evErr = errors.Join(evErr, evErr2); evErr != nil {
		res.EventsErr = evErr.Error()
	} else {
		res.Events = map[int]int{}
		for id := range after {
			res.Events[id] = after[id] - before[id]
		}
	}
	return res, err
}
