package mcast

import (
	"errors"

	"golang.org/x/sys/windows"

	"github.com/kbharness/kbharness/netcfg"
)

// shareMulticastPort lets several receivers bind the same port
// (SO_REUSEADDR); Winsock delivers a socket only the groups it joined.
func shareMulticastPort(fd uintptr) error {
	return windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
}

// unsupportedSocket marks WSAEOPNOTSUPP (Wine 8 answers it to the
// SIO_UDP_CONNRESET ioctl Go makes on every UDP socket) as unsupported,
// so the spec skips with the reason.
func unsupportedSocket(err error) error {
	if errors.Is(err, windows.WSAEOPNOTSUPP) {
		return netcfg.Unsupported("multicast receiver", err.Error())
	}
	return err
}
