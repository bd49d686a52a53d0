//go:build windows

package crashmark

import "golang.org/x/sys/windows"

// processAlive reports whether pid names a running process (OpenProcess
// and GetExitCodeProcess still STILL_ACTIVE).
func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	var code uint32
	return windows.GetExitCodeProcess(h, &code) == nil && code == 259 // STILL_ACTIVE
}
