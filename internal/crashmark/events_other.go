//go:build !windows

package crashmark

import (
	"github.com/kbharness/kbharness/internal/winevent"
	"github.com/kbharness/kbharness/netcfg"
)

// QueryEvents is unsupported off Windows: there is no System event log.
func QueryEvents(q winevent.Query) ([]winevent.Event, error) {
	return nil, netcfg.Unsupported("System event log", "wevtutil exists only on Windows")
}
