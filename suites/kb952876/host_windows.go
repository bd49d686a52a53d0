//go:build windows

package kb952876

import (
	"context"
	"fmt"

	"github.com/kbharness/kbharness/internal/tcpipreg"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/routeexe"
	"github.com/kbharness/kbharness/netcfg/winhost"
)

// openHost opens the local Windows host with every mechanism (route.exe,
// the churn's mechanism, among them).
func openHost() (netcfg.Host, error) { return winhost.OpenLocal(netcfg.Exec) }

// compareViews reads the registry view (PersistentRoutes value names) and
// the persistent store (`route print -4`, "Persistent Routes:") and says
// how they differ.
func compareViews(ctx context.Context) error {
	names, err := tcpipreg.RegistryRouteNames()
	if err != nil {
		return err
	}
	argv := routeexe.Print(netcfg.IPv4)
	out, err := netcfg.Exec.Run(ctx, argv)
	if err != nil {
		return err
	}
	m, err := tcpipreg.ComparePersistent(names, string(out.Stdout))
	if err != nil {
		return err
	}
	if !m.Empty() {
		return fmt.Errorf("PersistentRoutes registry view differs from the persistent store: only in the registry %v, only in route print %v", m.OnlyRegistry, m.OnlyOther)
	}
	return nil
}
