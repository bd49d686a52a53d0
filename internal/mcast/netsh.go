package mcast

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
)

// SetGlobalArgv builds `netsh interface ipv4 set global
// multicastforwarding=enabled|disabled`.
func SetGlobalArgv(enabled bool) []string {
	return []string{"netsh", "interface", "ipv4", "set", "global", "multicastforwarding=" + onOff(enabled)}
}

// SetInterfaceArgv builds `netsh interface ipv4 set interface "<name>"
// forwarding=enabled|disabled`. exec passes the alias as one argument, so
// spaces need no quoting.
func SetInterfaceArgv(ifname string, enabled bool) []string {
	return []string{"netsh", "interface", "ipv4", "set", "interface", "interface=" + ifname, "forwarding=" + onOff(enabled)}
}

// ShowGlobalArgv builds `netsh interface ipv4 show global`.
func ShowGlobalArgv() []string { return []string{"netsh", "interface", "ipv4", "show", "global"} }

// ShowInterfaceArgv builds `netsh interface ipv4 show interface interface="<name>"`.
func ShowInterfaceArgv(ifname string) []string {
	return []string{"netsh", "interface", "ipv4", "show", "interface", "interface=" + ifname}
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

// ParseMulticastForwarding reads the "Multicast Forwarding : enabled" line
// of `netsh interface ipv4 show global`.
func ParseMulticastForwarding(out string) (bool, error) {
	return parseSwitch(out, "Multicast Forwarding", "netsh interface ipv4 show global")
}

// ParseInterfaceForwarding reads the "Forwarding : enabled" line of
// `netsh interface ipv4 show interface interface=<name>`.
func ParseInterfaceForwarding(out string) (bool, error) {
	return parseSwitch(out, "Forwarding", "netsh interface ipv4 show interface")
}

// parseSwitch finds the "label : enabled|disabled" line (label matched
// exactly, case-insensitively) in netsh's list output.
func parseSwitch(out, label, command string) (bool, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for line := 1; sc.Scan(); line++ {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), label) {
			continue
		}
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "enabled":
			return true, nil
		case "disabled":
			return false, nil
		default:
			return false, fmt.Errorf("parsing %s output: line %d: %s is %q, want enabled or disabled", command, line, label, v)
		}
	}
	return false, fmt.Errorf("parsing %s output: no %q line", command, label)
}

// EnableForwarding turns on multicast forwarding globally (`netsh interface
// ipv4 set global multicastforwarding=enabled`) and forwarding on each
// interface (`netsh interface ipv4 set interface ... forwarding=enabled`),
// through r, and returns the function that puts back the values read
// beforehand with `show global` / `show interface`. Before each change,
// record is given the command that undoes it (a journal).
func EnableForwarding(ctx context.Context, r netcfg.Runner, record func(undo []string) error, ifnames ...string) (restore func() error, err error) {
	run := func(ctx context.Context, argv []string) (string, error) {
		out, err := r.Run(ctx, argv)
		return string(out.Stdout), err
	}
	var undo [][]string
	// set records the undo before the change: a crash between the two
	// still restores the old value.
	set := func(argv, back []string) error {
		if err := record(back); err != nil {
			return err
		}
		undo = append(undo, back)
		_, err := run(ctx, argv)
		return err
	}
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
	if err := set(SetGlobalArgv(true), SetGlobalArgv(was)); err != nil {
		return nil, errors.Join(fmt.Errorf("enabling multicast forwarding: %w", err), restore())
	}
	for _, ifname := range ifnames {
		out, err := run(ctx, ShowInterfaceArgv(ifname))
		if err == nil {
			was, err = ParseInterfaceForwarding(out)
		}
		if err == nil {
			err = set(SetInterfaceArgv(ifname, true), SetInterfaceArgv(ifname, was))
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("enabling forwarding on %s: %w", ifname, err), restore())
		}
	}
	return restore, nil
}
