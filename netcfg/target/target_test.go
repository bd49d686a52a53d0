package target

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

func TestParse(t *testing.T) {
	for raw, want := range map[string]URL{
		"local":                                  {Scheme: "local"},
		"netns:lab1":                             {Scheme: "netns", Host: "lab1"},
		"ssh://root@192.0.2.20":                  {Scheme: "ssh", User: "root", Host: "192.0.2.20"},
		"ssh://qa@[2001:db8::20]:2222":           {Scheme: "ssh", User: "qa", Host: "2001:db8::20", Port: 2222},
		"winrm://Administrator@198.51.100.7":     {Scheme: "winrm", User: "Administrator", Host: "198.51.100.7"},
		"psdirect://Win7-SP1?user=Administrator": {Scheme: "psdirect", User: "Administrator", Host: "Win7-SP1"},
	} {
		u, err := Parse(raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", raw, err)
			continue
		}
		if u.Scheme != want.Scheme || u.User != want.User || u.Host != want.Host || u.Port != want.Port || u.String() != raw {
			t.Errorf("Parse(%q) = %+v, want %+v", raw, *u, want)
		}
	}
	for raw, wantErr := range map[string]string{
		"ssh://root:hunter2@192.0.2.20": "password in the URL is refused",
		"ftp://192.0.2.20":              "unknown scheme",
		"netns:":                        "needs a namespace name",
		"ssh://192.0.2.20":              "no user",
		"ssh://root@192.0.2.20:99999":   "out of range",
		"ssh://root@192.0.2.20?http=1":  `unknown option "http"`,
		"winrm://a@192.0.2.20/wsman":    "unexpected path",
		"psdirect://vm:22":              "takes no port",
	} {
		_, err := Parse(raw)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Parse(%q) = %v, want an error with %q", raw, err, wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Parse(%q): the error shows the password: %v", raw, err)
		}
	}
	for raw, want := range map[string]string{
		"ssh://r@h": "h:22", "winrm://a@h": "h:5986", "winrm://a@h?http=1": "h:5985", "winrm://a@h:1234": "h:1234",
	} {
		if u, err := Parse(raw); err != nil || u.Address() != want {
			t.Errorf("Parse(%q).Address() = %v, %v; want %s", raw, u.Address(), err, want)
		}
	}
}

var argvCases = [][]string{
	{"route", "print"},
	{"netsh", "interface", "ipv4", "add", "address", "name=Local Area Connection 2", "address=192.0.2.21"},
	{"x", "", `a"b`, `c:\dir\`, `c:\dir with space\`, `\\server\share`, `a\\"b`, "a|b", "(x)", "^&<>", "tab\there"},
	{"powershell.exe", "-Command", `Get-NetRoute | ? { $_.DestinationPrefix -eq "0.0.0.0/0" }`},
}

func TestWindowsCommandLineRoundTrip(t *testing.T) {
	for _, argv := range argvCases {
		line := WindowsCommandLine(argv)
		if got := SplitWindowsCommandLine(line); !slices.Equal(got, argv) {
			t.Errorf("%q -> %s -> %q", argv, line, got)
		}
	}
	// Known splits of CommandLineToArgvW.
	for line, want := range map[string][]string{
		`a "b c" d`: {"a", "b c", "d"},
		`a\\\"b`:    {`a\"b`},
		`"a\\" b`:   {`a\`, "b"},
		`a\b`:       {`a\b`},
		`"a""b"`:    {`a"b`},
		`  x   y  `: {"x", "y"},
		`""`:        {""},
	} {
		if got := SplitWindowsCommandLine(line); !slices.Equal(got, want) {
			t.Errorf("SplitWindowsCommandLine(%s) = %q, want %q", line, got, want)
		}
	}
}

func FuzzWindowsCommandLine(f *testing.F) {
	for _, argv := range argvCases {
		f.Add(strings.Join(argv, "\x00"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		argv := strings.Split(joined, "\x00")
		if got := SplitWindowsCommandLine(WindowsCommandLine(argv)); !slices.Equal(got, argv) {
			t.Errorf("%q came back as %q", argv, got)
		}
	})
}

// TestShellCommandLine runs the quoted line in sh and reads the arguments
// back.
func TestShellCommandLine(t *testing.T) {
	for _, argv := range argvCases {
		line := ShellCommandLine(append([]string{"printf", `%s\0`}, argv...))
		out, err := exec.Command("sh", "-c", line).Output()
		if err != nil {
			t.Fatalf("sh -c %s: %v", line, err)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if !slices.Equal(got, argv) {
			t.Errorf("%q -> %s -> %q", argv, line, got)
		}
	}
}

// fakeRunner answers commands from a table keyed by the joined argv.
type fakeRunner map[string]netcfg.Output

func (f fakeRunner) Run(_ context.Context, argv []string) (netcfg.Output, error) {
	out, ok := f[strings.Join(argv, " ")]
	if !ok {
		out = netcfg.Output{Stderr: []byte(argv[0] + ": not found"), ExitCode: 127}
	}
	if out.ExitCode != 0 {
		return out, &netcfg.CommandError{Argv: argv, Output: out}
	}
	return out, nil
}

func TestProbe(t *testing.T) {
	psArgv := "powershell.exe -NoProfile -NonInteractive -EncodedCommand JABQAFMAVgBlAHIAcwBpAG8AbgBUAGEAYgBsAGUALgBQAFMAVgBlAHIAcwBpAG8AbgAuAFQAbwBTAHQAcgBpAG4AZwAoACkA"
	win7 := fakeRunner{
		"uname -sr":  {Stderr: []byte("'uname' is not recognized as an internal or external command"), ExitCode: 1},
		"cmd /c ver": {Stdout: []byte("\r\nMicrosoft Windows [Version 6.1.7601]\r\n")},
		psArgv:       {Stdout: []byte("2.0\r\n")},
	}
	for name, c := range map[string]struct {
		r    fakeRunner
		want Info
	}{
		"linux":         {fakeRunner{"uname -sr": {Stdout: []byte("Linux 6.1.0-13-amd64\n")}}, Info{Dialect: netcfg.DialectLinux, OS: "Linux 6.1.0-13-amd64", Version: "6.1.0-13-amd64"}},
		"windows 7":     {win7, Info{Dialect: netcfg.DialectWindows, OS: "Microsoft Windows [Version 6.1.7601]", Version: "6.1.7601", PowerShell: "2.0"}},
		"no powershell": {fakeRunner{"cmd /c ver": {Stdout: []byte("Microsoft Windows [Version 6.0.6002]")}}, Info{Dialect: netcfg.DialectWindows, OS: "Microsoft Windows [Version 6.0.6002]", Version: "6.0.6002"}},
	} {
		got, err := Probe(context.Background(), c.r)
		if err != nil || got != c.want {
			t.Errorf("%s: Probe = %+v, %v; want %+v", name, got, err, c.want)
		}
	}
	_, err := Probe(context.Background(), fakeRunner{"uname -sr": {Stdout: []byte("Darwin 23.0\n")}})
	if err == nil || !strings.Contains(err.Error(), "neither Linux nor Windows") {
		t.Errorf("Probe of a Mac = %v, want an error", err)
	}
}

func TestPSDirectScriptHoldsNoPassword(t *testing.T) {
	s := PSDirectScript("Win7 'lab'", "Administrator", []string{"route", "print", "it's"}, true)
	for _, want := range []string{"-VMName 'Win7 ''lab'''", "$env:" + psdirectPasswordVar, "@('route', 'print', 'it''s')", "[Console]::In.ReadToEnd()", "exit $r.Code"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
}
