package winhost

import (
	"context"
	"fmt"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/routeexe"
)

// Each Probe runs a read command and requires output its parser accepts: a
// tool that is present but a stub (Wine's netsh.exe, powershell.exe) is
// unsupported, with the command and what it printed as the reason.

// Probe runs `route print -4` and parses it.
func (c RouteExe) Probe(ctx context.Context) error {
	return probeRead(ctx, c.Run, netcfg.RouteExe, routeexe.Print(netcfg.IPv4), func(out string) error {
		_, err := routeexe.ParsePrint(out)
		return err
	})
}

// Probe runs `netsh interface ipv4 show interfaces` and wants at least one
// interface parsed.
func (c Netsh) Probe(ctx context.Context) error {
	return probeRead(ctx, c.Run, netcfg.Netsh, netsh.ShowInterfaces(netcfg.IPv4), func(out string) error {
		ifs, err := netsh.ParseInterfaces(out)
		if err == nil && len(ifs) == 0 {
			err = fmt.Errorf("no interface listed")
		}
		return err
	})
}

// Probe asks for the NetTCPIP module (`Get-Command Get-NetRoute`, Windows 8
// / Server 2012 and later); the cmdlet's name must come back.
func (c PowerShell) Probe(ctx context.Context) error {
	return probeRead(ctx, c.Run, netcfg.PowerShell, pwsh.Argv("(Get-Command Get-NetRoute -ErrorAction Stop).Name"), func(out string) error {
		if !strings.Contains(out, "Get-NetRoute") {
			return fmt.Errorf("the NetTCPIP module (Get-NetRoute) is missing")
		}
		return nil
	})
}

func probeRead(ctx context.Context, r netcfg.Runner, m netcfg.Mechanism, argv []string, parse func(string) error) error {
	out, err := run(ctx, r, argv)
	if err == nil {
		err = parse(string(out))
	}
	if err != nil {
		return netcfg.Unsupported("mechanism "+string(m), fmt.Sprintf("probe %q: %v (output %q)", strings.Join(argv, " "), err, truncate(strings.TrimSpace(string(out)), 200)))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
