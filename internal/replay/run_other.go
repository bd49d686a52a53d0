//go:build !linux

package replay

import (
	"context"

	"github.com/kbharness/kbharness/netcfg"
)

// Run is unsupported: replay builds Linux namespace labs.
func Run(ctx context.Context, opts Options) (*Result, error) {
	return nil, netcfg.Unsupported("replay", "it builds a namespace lab from the fixture, which exists only on Linux")
}
