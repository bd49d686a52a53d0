//go:build linux

package explore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
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
	if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("installing background routes: %v: %w: %s", argv, err, firstLines(out, 5))
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
	argv := []string{"ip", "netns", "exec", l.Namespaces[lab.HostRole], "sh", file}
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode(), nil
	}
	if err != nil {
		return string(out), 0, fmt.Errorf("running the repro script: %v: %w", argv, err)
	}
	return string(out), 0, nil
}

func firstLines(b []byte, n int) string {
	lines := strings.SplitN(string(b), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
