//go:build !linux && !windows

package netcfg

// OpenNamespace is unsupported here: network namespaces exist only on Linux.
func OpenNamespace(name string) (Host, error) {
	return nil, Unsupported("namespace host "+name, "network namespaces exist only on Linux")
}
