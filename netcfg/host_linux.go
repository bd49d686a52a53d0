//go:build linux

package netcfg

// OpenNamespace returns a Host bound to the named network namespace
// (/run/netns/NAME), without moving the calling thread.
func OpenNamespace(name string) (Host, error) {
	return nil, Unsupported("namespace host", "not implemented yet")
}
