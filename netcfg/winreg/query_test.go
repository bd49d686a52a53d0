package winreg

import (
	"slices"
	"strings"
	"testing"
)

// The format is reg.exe's as documented (no capture of a PersistentRoutes
// query is in ../shared/samples): the key, then one line per value.
func TestParseQuery(t *testing.T) {
	out := "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\PersistentRoutes\r\n" +
		"    0.0.0.0,0.0.0.0,192.0.2.1,-1    REG_SZ    \r\n" +
		"    198.51.100.0,255.255.255.0,192.0.2.1,5    REG_SZ    \r\n\r\n"
	names, err := ParseQuery(out)
	if want := []string{"0.0.0.0,0.0.0.0,192.0.2.1,-1", "198.51.100.0,255.255.255.0,192.0.2.1,5"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("ParseQuery = %q, %v; want %q", names, err, want)
	}
	if names, err := ParseQuery("\r\nHKEY_LOCAL_MACHINE\\" + PersistentRoutesKey + "\r\n\r\n"); err != nil || len(names) != 0 {
		t.Errorf("an empty key: %q, %v", names, err)
	}
	for _, bad := range []string{
		"",
		"ERROR: The system was unable to find the specified registry key or value.\r\n",
		"HKEY_LOCAL_MACHINE\\SOFTWARE\\Other\r\n    x    REG_SZ    \r\n",
		"HKEY_LOCAL_MACHINE\\" + PersistentRoutesKey + "\r\n    no-type-here\r\n",
		"HKEY_LOCAL_MACHINE\\" + PersistentRoutesKey + "\r\nHKEY_LOCAL_MACHINE\\" + PersistentRoutesKey + "\\Sub\r\n",
	} {
		if _, err := ParseQuery(bad); err == nil {
			t.Errorf("ParseQuery(%q): no error", bad)
		}
	}
	if got := strings.Join(QueryArgv(), " "); got != `reg query HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\PersistentRoutes` {
		t.Errorf("QueryArgv = %s", got)
	}
}
