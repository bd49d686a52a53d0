// Package statedir is where kbharness keeps what outlives a run on the
// machine it runs on: the undo journals and the results store.
package statedir

import (
	"os"
	"path/filepath"
	"runtime"
)

// Env overrides the state directory (tests, or a site's own layout).
const Env = "KBHARNESS_STATE_DIR"

// Path is name inside the state directory: $KBHARNESS_STATE_DIR if set,
// else %ProgramData%\kbharness on Windows and /var/lib/kbharness elsewhere
// (kept across a reboot).
func Path(name string) string {
	if d := os.Getenv(Env); d != "" {
		return filepath.Join(d, name)
	}
	if runtime.GOOS == "windows" {
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "kbharness", name)
	}
	return filepath.Join("/var/lib/kbharness", name)
}
