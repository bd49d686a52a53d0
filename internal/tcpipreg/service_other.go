//go:build !windows

package tcpipreg

import "github.com/kbharness/kbharness/netcfg"

var errNoSCM = netcfg.Unsupported("service "+ServiceName, "the TCP/IP Registry Compatibility service exists only on Windows")

// Open is unsupported off Windows.
func Open(name string) (Controller, func() error, error) { return nil, nil, errNoSCM }

// RegistryRouteNames is unsupported off Windows.
func RegistryRouteNames() ([]string, error) { return nil, errNoSCM }
