package hostcheck

import (
	"context"
	"fmt"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework"
)

// crossCheck compares the netlink snapshot with `ip -j addr show` and
// `ip -j route show table all` run in the host's namespace.
func crossCheck(e *framework.Env) error {
	ns := e.Lab.Namespaces[lab.HostRole]
	addrs, err := run(iproute2.ShowAddrs(ns))
	if err != nil {
		return err
	}
	routes, err := run(iproute2.ShowRoutes(ns))
	if err != nil {
		return err
	}
	fromIP, err := iproute2.ParseSnapshot(addrs, routes)
	if err != nil {
		return fmt.Errorf("parsing ip -j output: %w", err)
	}
	fromNetlink, err := e.Host.Snapshot(context.Background())
	if err != nil {
		return err
	}
	return errorIfDiffers("the netlink snapshot and `ip -j` output", netcfg.Diff(fromNetlink, fromIP))
}

func run(argv []string) ([]byte, error) {
	out, err := netcfg.Exec.Run(context.Background(), argv)
	return out.Stdout, err
}
