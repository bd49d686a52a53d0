package netcfg

import (
	"errors"

	"golang.org/x/sys/windows"
)

// startFailedTransiently reports a CreateProcess failure with
// ERROR_INTERNAL_ERROR ("fork/exec …: Internal error."), which Wine 8
// returns now and then under load (seen for route.exe and powershell.exe
// in the Wine suite runs) and which leaves no process behind.
func startFailedTransiently(err error) bool {
	return errors.Is(err, windows.ERROR_INTERNAL_ERROR)
}
