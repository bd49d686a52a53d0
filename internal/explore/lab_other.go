//go:build !linux

package explore

import (
	"context"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// InstallBackground is unsupported: it needs a namespace lab.
func InstallBackground(ctx context.Context, l *lab.Lab, n int) error {
	return netcfg.Unsupported("background routes", "namespace labs exist only on Linux")
}

// RunIPScript is unsupported: `ip` scripts run in namespace labs.
func RunIPScript(ctx context.Context, l *lab.Lab, script string) (string, int, error) {
	return "", 0, netcfg.Unsupported("ip scripts", "namespace labs exist only on Linux")
}
