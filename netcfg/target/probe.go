package target

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

// Info is what the probe found on a target.
type Info struct {
	Dialect    netcfg.Dialect
	OS         string // "Linux 6.1.0-13-amd64", "Microsoft Windows [Version 6.1.7601]"
	Version    string // Windows: "6.1.7601"; Linux: the kernel release
	PowerShell string // Windows: $PSVersionTable.PSVersion, "" if PowerShell is missing
}

func (i Info) String() string {
	s := fmt.Sprintf("%s (%s dialect)", i.OS, i.Dialect)
	if i.Dialect == netcfg.DialectWindows {
		ps := i.PowerShell
		if ps == "" {
			ps = "none"
		}
		s += ", PowerShell " + ps
	}
	return s
}

// winVer is `ver`'s answer: "Microsoft Windows [Version 6.1.7601]" (Wine:
// "Microsoft Windows 6.1.7601").
var winVer = regexp.MustCompile(`Microsoft Windows (?:\[Version )?(\d+\.\d+\.\d+)`)

// ParseVer reads `cmd /c ver`: the line that names the version and the
// version ("6.1.7601").
func ParseVer(out string) (line, version string, err error) {
	for _, l := range strings.Split(out, "\n") {
		if m := winVer.FindStringSubmatch(l); m != nil {
			return strings.TrimSpace(l), m[1], nil
		}
	}
	return "", "", fmt.Errorf("no Windows version in %q", strings.TrimSpace(out))
}

// Probe finds the target's OS, version and dialect: `uname -sr` answers on
// Linux; `cmd /c ver` on Windows, whose PowerShell version is then read
// from $PSVersionTable (absent on a 2008 without the feature). Output that
// matches neither is an error quoting it.
func Probe(ctx context.Context, r netcfg.Runner) (Info, error) {
	out, unameErr := r.Run(ctx, []string{"uname", "-sr"})
	if s := strings.TrimSpace(string(out.Stdout)); unameErr == nil && strings.HasPrefix(s, "Linux ") {
		return Info{Dialect: netcfg.DialectLinux, OS: s, Version: strings.TrimPrefix(s, "Linux ")}, nil
	}
	out, verErr := r.Run(ctx, []string{"cmd", "/c", "ver"})
	line, version, err := ParseVer(string(out.Stdout))
	if verErr != nil || err != nil {
		return Info{}, fmt.Errorf("neither Linux nor Windows: `uname -sr`: %s; `cmd /c ver`: %s", describe(unameErr, nil), describe(verErr, out.Stdout))
	}
	info := Info{Dialect: netcfg.DialectWindows, OS: line, Version: version}
	// Encoded: base64 passes any shell unchanged, whichever quoting the
	// runner applies before it knows the dialect.
	out, err = r.Run(ctx, pwsh.EncodedArgv("$PSVersionTable.PSVersion.ToString()"))
	if v := strings.TrimSpace(string(out.Stdout)); err == nil && psVer.MatchString(v) {
		info.PowerShell = v
	}
	return info, nil
}

var psVer = regexp.MustCompile(`^\d+\.\d+(\.\d+)*$`)

func describe(err error, out []byte) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("unrecognised answer %q", strings.TrimSpace(string(out)))
}
