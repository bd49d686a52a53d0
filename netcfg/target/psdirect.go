package target

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

// psdirectTransport runs commands in a Hyper-V guest through PowerShell
// Direct: this machine's powershell.exe runs Invoke-Command -VMName, with
// the password handed over in the child's environment, never in argv.
type psdirectTransport struct {
	vm, user, password string
}

func dialPSDirect(u *URL, s Settings) (transport, error) {
	if u.User == "" {
		return nil, errors.New("psdirect://VMNAME needs ?user=NAME (a guest account)")
	}
	pw, err := s.Password()
	if err != nil {
		return nil, err
	}
	return &psdirectTransport{vm: u.Host, user: u.User, password: pw}, nil
}

// psdirectPasswordVar carries the password to the child powershell.exe.
const psdirectPasswordVar = "KBH_PSDIRECT_PASSWORD"

func (t *psdirectTransport) run(ctx context.Context, argv []string, stdin []byte, _ bool) (netcfg.Output, error) {
	if len(argv) == 0 {
		return netcfg.Output{}, &netcfg.CommandError{Err: errors.New("empty argv")}
	}
	local := pwsh.EncodedArgv(PSDirectScript(t.vm, t.user, argv, stdin != nil))
	cmd := exec.CommandContext(ctx, local[0], local[1:]...)
	cmd.Env = append(os.Environ(), psdirectPasswordVar+"="+t.password)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := netcfg.ExecCmd(cmd)
	if ce, ok := err.(*netcfg.CommandError); ok {
		ce.Argv = argv // the guest command, not the encoded wrapper
	}
	return out, err
}

func (t *psdirectTransport) close() error { return nil }

// PSDirectScript is the PowerShell run on the Hyper-V host for argv in
// guest vm: Invoke-Command -VMName with a credential built from
// $env:KBH_PSDIRECT_PASSWORD; the guest runs argv (with this script's
// stdin, if any), and its output (stdout and stderr merged) and exit code
// become this script's.
func PSDirectScript(vm, user string, argv []string, stdin bool) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = pwsh.Quote(a)
	}
	in := "$null"
	if stdin {
		in = "[Console]::In.ReadToEnd()"
	}
	return strings.Join([]string{
		"$ErrorActionPreference = 'Stop'",
		"$pw = ConvertTo-SecureString $env:" + psdirectPasswordVar + " -AsPlainText -Force",
		"$cred = New-Object System.Management.Automation.PSCredential(" + pwsh.Quote(user) + ", $pw)",
		"$argv = @(" + strings.Join(quoted, ", ") + ")",
		"$in = " + in,
		"$r = Invoke-Command -VMName " + pwsh.Quote(vm) + " -Credential $cred -ArgumentList (,$argv), $in -ScriptBlock {",
		"  param($argv, $in)",
		"  $ErrorActionPreference = 'Continue'",
		"  $rest = @($argv | Select-Object -Skip 1)",
		"  if ($in -ne $null) { $o = $in | & $argv[0] @rest 2>&1 | Out-String } else { $o = & $argv[0] @rest 2>&1 | Out-String }",
		"  New-Object PSObject -Property @{ Out = $o; Code = $LASTEXITCODE }",
		"}",
		"[Console]::Out.Write($r.Out)",
		"exit $r.Code",
	}, "\n")
}
