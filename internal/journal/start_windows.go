//go:build windows

package journal

import (
	"time"

	"golang.org/x/sys/windows"
)

// processStart is this process's creation time (GetProcessTimes).
func processStart() time.Time {
	var created, exited, kernel, user windows.Filetime
	if windows.GetProcessTimes(windows.CurrentProcess(), &created, &exited, &kernel, &user) != nil {
		return time.Time{}
	}
	return time.Unix(0, created.Nanoseconds()).UTC()
}
