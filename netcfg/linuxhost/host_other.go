//go:build !linux

package linuxhost

import "github.com/kbharness/kbharness/netcfg"

// OpenNamespace is unsupported here: network namespaces exist only on Linux.
func OpenNamespace(name string) (netcfg.Host, error) {
	return nil, netcfg.Unsupported("namespace host "+name, "network namespaces exist only on Linux")
}

// Do is unsupported here: network namespaces exist only on Linux. With ns
// "" it runs fn.
func Do(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	return netcfg.Unsupported("namespace "+ns, "network namespaces exist only on Linux")
}
