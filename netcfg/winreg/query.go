package winreg

import (
	"fmt"
	"strings"
)

// QueryArgv is `reg query HKLM\<PersistentRoutesKey>`: the persistent
// IPv4 routes of a host reached by commands (reg.exe exists on every
// Windows kbharness drives).
func QueryArgv() []string { return []string{"reg", "query", `HKLM\` + PersistentRoutesKey} }

// ErrNoKey is reg.exe's answer for a missing key ("ERROR: The system was
// unable to find the specified registry key or value."): a host with no
// persistent route has no PersistentRoutes key.
const ErrNoKey = "unable to find the specified registry key or value"

// ParseQuery reads the value names of the key `reg query` listed:
//
//	HKEY_LOCAL_MACHINE\SYSTEM\...\PersistentRoutes
//	    0.0.0.0,0.0.0.0,192.0.2.1,-1    REG_SZ
//
// (four spaces before the name and around the type; the data, empty here,
// follows). Subkeys and other keys' lines are errors: the query names one
// key.
func ParseQuery(out string) ([]string, error) {
	var names []string
	header := false
	for i, line := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "HKEY_LOCAL_MACHINE\\"):
			if header || !strings.EqualFold(strings.TrimPrefix(line, "HKEY_LOCAL_MACHINE\\"), PersistentRoutesKey) {
				return nil, fmt.Errorf("reg query line %d: key %q, want only HKEY_LOCAL_MACHINE\\%s", i+1, line, PersistentRoutesKey)
			}
			header = true
		case strings.HasPrefix(line, "    ") && header:
			name, rest, ok := strings.Cut(strings.TrimPrefix(line, "    "), "    ")
			if !ok || !strings.HasPrefix(rest, "REG_") {
				return nil, fmt.Errorf("reg query line %d: %q is not NAME    TYPE    DATA", i+1, line)
			}
			names = append(names, name)
		default:
			return nil, fmt.Errorf("reg query line %d: unexpected %q", i+1, line)
		}
	}
	if !header {
		return nil, fmt.Errorf("reg query: no key header in %q", out)
	}
	return names, nil
}
