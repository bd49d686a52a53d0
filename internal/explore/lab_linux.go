//go:build linux

package explore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
)

// InstallBackground adds n host routes from Background (198.18.0.0/15) via
// the first link's IPv4 gateway to the lab's host namespace in one
// `ip -n NS -batch FILE` run (n ≤ 131072).
func InstallBackground(ctx context.Context, l *lab.Lab, n int) error {
	if n > 1<<17 {
		return fmt.Errorf("installing background routes: %d is more than 198.18.0.0/15 holds", n)
	}
	gw := l.Gateway(0, netcfg.IPv4)
	var b bytes.Buffer
	a := Background.Addr()
	for range n {
		fmt.Fprintf(&b, "route add %s/32 via %s dev %s\n", a, gw, l.Interface(0))
		a = a.Next()
	}
	f, err := os.CreateTemp("", "kbh-background-*.batch")
	if err != nil {
		return fmt.Errorf("installing background routes: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("installing background routes: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("installing background routes: %w", err)
	}
	argv := []string{"ip", "-n", l.Namespaces[lab.HostRole], "-batch", f.Name()}
	if _, err := netcfg.Exec.Run(ctx, argv); err != nil {
		return fmt.Errorf("installing background routes: %w", err)
	}
	return nil
}

// RunIPScript runs an `ip` script the way a person would in the lab's host
// namespace (`ip netns exec NS sh FILE`) and returns its output and exit
// status.
func RunIPScript(ctx context.Context, l *lab.Lab, script string) (string, int, error) {
	dir, err := os.MkdirTemp("", "kbh-repro-")
	if err != nil {
		return "", 0, fmt.Errorf("running the repro script: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "repro.sh")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return "", 0, fmt.Errorf("running the repro script: %w", err)
	}
	out, err := linuxhost.Runner(l.Namespaces[lab.HostRole]).Run(ctx, []string{"sh", file})
	var ce *netcfg.CommandError
	if errors.As(err, &ce) && ce.Err == nil {
		return string(out.Combined()), out.ExitCode, nil // the script ran and failed
	}
	if err != nil {
		return string(out.Combined()), 0, fmt.Errorf("running the repro script: %w", err)
	}
	return string(out.Combined()), 0, nil
}
