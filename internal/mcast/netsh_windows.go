//go:build windows

package mcast

import (
	"context"
	"errors"
	"fmt"

	"github.com/kbharness/kbharness/netcfg"
)

// run runs a netsh argv; its error carries argv and output.
func run(ctx context.Context, argv []string) (string, error) {
	out, err := netcfg.Exec.Run(ctx, argv)
	return string(out.Combined()), err
}

// EnableForwarding turns on multicast forwarding globally (`netsh interface
// ipv4 set global multicastforwarding=enabled`) and forwarding on each
// interface (`netsh interface ipv4 set interface ... forwarding=enabled`),
// and returns the function that puts back the values read beforehand with
// `show global` / `show interface`.
func EnableForwarding(ctx context.Context, ifnames ...string) (restore func() error, err error) {
	var undo [][]string
	restore = func() error {
		var errs []error
		for i := len(undo) - 1; i >= 0; i-- {
			if _, err := run(context.Background(), undo[i]); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	out, err := run(ctx, ShowGlobalArgv())
	if err != nil {
		return nil, fmt.Errorf("enabling multicast forwarding: %w", err)
	}
	was, err := ParseMulticastForwarding(out)
	if err != nil {
		return nil, fmt.Errorf("enabling multicast forwarding: %w", err)
	}
	if _, err := run(ctx, SetGlobalArgv(true)); err != nil {
		return nil, fmt.Errorf("enabling multicast forwarding: %w", err)
	}
	undo = append(undo, SetGlobalArgv(was))
	for _, ifname := range ifnames {
		out, err := run(ctx, ShowInterfaceArgv(ifname))
		if err == nil {
			was, err = ParseInterfaceForwarding(out)
		}
		if err == nil {
			_, err = run(ctx, SetInterfaceArgv(ifname, true))
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("enabling forwarding on %s: %w", ifname, err), restore())
		}
		undo = append(undo, SetInterfaceArgv(ifname, was))
	}
	return restore, nil
}
