package journal

import "github.com/kbharness/kbharness/internal/statedir"

// DirEnv overrides the state directory (tests, or a site's own layout).
const DirEnv = statedir.Env

// Dir is where journals live: "journal" in the state directory
// ($KBHARNESS_STATE_DIR, else %ProgramData%\kbharness on Windows and
// /var/lib/kbharness elsewhere: kept across a reboot, like a remote
// guest's persistent routes).
func Dir() string { return statedir.Path("journal") }
