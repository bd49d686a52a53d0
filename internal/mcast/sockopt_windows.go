package mcast

import "golang.org/x/sys/windows"

// shareMulticastPort lets several receivers bind the same port
// (SO_REUSEADDR); Winsock delivers a socket only the groups it joined.
func shareMulticastPort(fd uintptr) error {
	return windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
}
