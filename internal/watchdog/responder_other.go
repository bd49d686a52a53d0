//go:build !linux

package watchdog

import (
	"context"
	"net/netip"

	"github.com/kbharness/kbharness/netcfg"
)

// Responder is an echo responder process; only Linux labs run one.
type Responder struct {
	Namespace string
	Addr      netip.AddrPort
}

// StartResponder is unsupported off Linux: the peer side of a Windows lab is
// another machine, which runs its own responder.
func StartResponder(ctx context.Context, ns string, addr netip.AddrPort) (*Responder, error) {
	return nil, netcfg.Unsupported("echo responder in a namespace", "network namespaces exist only on Linux")
}

// Pid is 0: no process.
func (r *Responder) Pid() int { return 0 }

// Pause is unsupported off Linux.
func (r *Responder) Pause() error {
	return netcfg.Unsupported("pausing the echo responder", "SIGSTOP exists only on Unix")
}

// Resume is unsupported off Linux.
func (r *Responder) Resume() error {
	return netcfg.Unsupported("resuming the echo responder", "SIGCONT exists only on Unix")
}

// Stop does nothing.
func (r *Responder) Stop() error { return nil }

// guardParent does nothing: no responder runs off Linux.
func guardParent() {}
