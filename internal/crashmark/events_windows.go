//go:build windows

package crashmark

import (
	"fmt"
	"os/exec"

	"github.com/kbharness/kbharness/internal/winevent"
)

// QueryEvents runs the query with wevtutil (`wevtutil qe System /q:... /f:xml`)
// and parses its XML.
func QueryEvents(q winevent.Query) ([]winevent.Event, error) {
	argv, err := q.Argv()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return nil, fmt.Errorf("running %q: %w: %s", argv, err, out)
	}
	return winevent.ParseXML(out)
}
