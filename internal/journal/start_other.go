//go:build !linux && !windows

package journal

import "time"

// processStart is unknown here: the lock, not the start time, tells a live
// owner from a dead one.
func processStart() time.Time { return time.Time{} }
