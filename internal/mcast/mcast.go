// Package mcast drives IPv4 multicast forwarding on a host under test.
//
// Linux (mcast_linux.go): the kernel's multicast routing API in a network
// namespace — a raw IGMP socket with MRT_INIT, virtual interfaces (MRT_ADD_VIF),
// forwarding cache entries (MRT_ADD_MFC) — plus UDP senders and receivers
// for real traffic. Windows (netsh.go, netsh_windows.go): the netsh global
// and per-interface switches, restored to the values they had. Elsewhere
// (mcast_other.go) everything returns netcfg.ErrUnsupported.
package mcast

import (
	"fmt"
	"net/netip"
)

// MaxVIFs is the kernel's limit on virtual interfaces (MAXVIFS).
const MaxVIFs = 32

// MFC is one multicast forwarding cache entry: traffic from Source to Group
// arriving on VIF In is forwarded out of the VIFs in Out.
type MFC struct {
	Source, Group netip.Addr
	In            uint16
	Out           []uint16
}

func (m MFC) String() string {
	return fmt.Sprintf("(%s, %s) iif vif%d oif vifs %v", m.Source, m.Group, m.In, m.Out)
}

// Do runs fn inside the namespace the engine acts in (lab.Lab.Do with a
// role). Sockets made inside fn stay in that namespace.
type Do func(fn func() error) error
