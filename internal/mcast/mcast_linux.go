//go:build linux

package mcast

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Multicast routing socket options (linux/mroute.h); x/sys/unix lacks them.
const (
	mrtInit   = 200 // MRT_INIT
	mrtDone   = 201 // MRT_DONE
	mrtAddVIF = 202 // MRT_ADD_VIF
	mrtDelVIF = 203 // MRT_DEL_VIF
	mrtAddMFC = 204 // MRT_ADD_MFC
	mrtDelMFC = 205 // MRT_DEL_MFC

	viffUseIfindex = 0x8 // VIFF_USE_IFINDEX: vifc_lcl_ifindex instead of an address

	igmpmsgNoCache  = 1 // IGMPMSG_NOCACHE: traffic without an MFC entry
	igmpmsgWrongVIF = 2 // IGMPMSG_WRONGVIF
)

// Router is the multicast routing socket of one namespace: a raw IGMP socket
// on which MRT_INIT succeeded. The kernel forwards multicast by its VIFs and
// MFC entries while the socket is open; Close (MRT_DONE) removes them all
// and mc_forwarding drops back to 0.
type Router struct {
	do   Do
	fd   int
	file *os.File // the same socket, for reads through the poller

	mu       sync.Mutex
	upcalls  map[int]int // IGMPMSG type -> count
	igmp     int         // IGMP packets (joins, leaves, queries) seen
	readDone chan struct{}
}

// Open creates the multicast routing socket inside do's namespace:
// socket(AF_INET, SOCK_RAW, IPPROTO_IGMP) and setsockopt MRT_INIT. It fails
// with EADDRINUSE if another socket already routes multicast there.
func Open(do Do) (*Router, error) {
	r := &Router{do: do, fd: -1, upcalls: map[int]int{}, readDone: make(chan struct{})}
	err := do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_IGMP)
		if err != nil {
			return fmt.Errorf("socket(AF_INET, SOCK_RAW, IPPROTO_IGMP): %w", err)
		}
		r.fd = fd
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("opening multicast routing socket: %w", err)
	}
	if err := unix.SetsockoptInt(r.fd, unix.IPPROTO_IP, mrtInit, 1); err != nil {
		unix.Close(r.fd)
		return nil, fmt.Errorf("opening multicast routing socket: MRT_INIT: %w", err)
	}
	r.file = os.NewFile(uintptr(r.fd), "mroute")
	go r.read()
	return r, nil
}

// read drains the socket: kernel upcalls (IGMPMSG_*) and IGMP packets.
func (r *Router) read() {
	defer close(r.readDone)
	buf := make([]byte, 2048)
	for {
		n, err := r.file.Read(buf)
		if err != nil {
			return
		}
		if n < 20 {
			continue
		}
		r.mu.Lock()
		// struct igmpmsg overlays an IP header: im_mbz (the protocol
		// byte) is 0 for an upcall, 2 (IGMP) for a real packet.
		if buf[9] == 0 {
			r.upcalls[int(buf[8])]++
		} else {
			r.igmp++
		}
		r.mu.Unlock()
	}
}

// Stats says what the routing socket received so far.
type Stats struct {
	NoCache  int // IGMPMSG_NOCACHE upcalls: traffic arrived without an MFC entry
	WrongVIF int // IGMPMSG_WRONGVIF upcalls
	IGMP     int // IGMP packets (membership reports and leaves from receivers)
}

// Stats returns the counts of upcalls and IGMP packets.
func (r *Router) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{NoCache: r.upcalls[igmpmsgNoCache], WrongVIF: r.upcalls[igmpmsgWrongVIF], IGMP: r.igmp}
}

func (r *Router) setsockopt(opt int, value []byte) error {
	return unix.SetsockoptString(r.fd, unix.IPPROTO_IP, opt, string(value))
}

// ifindex resolves an interface name inside the router's namespace.
func (r *Router) ifindex(name string) (int, error) {
	var idx int
	err := r.do(func() error {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		idx = ifi.Index
		return nil
	})
	return idx, err
}

// vifctl encodes struct vifctl with VIFF_USE_IFINDEX.
func vifctl(vif uint16, ifindex int) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint16(b[0:], vif)
	b[2] = viffUseIfindex
	b[3] = 1 // vifc_threshold: minimum TTL to forward
	binary.NativeEndian.PutUint32(b[8:], uint32(ifindex))
	return b
}

// AddVIF makes interface ifname virtual interface vif: MRT_ADD_VIF with
// VIFF_USE_IFINDEX. The kernel sets the interface's mc_forwarding.
func (r *Router) AddVIF(vif uint16, ifname string) error {
	idx, err := r.ifindex(ifname)
	if err != nil {
		return fmt.Errorf("adding vif%d on %s: %w", vif, ifname, err)
	}
	if err := r.setsockopt(mrtAddVIF, vifctl(vif, idx)); err != nil {
		return fmt.Errorf("adding vif%d on %s: MRT_ADD_VIF: %w", vif, ifname, err)
	}
	return nil
}

// DelVIF removes virtual interface vif: MRT_DEL_VIF.
func (r *Router) DelVIF(vif uint16) error {
	if err := r.setsockopt(mrtDelVIF, vifctl(vif, 0)); err != nil {
		return fmt.Errorf("deleting vif%d: MRT_DEL_VIF: %w", vif, err)
	}
	return nil
}

// mfcctl encodes struct mfcctl: origin, group, parent vif, and a TTL
// threshold per vif (0: do not forward there; 1: forward TTL > 1).
func mfcctl(m MFC) ([]byte, error) {
	if !m.Source.Is4() || !m.Group.Is4() {
		return nil, fmt.Errorf("source %s and group %s must be IPv4", m.Source, m.Group)
	}
	if m.In >= MaxVIFs {
		return nil, fmt.Errorf("input vif %d out of range 0..%d", m.In, MaxVIFs-1)
	}
	b := make([]byte, 60)
	src, grp := m.Source.As4(), m.Group.As4()
	copy(b[0:], src[:])
	copy(b[4:], grp[:])
	binary.NativeEndian.PutUint16(b[8:], m.In)
	for _, o := range m.Out {
		if o >= MaxVIFs {
			return nil, fmt.Errorf("output vif %d out of range 0..%d", o, MaxVIFs-1)
		}
		b[10+int(o)] = 1
	}
	return b, nil
}

// AddMFC adds or replaces a forwarding cache entry: MRT_ADD_MFC.
func (r *Router) AddMFC(m MFC) error {
	b, err := mfcctl(m)
	if err == nil {
		err = r.setsockopt(mrtAddMFC, b)
	}
	if err != nil {
		return fmt.Errorf("adding MFC entry %s: MRT_ADD_MFC: %w", m, err)
	}
	return nil
}

// DelMFC removes a forwarding cache entry: MRT_DEL_MFC.
func (r *Router) DelMFC(m MFC) error {
	b, err := mfcctl(m)
	if err == nil {
		err = r.setsockopt(mrtDelMFC, b)
	}
	if err != nil {
		return fmt.Errorf("deleting MFC entry %s: MRT_DEL_MFC: %w", m, err)
	}
	return nil
}

// Close ends multicast routing (MRT_DONE) and closes the socket; the kernel
// drops every VIF and MFC entry of the namespace.
func (r *Router) Close() error {
	errDone := unix.SetsockoptInt(r.fd, unix.IPPROTO_IP, mrtDone, 1)
	errClose := r.file.Close()
	<-r.readDone
	if errDone != nil {
		errDone = fmt.Errorf("closing multicast routing: MRT_DONE: %w", errDone)
	}
	return errors.Join(errDone, errClose)
}

// MCForwarding reads net.ipv4.conf.<ifname>.mc_forwarding inside do's
// namespace ("all" for the namespace-wide flag, which MRT_INIT sets).
func MCForwarding(do Do, ifname string) (bool, error) {
	var v string
	err := do(func() error {
		// /proc/sys/net follows the namespace of the thread opening it.
		b, err := os.ReadFile("/proc/sys/net/ipv4/conf/" + ifname + "/mc_forwarding")
		v = strings.TrimSpace(string(b))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reading mc_forwarding of %s: %w", ifname, err)
	}
	return v != "0", nil
}
