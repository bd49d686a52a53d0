package iphlpapi

// The directive lives in a file without an OS suffix so that `go generate`
// runs it on any host (mkwinsyscall itself is portable).

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syscall_windows.go
