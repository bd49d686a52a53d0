package inject

import (
	"context"
	"sync"

	"github.com/kbharness/kbharness/netcfg/lab"
)

// KB2901197BindFirst emulates KB2901197 in a lab: a stack that hands out a
// dynamic port without regard to the remote endpoint, so a port still
// closing (TIME_WAIT) comes back and the connect fails with EADDRINUSE. On
// Linux that is exactly what bind(port 0)-then-connect does; while this
// injector runs on a lab, the KB2901197 production spec hammers that lab in
// bind-then-connect mode instead of plain connect (see BindFirst). It
// changes nothing else.
const KB2901197BindFirst = "kb2901197-bind-first"

var (
	bindFirstMu   sync.Mutex
	bindFirstLabs = map[*lab.Lab]bool{}
)

func init() { Register(KB2901197BindFirst, startKB2901197BindFirst) }

func startKB2901197BindFirst(_ context.Context, l *lab.Lab) (func() error, error) {
	bindFirstMu.Lock()
	defer bindFirstMu.Unlock()
	bindFirstLabs[l] = true
	return func() error {
		bindFirstMu.Lock()
		defer bindFirstMu.Unlock()
		delete(bindFirstLabs, l)
		return nil
	}, nil
}

// BindFirst reports whether the KB2901197BindFirst injector runs on l.
func BindFirst(l *lab.Lab) bool {
	bindFirstMu.Lock()
	defer bindFirstMu.Unlock()
	return bindFirstLabs[l]
}
