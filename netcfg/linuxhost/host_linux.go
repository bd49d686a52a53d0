//go:build linux

package linuxhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// nsHost is a Host bound to one network namespace. Its netlink sockets are
// created inside the namespace once, at open (vishvananda/netlink switches a
// locked thread in and straight back for that); observing and changing the
// namespace afterwards never moves a thread.
type nsHost struct {
	name   string
	ns     netns.NsHandle
	h      *netlink.Handle  // mutations and link listing
	dump   *nl.SocketHandle // RTM_GETROUTE/RTM_GETADDR dumps, decoded by rtnl_linux.go
	ipPath string           // `ip` binary, "" if not on PATH
	ipv6   bool

	mu    sync.Mutex
	names map[int]string // ifindex → name, refreshed by Snapshot and on misses

	closeOnce sync.Once
	dropped   atomic.Int64 // event socket overflows, see Subscribe
}

// OpenNamespace returns a Host bound to the named network namespace
// (/run/netns/NAME) through a netlink handle (netlink.NewHandleAt) and a
// NETLINK_ROUTE socket opened in it. Close releases both and the namespace
// file descriptor.
//
// Linux has no separate persistent store: Snapshot reports every main-table
// route with protocol "static" a second time with Store=StorePersistent (see
// Store), so "persistent" routes are the ones added with
// RouteSpec.Persistent.
func OpenNamespace(name string) (netcfg.Host, error) {
	ns, err := netns.GetFromName(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %w", netcfg.ErrNotFound, err)
		}
		return nil, fmt.Errorf("opening namespace %s: %w", name, err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("opening netlink handle in namespace %s: %w", name, err)
	}
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		ns.Close()
		return nil, fmt.Errorf("opening netlink socket in namespace %s: %w", name, err)
	}
	host := &nsHost{name: name, ns: ns, h: h, dump: &nl.SocketHandle{Socket: s}, names: map[int]string{}}
	if p, err := exec.LookPath("ip"); err == nil {
		host.ipPath = p
	}
	if _, err := os.Stat("/proc/net/if_inet6"); err == nil {
		host.ipv6 = true
	}
	return host, nil
}

func (h *nsHost) Name() string { return h.name }

// Capabilities: netlink always; iproute2 when `ip` is on PATH; no persistent
// store distinct from the active table; events; IPv6 when the kernel has it
// (/proc/net/if_inet6).
func (h *nsHost) Capabilities() netcfg.Capabilities {
	c := netcfg.Capabilities{Dialect: netcfg.DialectLinux, Mechanisms: []netcfg.Mechanism{netcfg.Netlink}, Events: true, IPv6: h.ipv6}
	if h.ipPath != "" {
		c.Mechanisms = append(c.Mechanisms, netcfg.IPRoute2)
	} else {
		c.Missing = map[netcfg.Mechanism]string{netcfg.IPRoute2: "ip (iproute2) not found on PATH"}
	}
	return c
}

// Close releases the netlink sockets and the namespace file descriptor.
func (h *nsHost) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.h.Close()
		h.dump.Close()
		err = h.ns.Close()
	})
	return err
}

// ifname returns the name of interface index i, asking the kernel
// (RTM_GETLINK) on a cache miss, or the index as a string if it is gone.
func (h *nsHost) ifname(i int) string {
	h.mu.Lock()
	n, ok := h.names[i]
	h.mu.Unlock()
	if ok {
		return n
	}
	l, err := h.h.LinkByIndex(i)
	if err != nil {
		return fmt.Sprintf("if%d", i)
	}
	n = l.Attrs().Name
	h.mu.Lock()
	h.names[i] = n
	h.mu.Unlock()
	return n
}

// Snapshot lists links (RTM_GETLINK), addresses of both families
// (RTM_GETADDR dump) and the routes of every table, both families
// (RTM_GETROUTE dump, like `ip route show table all`).
//
// A link is Up when it is administratively up (IFF_UP) and its operstate
// (IFLA_OPERSTATE) is "up" or "unknown" (loopback, drivers without carrier
// reporting); "down", "lowerlayerdown" (a veth whose peer is down),
// "dormant", ... are not up. Address Origin is the
// IFA_PROTO name ("kernel_ll", ...) when the kernel sets it, else "".
// Route Protocol, Type and Table are named as iproute2 names them (Table ""
// for main); Metric is RTA_PRIORITY. Each main-table "static" route is also
// reported with Store=StorePersistent.
func (h *nsHost) Snapshot(ctx context.Context) (*netcfg.Snapshot, error) {
	s := &netcfg.Snapshot{Taken: time.Now()}
	links, err := h.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing links in %s: %w", h.name, err)
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		a := l.Attrs()
		names[a.Index] = a.Name
		mac := a.HardwareAddr.String()
		if mac == "00:00:00:00:00:00" {
			mac = "" // loopback
		}
		s.Interfaces = append(s.Interfaces, netcfg.Interface{
			Index: a.Index,
			Name:  a.Name,
			MAC:   mac,
			Up:    a.Flags&net.FlagUp != 0 && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown),
			MTU:   a.MTU,
		})
	}
	h.mu.Lock()
	h.names = names
	h.mu.Unlock()
	ifname := func(i int) string {
		if n, ok := names[i]; ok {
			return n
		}
		return h.ifname(i)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = h.dumpMessages(unix.RTM_GETADDR, sizeofIfAddrmsg, unix.RTM_NEWADDR, func() { s.Addresses = nil }, func(m []byte) error {
		a, ok, err := decodeAddr(m, ifname)
		if ok {
			s.Addresses = append(s.Addresses, a)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing addresses in %s: %w", h.name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = h.dumpMessages(unix.RTM_GETROUTE, sizeofRtMsg, unix.RTM_NEWROUTE, func() { s.Routes = s.Routes[:0] }, func(m []byte) error {
		var err error
		s.Routes, err = decodeRoute(m, ifname, s.Routes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing routes in %s: %w", h.name, err)
	}
	s.Routes = iproute2.WithPersistentView(s.Routes)
	return s, nil
}

// dumpMessages sends an AF_UNSPEC dump request of type req (with a zeroed
// header of hdrLen bytes) and calls f for every reply of type res. An
// interrupted dump (NLM_F_DUMP_INTR: the table changed meanwhile) is retried
// after calling reset to discard what f collected.
func (h *nsHost) dumpMessages(req uint16, hdrLen int, res uint16, reset func(), f func([]byte) error) error {
	const attempts = 5
	for i := 0; ; i++ {
		r := nl.NewNetlinkRequest(int(req), unix.NLM_F_DUMP)
		r.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: h.dump}
		r.AddRawData(make([]byte, hdrLen))
		var ferr error
		err := r.ExecuteIter(unix.NETLINK_ROUTE, res, func(m []byte) bool {
			ferr = f(m)
			return ferr == nil
		})
		if ferr != nil {
			return ferr
		}
		if errors.Is(err, nl.ErrDumpInterrupted) && i+1 < attempts {
			reset()
			continue
		}
		return err
	}
}
