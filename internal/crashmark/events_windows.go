//go:build windows

package crashmark

import (
	"context"

	"github.com/kbharness/kbharness/internal/winevent"
	"github.com/kbharness/kbharness/netcfg"
)

// QueryEvents runs the query with wevtutil (`wevtutil qe System /q:... /f:xml`)
// and parses its XML.
func QueryEvents(q winevent.Query) ([]winevent.Event, error) {
	argv, err := q.Argv()
	if err != nil {
		return nil, err
	}
	out, err := netcfg.Exec.Run(context.Background(), argv)
	if err != nil {
		return nil, err
	}
	return winevent.ParseXML(out.Stdout)
}
