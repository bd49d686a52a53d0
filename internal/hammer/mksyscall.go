package hammer

// In a file without an OS suffix so that `go generate` runs on any host.

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syscall_windows.go
