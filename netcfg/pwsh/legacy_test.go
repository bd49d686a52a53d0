package pwsh

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf16"
)

// decode is the script of an EncodedArgv.
func decode(t *testing.T, argv []string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(argv[len(argv)-1])
	if err != nil {
		t.Fatal(err)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

func TestLegacyScripts(t *testing.T) {
	argv, err := LegacyAddArgv(netip.MustParsePrefix("192.0.2.21/23"), 12)
	if err != nil {
		t.Fatal(err)
	}
	s := decode(t, argv)
	for _, want := range []string{LegacyType, "if (-not ('KbhIpHlp' -as [type]))", "[KbhIpHlp]::Add('192.0.2.21', '255.255.254.0', 12)", "$ErrorActionPreference = 'Stop'"} {
		if !strings.Contains(s, want) {
			t.Errorf("add script lacks %q:\n%s", want, s)
		}
	}
	if s := decode(t, LegacyDeleteArgv(4294967295)); !strings.HasSuffix(s, "[KbhIpHlp]::Delete(4294967295)") {
		t.Errorf("delete script ends %q", s[len(s)-40:])
	}
	if _, err := LegacyAddArgv(netip.MustParsePrefix("2001:db8::21/64"), 12); err == nil {
		t.Error("AddIPAddress of an IPv6 address: no error")
	}
	if strings.Contains(LegacyType, "=>") || strings.Contains(LegacyType, "$\"") || strings.Contains(LegacyType, "var ") {
		t.Error("LegacyType uses syntax newer than C# 2.0, which PowerShell 2.0's Add-Type cannot compile")
	}
}

func TestParseLegacyAdd(t *testing.T) {
	c, i, err := ParseLegacyAdd("\r\nNTEContext=7 NTEInstance=123456\r\n")
	if err != nil || c != 7 || i != 123456 {
		t.Errorf("ParseLegacyAdd = %d, %d, %v", c, i, err)
	}
	for _, bad := range []string{"", "NTEContext=7", "NTEContext=4294967296 NTEInstance=1", "Exception calling \"Add\""} {
		if _, _, err := ParseLegacyAdd(bad); err == nil {
			t.Errorf("ParseLegacyAdd(%q): no error", bad)
		}
	}
}
