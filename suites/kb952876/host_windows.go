//go:build windows

package kb952876

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/kbharness/kbharness/internal/tcpipreg"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/routeexe"
)

// openHost opens the local Windows host.
func openHost() (netcfg.Host, error) { return netcfg.OpenLocal() }

// compareViews reads the registry view (PersistentRoutes value names) and
// the persistent store (`route print -4`, "Persistent Routes:") and says
// how they differ.
func compareViews(ctx context.Context) error {
	names, err := tcpipreg.RegistryRouteNames()
	if err != nil {
		return err
	}
	argv := routeexe.Print(netcfg.IPv4)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return fmt.Errorf("running %q: %w: %s", argv, err, out)
	}
	m, err := tcpipreg.ComparePersistent(names, string(out))
	if err != nil {
		return err
	}
	if !m.Empty() {
		return fmt.Errorf("PersistentRoutes registry view differs from the persistent store: only in the registry %v, only in route print %v", m.OnlyRegistry, m.OnlyOther)
	}
	return nil
}
