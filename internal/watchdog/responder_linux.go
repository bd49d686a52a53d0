//go:build linux

package watchdog

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// Responder is an echo responder process: this binary re-executed with
// ResponderEnv inside a network namespace (`ip netns exec NS /proc/self/exe`),
// a separate process so a fault can SIGSTOP it.
type Responder struct {
	Namespace string
	Addr      netip.AddrPort
	cmd       *exec.Cmd
	stderr    strings.Builder
	exited    chan struct{}
}

// StartResponder starts an echo responder listening on addr inside the
// namespace ns (/run/netns/ns) and returns once it listens.
func StartResponder(ctx context.Context, ns string, addr netip.AddrPort) (*Responder, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("starting echo responder: finding own binary: %w", err)
	}
	r := &Responder{Namespace: ns, Addr: addr, exited: make(chan struct{})}
	argv := []string{"ip", "netns", "exec", ns, self}
	r.cmd = exec.Command(argv[0], argv[1:]...)
	r.cmd.Env = append(os.Environ(), ResponderEnv+"="+addr.String())
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting echo responder %v: %w", argv, err)
	}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting echo responder %v: %w", argv, err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == responderReady && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		r.cmd.Wait()
		close(r.exited)
	}()
	select {
	case ok := <-ready:
		if !ok {
			<-r.exited
			return nil, fmt.Errorf("starting echo responder %v: exited before listening: %s", argv, r.stderr.String())
		}
	case <-ctx.Done():
		r.cmd.Process.Kill()
		<-r.exited
		return nil, fmt.Errorf("starting echo responder %v: %w", argv, ctx.Err())
	}
	announce(r)
	return r, nil
}

// Pid is the responder's process id (`ip netns exec` execs in place).
func (r *Responder) Pid() int { return r.cmd.Process.Pid }

// Pause stops the responder with SIGSTOP: the kernel still accepts
// connections and data for it, but nothing is echoed.
func (r *Responder) Pause() error {
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pausing echo responder %d: %w", r.Pid(), err)
	}
	return nil
}

// Resume continues a paused responder with SIGCONT.
func (r *Responder) Resume() error {
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("resuming echo responder %d: %w", r.Pid(), err)
	}
	return nil
}

// Stop kills the responder and waits for it to exit.
func (r *Responder) Stop() error {
	withdraw(r)
	r.cmd.Process.Signal(syscall.SIGCONT)
	r.cmd.Process.Kill()
	<-r.exited
	return nil
}
