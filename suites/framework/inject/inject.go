// Package inject holds the defect injectors: code acting on the real kernel
// inside a lab namespace that emulates a KB bug, so that every suite is shown
// to fail when the bug is present. The suite framework starts the injectors
// named by -kb.inject / KBHARNESS_INJECT in every lab it builds.
package inject

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/kbharness/kbharness/netcfg/lab"
)

// StartFunc starts an injector on a lab and returns the function that stops
// it. It must not alter anything outside the lab's namespaces.
type StartFunc func(ctx context.Context, l *lab.Lab) (stop func() error, err error)

var (
	mu       sync.Mutex
	registry = map[string]StartFunc{}
)

// Register adds an injector under name. It panics on a duplicate name: that
// is a programming error caught at init.
func Register(name string, start StartFunc) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("inject: duplicate injector " + name)
	}
	registry[name] = start
}

// Names lists the registered injectors.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Start starts the named injector on l. It refuses a lab kbharness did not
// build (an attached namespace, a Windows lab VM): injectors break hosts.
func Start(ctx context.Context, name string, l *lab.Lab) (stop func() error, err error) {
	if !l.Owned() {
		return nil, fmt.Errorf("starting injector %q: refused on %s, a host kbharness did not build: injectors run only in namespace labs it builds", name, l.ID)
	}
	mu.Lock()
	start, ok := registry[name]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("starting injector %q: unknown (known: %v)", name, Names())
	}
	stop, err = start(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("starting injector %q: %w", name, err)
	}
	return stop, nil
}
