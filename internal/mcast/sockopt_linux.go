package mcast

import "golang.org/x/sys/unix"

// shareMulticastPort lets several receivers bind the same port
// (SO_REUSEADDR) and receive only the groups they joined themselves
// (IP_MULTICAST_ALL off).
func shareMulticastPort(fd uintptr) error {
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	return unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
}

// unsupportedSocket returns err: Linux supports every option used here.
func unsupportedSocket(err error) error { return err }
