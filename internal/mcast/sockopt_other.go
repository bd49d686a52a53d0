//go:build !linux && !windows

package mcast

import "github.com/kbharness/kbharness/netcfg"

func shareMulticastPort(uintptr) error {
	return netcfg.Unsupported("multicast receivers", "socket options are wired for Linux and Windows only")
}

func unsupportedSocket(err error) error { return err }
