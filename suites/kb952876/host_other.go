//go:build !windows

package kb952876

import (
	"context"

	"github.com/kbharness/kbharness/netcfg"
)

var errWindowsOnly = netcfg.Unsupported("KB952876", "Tcpipreg and its registry view exist only on Windows")

func openHost() (netcfg.Host, error) { return nil, errWindowsOnly }

func compareViews(ctx context.Context) error { return errWindowsOnly }
