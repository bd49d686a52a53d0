//go:build !windows

package netcfg

// startFailedTransiently: no start failure is transient off Windows.
func startFailedTransiently(error) bool { return false }
