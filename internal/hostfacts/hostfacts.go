// Package hostfacts reads what a run ran on, for its reports
// (reports.Facts): the kernel release of a Linux host; the OS name, build,
// UBR, installed updates and the file versions of tcpip.sys, netio.sys,
// tcpipreg.sys and ntoskrnl.exe of a Windows host. Everything runs as
// commands through a netcfg.Runner (this machine, a namespace, a remote
// guest, the stand-ins); the argv builders and parsers are pure and tested
// on every OS. A fact that cannot be read is noted in Facts.Errors, never
// guessed.
package hostfacts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/target"
	"github.com/kbharness/kbharness/reports"
)

// Collect fills the OS facts of f for the host r reaches, of dialect d.
func Collect(ctx context.Context, r netcfg.Runner, d netcfg.Dialect, f *reports.Facts) {
	f.OS = string(d)
	note := func(what string, err error) { f.Errors = append(f.Errors, what+": "+brief(err)) }
	if d == netcfg.DialectLinux {
		out, err := r.Run(ctx, []string{"uname", "-sr"})
		if err == nil {
			f.OSName = strings.TrimSpace(string(out.Stdout))
			f.Build = strings.TrimPrefix(f.OSName, "Linux ")
		} else {
			note("kernel release", err)
		}
		return
	}
	out, err := r.Run(ctx, []string{"cmd", "/c", "ver"})
	if err == nil {
		f.OSName, f.Build, err = target.ParseVer(string(out.Stdout))
	}
	if err != nil {
		note("ver", err)
	}
	out, err = r.Run(ctx, CurrentVersionArgv("ProductName"))
	if err == nil {
		var name string
		if name, err = ParseRegValue(string(out.Stdout), "ProductName"); err == nil {
			f.OSName = name
		}
	}
	if err != nil {
		note("ProductName", err)
	}
	out, err = r.Run(ctx, CurrentVersionArgv("UBR"))
	if err == nil {
		var v string
		if v, err = ParseRegValue(string(out.Stdout), "UBR"); err == nil {
			var n uint64
			n, err = strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 32)
			f.UBR = int(n)
		}
	}
	if err != nil {
		note("UBR (Windows 10 and later record it)", err)
	}
	out, err = r.Run(ctx, FilesArgv())
	if err == nil {
		f.Files, f.Updates, err = ParseFiles(string(out.Stdout))
	}
	if err != nil {
		note("file versions and updates", err)
	}
}

// brief is a failed command's exit status and the start of what it printed
// (not its argv: an encoded script says nothing to a reader).
func brief(err error) string {
	var ce *netcfg.CommandError
	if !errors.As(err, &ce) {
		return err.Error()
	}
	msg := strings.Join(strings.Fields(string(ce.Output.Combined())), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if ce.Err != nil {
		return fmt.Sprintf("%v: %s", ce.Err, msg)
	}
	return fmt.Sprintf("exit status %d: %s", ce.Output.ExitCode, msg)
}

// CurrentVersionKey holds the OS's ProductName, CurrentBuild and (Windows
// 10 and later) UBR.
const CurrentVersionKey = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`

// CurrentVersionArgv is `reg query CurrentVersionKey /v NAME`.
func CurrentVersionArgv(name string) []string {
	return []string{"reg", "query", CurrentVersionKey, "/v", name}
}

// ParseRegValue reads a value's data from `reg query KEY /v NAME`
// ("    NAME    REG_TYPE    DATA").
func ParseRegValue(out, name string) (string, error) {
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		f := strings.SplitN(strings.TrimLeft(line, " "), "    ", 3)
		if len(f) == 3 && strings.EqualFold(f[0], name) && strings.HasPrefix(f[1], "REG_") {
			return strings.TrimSpace(f[2]), nil
		}
	}
	return "", fmt.Errorf("no value %s in %q", name, strings.TrimSpace(out))
}

// Files are the drivers and kernel whose versions the KB fixes change.
var Files = []string{`drivers\tcpip.sys`, `drivers\netio.sys`, `drivers\tcpipreg.sys`, `ntoskrnl.exe`}

// FilesArgv is the PowerShell (2.0) script printing "file NAME=VERSION" for
// each of Files that exists and "update KBnnnnnnn" for each installed
// update (Get-HotFix).
func FilesArgv() []string {
	quoted := make([]string, len(Files))
	for i, f := range Files {
		quoted[i] = pwsh.Quote(f)
	}
	return pwsh.EncodedArgv("foreach ($f in @(" + strings.Join(quoted, ", ") + ")) { " +
		"$p = Join-Path $env:SystemRoot ('System32\\' + $f); " +
		"if (Test-Path $p) { 'file ' + (Split-Path $f -Leaf) + '=' + [Diagnostics.FileVersionInfo]::GetVersionInfo($p).FileVersion } }; " +
		"Get-HotFix | ForEach-Object { 'update ' + $_.HotFixID }")
}

var fileVersion = regexp.MustCompile(`^(\d+\.\d+\.\d+\.\d+)`)

// ParseFiles reads FilesArgv's output. A version keeps its leading
// a.b.c.d ("6.1.7601.24000 (win7sp1_ldr.180104-1700)" is 6.1.7601.24000).
func ParseFiles(out string) (files map[string]string, updates []string, err error) {
	files = map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "file "):
			name, v, ok := strings.Cut(strings.TrimPrefix(line, "file "), "=")
			m := fileVersion.FindStringSubmatch(v)
			if !ok || m == nil {
				return nil, nil, fmt.Errorf("line %d: %q: want file NAME=a.b.c.d", i+1, line)
			}
			files[name] = m[1]
		case strings.HasPrefix(line, "update "):
			updates = append(updates, strings.TrimPrefix(line, "update "))
		default:
			return nil, nil, fmt.Errorf("line %d: unexpected %q", i+1, line)
		}
	}
	sort.Strings(updates)
	return files, updates, nil
}
