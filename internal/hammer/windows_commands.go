package hammer

import (
	"context"
	"time"

	"github.com/kbharness/kbharness/internal/winevent"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
)

// The Windows settings and logs the hammer reads and changes, by command
// through a runner: this machine's (hammer_windows.go) or a remote guest's
// (RunAgent).

// WindowsTcpipEvents counts the Tcpip events 4227 and 4231 in the System
// log between since and until (a second wider; zero: unbounded):
// `wevtutil qe System /q:... /f:xml`, parsed.
func WindowsTcpipEvents(ctx context.Context, r netcfg.Runner, since, until time.Time) (map[int]int, error) {
	q := winevent.Query{Log: "System", Selectors: []winevent.Selector{winevent.TcpipPortEvents}}
	if !since.IsZero() {
		q.Since = since.Add(-time.Second)
	}
	if !until.IsZero() {
		q.Until = until.Add(time.Second)
	}
	argv, err := q.Argv()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := r.Run(ctx, argv)
	if err != nil {
		return nil, err
	}
	evs, err := winevent.ParseXML(out.Stdout)
	if err != nil {
		return nil, err
	}
	m := map[int]int{4227: 0, 4231: 0}
	for _, ev := range evs {
		m[ev.EventID]++
	}
	return m, nil
}

// WindowsPortRange runs `netsh interface ipv4 show dynamicport tcp`.
func WindowsPortRange(ctx context.Context, r netcfg.Runner) (PortRange, error) {
	out, err := r.Run(ctx, netsh.ShowDynamicPort(netcfg.IPv4))
	if err != nil {
		return PortRange{}, err
	}
	dr, err := netsh.ParseDynamicPort(string(out.Combined()))
	if err != nil {
		return PortRange{}, err
	}
	return PortRange{Lo: uint16(dr.Start), Hi: uint16(dr.Start + dr.Num - 1)}, nil
}

// WindowsSetRangeArgv is `netsh interface ipv4 set dynamicport tcp
// start= num=` for r (netsh needs num >= 255).
func WindowsSetRangeArgv(r PortRange) []string {
	argv, _ := netsh.SetDynamicPort(netcfg.IPv4, netsh.DynamicPortRange{Start: int(r.Lo), Num: r.Size()})
	return argv
}

// SetWindowsPortRange sets the dynamic port range (host-wide) and returns
// the function that sets the old one back (with a context of its own: it
// runs also after ctx ended).
func SetWindowsPortRange(ctx context.Context, r netcfg.Runner, pr PortRange) (restore func() error, err error) {
	old, err := WindowsPortRange(ctx, r)
	if err != nil {
		return nil, err
	}
	set := func(ctx context.Context, pr PortRange) error {
		argv, err := netsh.SetDynamicPort(netcfg.IPv4, netsh.DynamicPortRange{Start: int(pr.Lo), Num: pr.Size()})
		if err == nil {
			_, err = r.Run(ctx, argv)
		}
		return err
	}
	if err := set(ctx, pr); err != nil {
		return nil, err
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return set(ctx, old)
	}, nil
}
