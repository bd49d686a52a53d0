//go:build !windows

package crashmark

import "syscall"

// processAlive reports whether pid names a running process (kill(pid, 0)).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
