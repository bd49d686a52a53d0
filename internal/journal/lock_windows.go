//go:build windows

package journal

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the lock byte lies: far past any journal's end, so a
// reader through another handle never meets the (mandatory) lock.
const lockOffset = 1 << 62

// open opens or creates path with FILE_SHARE_DELETE, so the journal can be
// renamed and removed while open, as on Unix.
func open(path string, disposition uint32) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, disposition, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// lock takes an exclusive LockFileEx lock without waiting; errLive if
// another handle holds it.
func lock(f *os.File) error {
	ol := windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLive
	}
	if err != nil {
		return fmt.Errorf("locking %s: LockFileEx: %w", f.Name(), err)
	}
	return nil
}

// createLocked creates path (it must not exist) and locks it until the file
// is closed or the process dies.
func createLocked(path string) (*os.File, error) {
	f, err := open(path, windows.CREATE_NEW)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tryLock opens an existing journal and takes its lock without waiting.
func tryLock(path string) (*os.File, error) {
	f, err := open(path, windows.OPEN_EXISTING)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return nil, os.ErrNotExist
		}
		return nil, err
	}
	if err := lock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// syncDir is a no-op: NTFS journals directory entries itself, and Windows
// cannot open a directory for FlushFileBuffers without backup privileges.
func syncDir(string) error { return nil }
