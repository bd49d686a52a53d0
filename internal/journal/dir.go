package journal

import (
	"os"
	"path/filepath"
	"runtime"
)

// DirEnv overrides the state directory (tests, or a site's own layout).
const DirEnv = "KBHARNESS_STATE_DIR"

// Dir is where journals live: $KBHARNESS_STATE_DIR/journal if set, else
// %ProgramData%\kbharness\journal on Windows and
// /var/lib/kbharness/journal elsewhere (kept across a reboot, like a
// remote guest's persistent routes).
func Dir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return filepath.Join(d, "journal")
	}
	if runtime.GOOS == "windows" {
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "kbharness", "journal")
	}
	return "/var/lib/kbharness/journal"
}
