package hostfacts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/target"
	"github.com/kbharness/kbharness/reports"
)

type answers map[string]string

func (a answers) Run(_ context.Context, argv []string) (netcfg.Output, error) {
	if out, ok := a[strings.Join(argv, " ")]; ok {
		return netcfg.Output{Stdout: []byte(out)}, nil
	}
	return netcfg.Output{ExitCode: 1}, &netcfg.CommandError{Argv: argv, Err: errors.New("not found")}
}

func TestCollectWindows(t *testing.T) {
	a := answers{
		"cmd /c ver": "\r\nMicrosoft Windows [Version 6.1.7601]\r\n",
		strings.Join(CurrentVersionArgv("ProductName"), " "): "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\r\n    ProductName    REG_SZ    Windows Server 2008 R2 Enterprise\r\n\r\n",
		strings.Join(CurrentVersionArgv("UBR"), " "):         "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\r\n    UBR    REG_DWORD    0x5dc0\r\n\r\n",
		strings.Join(FilesArgv(), " "): "file tcpip.sys=6.1.7601.24000 (win7sp1_ldr.180104-1700)\r\nfile netio.sys=6.1.7601.23418\r\n" +
			"file ntoskrnl.exe=6.1.7601.24059\r\nupdate KB976932\r\nupdate KB2901197\r\n",
	}
	var f reports.Facts
	Collect(context.Background(), a, netcfg.DialectWindows, &f)
	if f.OS != "windows" || f.OSName != "Windows Server 2008 R2 Enterprise" || f.Build != "6.1.7601" || f.UBR != 24000 ||
		f.Files["tcpip.sys"] != "6.1.7601.24000" || len(f.Files) != 3 || !slices.Equal(f.Updates, []string{"KB2901197", "KB976932"}) || len(f.Errors) != 0 {
		t.Errorf("facts = %+v", f)
	}
	// Wine: its own ver line, no UBR, no PowerShell facts: noted, not guessed.
	var w reports.Facts
	Collect(context.Background(), answers{"cmd /c ver": "\r\nMicrosoft Windows 6.1.7601\r\n"}, netcfg.DialectWindows, &w)
	if w.Build != "6.1.7601" || w.UBR != 0 || len(w.Errors) != 3 {
		t.Errorf("Wine facts = %+v", w)
	}
}

func TestCollectLinux(t *testing.T) {
	var f reports.Facts
	Collect(context.Background(), answers{"uname -sr": "Linux 6.1.0-13-amd64\n"}, netcfg.DialectLinux, &f)
	if f.OS != "linux" || f.Build != "6.1.0-13-amd64" || f.OSName != "Linux 6.1.0-13-amd64" {
		t.Errorf("facts = %+v", f)
	}
}

func TestParseErrors(t *testing.T) {
	if _, _, err := target.ParseVer("Darwin"); err == nil {
		t.Error("ParseVer(Darwin): no error")
	}
	if _, _, err := ParseFiles("file tcpip.sys=unknown\r\n"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("ParseFiles of a bad version: %v", err)
	}
	if _, _, err := ParseFiles("Get-HotFix : access denied\r\n"); err == nil {
		t.Error("ParseFiles of an error line: no error")
	}
	if _, err := ParseRegValue("ERROR: The system was unable to find the specified registry key or value.", "UBR"); err == nil {
		t.Error("ParseRegValue of a missing value: no error")
	}
}
