//go:build linux

package watchdog

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
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
//
// The responder dies with this process, also on kill -9: it is forked with
// PR_SET_PDEATHSIG SIGKILL (SysProcAttr.Pdeathsig) from the spawner thread,
// and re-arms the signal and checks its parent itself once it runs
// (ServeIfResponder).
func StartResponder(ctx context.Context, ns string, addr netip.AddrPort) (*Responder, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("starting echo responder: finding own binary: %w", err)
	}
	r := &Responder{Namespace: ns, Addr: addr, exited: make(chan struct{})}
	argv := []string{"ip", "netns", "exec", ns, self}
	r.cmd = exec.Command(argv[0], argv[1:]...)
	r.cmd.Env = append(os.Environ(), ResponderEnv+"="+addr.String(), ParentEnv+"="+strconv.Itoa(os.Getpid()))
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting echo responder %v: %w", argv, err)
	}
	if err := onSpawner(r.cmd.Start); err != nil {
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

// The parent-death signal fires when the *thread* that forked the child
// exits, not the process (prctl(2): "the 'parent' in this case is
// considered to be the thread that created this process"). The Go runtime
// keeps its threads except one whose goroutine exits while locked to it —
// which the namespace helper (linuxhost.Do) does on purpose when
// they cannot switch a thread back. So helpers are forked only from the
// spawner: one goroutine locked to its thread for the life of the process,
// never switched into another namespace and never returning, which no other
// goroutine can run on, lock or retire.
var spawner struct {
	once sync.Once
	reqs chan func()
}

// onSpawner runs start (an exec.Cmd's Start) on the spawner thread and
// returns its error.
func onSpawner(start func() error) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for req := range spawner.reqs {
				req()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- func() { errc <- start() }
	return <-errc
}

// guardParent runs first in a responder: it arms PR_SET_PDEATHSIG SIGKILL
// itself (the bit survives `ip netns exec`'s execve unless a binary with
// file capabilities clears it) and then, if ParentEnv names the parent,
// exits when getppid() is no longer that parent: the parent died before the
// signal was armed, and the responder was reparented (to pid 1 or a
// subreaper).
func guardParent() {
	want := os.Getenv(ParentEnv)
	if want == "" {
		return
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "echo responder: prctl(PR_SET_PDEATHSIG): %v\n", err)
		os.Exit(3)
	}
	if got := strconv.Itoa(os.Getppid()); got != want {
		fmt.Fprintf(os.Stderr, "echo responder: parent %s is gone (getppid() = %s): exiting\n", want, got)
		os.Exit(3)
	}
}
