package hostcheck

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/winhost"
	"github.com/kbharness/kbharness/suites/framework"
)

// crossCheck compares the two views of the IPv4 persistent store: the
// registry's PersistentRoutes (read in-process) and `route print -4`'s
// "Persistent Routes:".
func crossCheck(e *framework.Env) error {
	if !e.Host.Capabilities().Has(netcfg.RouteExe) {
		Skip("route.exe unsupported on this host: no command view of the persistent store to compare")
	}
	ctx := context.Background()
	s, err := e.Host.Snapshot(ctx)
	if err != nil {
		return err
	}
	m, err := winhost.CheckPersistentStore(ctx, netcfg.Exec, s)
	if err != nil {
		return err
	}
	if !m.Empty() {
		return fmt.Errorf("persistent store views differ: registry only %v, route print only %v", m.OnlyRegistry, m.OnlyOther)
	}
	return nil
}
