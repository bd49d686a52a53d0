package hammer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
)

// supported refuses the Windows-only modes.
func supported(c *Config) error {
	switch c.Mode {
	case ModePortScalability, ModeReuseUnicastPort:
		return netcfg.Unsupported("hammer mode "+string(c.Mode), "SO_PORT_SCALABILITY and SO_REUSE_UNICASTPORT exist only on Windows")
	}
	return nil
}

// tcpipEvents: Linux logs no Tcpip events; the errors tell all.
func tcpipEvents(context.Context, time.Time, time.Time) (map[int]int, error) { return nil, nil }

// classify maps a socket errno to its class.
func classify(err error) Class {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return ClassOther
	}
	switch errno {
	case unix.EADDRINUSE:
		return ClassAddrInUse
	case unix.EADDRNOTAVAIL, unix.ENOBUFS:
		return ClassExhausted
	case unix.ECONNREFUSED:
		return ClassRefused
	case unix.ETIMEDOUT, unix.EINPROGRESS, unix.EAGAIN: // EINPROGRESS/EAGAIN: SO_SNDTIMEO/SO_RCVTIMEO expired
		return ClassTimeout
	}
	return ClassOther
}

// inNetns runs fn inside the namespace (linuxhost.Do): sockets fn creates
// stay there.
func inNetns(name string, fn func() error) error { return linuxhost.Do(name, fn) }

// rawAddr is a prebuilt sockaddr for the hot loop.
type rawAddr struct {
	family int
	v4     unix.RawSockaddrInet4
	v6     unix.RawSockaddrInet6
}

func newRawAddr(ap netip.AddrPort) rawAddr {
	a := ap.Addr().Unmap()
	port := ap.Port()
	if a.Is4() {
		r := rawAddr{family: unix.AF_INET}
		r.v4.Family = unix.AF_INET
		r.v4.Addr = a.As4()
		p := (*[2]byte)(unsafe.Pointer(&r.v4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		return r
	}
	r := rawAddr{family: unix.AF_INET6}
	r.v6.Family = unix.AF_INET6
	r.v6.Addr = a.As16()
	p := (*[2]byte)(unsafe.Pointer(&r.v6.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	return r
}

func (r *rawAddr) ptr() (uintptr, uintptr) {
	if r.family == unix.AF_INET {
		return uintptr(unsafe.Pointer(&r.v4)), unsafe.Sizeof(r.v4)
	}
	return uintptr(unsafe.Pointer(&r.v6)), unsafe.Sizeof(r.v6)
}

// bind is bind(2) on a prebuilt sockaddr.
func (r *rawAddr) bind(fd int) error {
	p, n := r.ptr()
	if _, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), p, n); e != 0 {
		return e
	}
	return nil
}

// connect is a blocking connect(2) on a prebuilt sockaddr. A signal can
// interrupt it (EINTR: with SO_SNDTIMEO set, connect is never restarted);
// the handshake goes on, so it waits for the outcome with poll(2) and
// SO_ERROR, within timeout.
func (r *rawAddr) connect(fd int, timeout time.Duration) error {
	p, n := r.ptr()
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), p, n)
	switch e {
	case 0:
		return nil
	case unix.EINTR:
		return waitConnected(fd, timeout)
	}
	return e
}

func waitConnected(fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return unix.EINPROGRESS
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, int(left/time.Millisecond)+1)
		if err == unix.EINTR || (err == nil && n == 0) {
			continue
		}
		if err != nil {
			return err
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		if soerr != 0 {
			return unix.Errno(soerr)
		}
		return nil
	}
}

func localPort(fd int) uint16 {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return uint16(sa.Port)
	case *unix.SockaddrInet6:
		return uint16(sa.Port)
	}
	return 0
}

// read is read(2), retried when a signal interrupts it (with SO_RCVTIMEO
// set it is never restarted by the kernel).
func read(fd int, buf []byte) (int, error) {
	for {
		n, _, e := unix.Syscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

func write(fd int, buf []byte) error {
	for len(buf) > 0 {
		n, _, e := unix.Syscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		buf = buf[n:]
	}
	return nil
}

// listener is a blocking listening socket served by accept loops.
type listener struct {
	fd         int
	addr       netip.AddrPort
	closeOrder Close
	payload    int
}

// listen makes the listening socket: socket(2), SO_REUSEADDR, bind(2) to
// the target only, listen(2). Call it inside the namespace.
func listen(c *Config) (*listener, error) {
	ra := newRawAddr(c.Target)
	fd, err := unix.Socket(ra.family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return nil, fmt.Errorf("setting SO_REUSEADDR: %w", err)
	}
	tv := unix.NsecToTimeval(c.timeout().Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("setting SO_RCVTIMEO: %w", err)
	}
	if err := ra.bind(fd); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	if err := unix.Listen(fd, 4096); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ok = true
	return &listener{fd: fd, addr: netip.AddrPortFrom(c.Target.Addr(), localPort(fd)), closeOrder: c.Close, payload: c.Payload}, nil
}

// serve accepts and handles connections one at a time until shutdown.
// Accepted sockets inherit SO_RCVTIMEO, so no read blocks past Timeout.
func (l *listener) serve(e *engine) {
	buf := make([]byte, 64<<10)
	for {
		nfd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(l.fd), 0, 0, unix.SOCK_CLOEXEC, 0, 0)
		if errno != 0 {
			if e.stop.Load() {
				return
			}
			if errno == unix.EAGAIN || errno == unix.EINTR || errno == unix.ECONNABORTED {
				continue
			}
			e.serverError("accept", errno)
			if errno == unix.EINVAL || errno == unix.EBADF {
				return
			}
			continue
		}
		fd := int(nfd)
		if l.closeOrder == CloseServerFirst {
			// Read exactly the payload: closing with unread data sends RST.
			for got := 0; got < l.payload; {
				n, err := read(fd, buf[:min(len(buf), l.payload-got)])
				if err != nil || n == 0 {
					if err != nil {
						e.serverError("recv", err)
					}
					break
				}
				got += n
			}
		} else {
			for {
				n, err := read(fd, buf)
				if n == 0 || err != nil {
					if err != nil && err != unix.ECONNRESET {
						e.serverError("recv", err)
					}
					break
				}
			}
		}
		unix.Close(fd)
	}
}

// shutdown wakes the blocked accept loops: shutdown(SHUT_RD) on a listening
// socket makes accept(2) return EINVAL.
func (l *listener) shutdown() { unix.Shutdown(l.fd, unix.SHUT_RD) }

func (l *listener) close() { unix.Close(l.fd) }

// client is one worker's socket state.
type client struct {
	cfg     *Config
	remote  rawAddr
	local   rawAddr // wildcard, port 0
	timeout unix.Timeval
	payload []byte
	buf     []byte
}

func newClient(c *Config, target netip.AddrPort) (*client, error) {
	var any netip.Addr
	if target.Addr().Unmap().Is4() {
		any = netip.IPv4Unspecified()
	} else {
		any = netip.IPv6Unspecified()
	}
	cl := &client{
		cfg:     c,
		remote:  newRawAddr(target),
		local:   newRawAddr(netip.AddrPortFrom(any, 0)),
		timeout: unix.NsecToTimeval(c.timeout().Nanoseconds()),
		buf:     make([]byte, 4096),
	}
	if c.Payload > 0 {
		cl.payload = make([]byte, c.Payload)
	}
	return cl, nil
}

func (cl *client) free() {}

// attempt is one socket → [setsockopt, bind] → connect → [send] → close.
func (cl *client) attempt(needPort func(Class) bool) (op string, port uint16, err error) {
	fd, err := unix.Socket(cl.remote.family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "socket", 0, err
	}
	defer func() {
		if err != nil || needPort(ClassSuccess) {
			class := ClassSuccess
			if err != nil {
				class = classify(err)
			}
			if needPort(class) {
				port = localPort(fd)
			}
		}
		if err == nil && cl.cfg.Close == CloseAbortive {
			unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		}
		unix.Close(fd)
	}()
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &cl.timeout); err != nil {
		return "setsockopt", 0, err
	}
	switch cl.cfg.Mode {
	case ModeBindReuseAddr:
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return "setsockopt", 0, err
		}
	case ModeBindNoPort:
		if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1); err != nil {
			return "setsockopt", 0, err
		}
	}
	if cl.cfg.Mode != ModeConnect {
		if err := cl.local.bind(fd); err != nil {
			return "bind", 0, err
		}
	}
	if err := cl.remote.connect(fd, cl.cfg.timeout()); err != nil {
		return "connect", 0, err
	}
	if cl.payload != nil {
		if err := write(fd, cl.payload); err != nil {
			return "send", 0, err
		}
	}
	if cl.cfg.Close == CloseServerFirst {
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &cl.timeout); err != nil {
			return "setsockopt", 0, err
		}
		for {
			n, err := read(fd, cl.buf)
			if err != nil {
				return "recv", 0, err
			}
			if n == 0 {
				break
			}
		}
	}
	return "", 0, nil
}

// census counts the namespace's TCP sockets to or from target by state,
// through a sock_diag (NETLINK_INET_DIAG) dump: `ss -tan` in the namespace.
func census(name string, target netip.AddrPort) (Census, error) {
	h, err := diagHandle(name)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	family := uint8(unix.AF_INET)
	if !target.Addr().Unmap().Is4() {
		family = unix.AF_INET6
	}
	socks, err := h.SocketDiagTCP(family)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("dumping TCP sockets (sock_diag): %w", err)
	}
	want := target.Addr().Unmap()
	c := Census{}
	for _, s := range socks {
		src, _ := netip.AddrFromSlice(s.ID.Source)
		dst, _ := netip.AddrFromSlice(s.ID.Destination)
		if (src.Unmap() == want && s.ID.SourcePort == target.Port()) || (dst.Unmap() == want && s.ID.DestinationPort == target.Port()) {
			c[linuxTCPState(s.State)]++
		}
	}
	return c, nil
}

// socketsInRange counts the namespace's TCP sockets, IPv4 and IPv6, whose
// local port lies in r, but is not except (sock_diag dumps; `ss -tan sport
// >= LO sport <= HI`).
func socketsInRange(name string, r PortRange, except uint16) (int, error) {
	h, err := diagHandle(name)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	n := 0
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		socks, err := h.SocketDiagTCP(family)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return 0, fmt.Errorf("dumping TCP sockets (sock_diag): %w", err)
		}
		for _, s := range socks {
			if s.ID.SourcePort >= r.Lo && s.ID.SourcePort <= r.Hi && s.ID.SourcePort != except {
				n++
			}
		}
	}
	return n, nil
}

// diagHandle opens a NETLINK_INET_DIAG socket inside the namespace.
func diagHandle(name string) (h *netlink.Handle, err error) {
	err = inNetns(name, func() error {
		h, err = netlink.NewHandle(unix.NETLINK_INET_DIAG)
		return err
	})
	return h, err
}

// linuxTCPState names a TCP_* state of include/net/tcp_states.h.
func linuxTCPState(s uint8) string {
	names := [...]string{1: "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"}
	if int(s) < len(names) && names[s] != "" {
		return names[s]
	}
	return fmt.Sprintf("STATE_%d", s)
}

const portRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// getPortRange reads net.ipv4.ip_local_port_range in the namespace.
func getPortRange(name string) (PortRange, error) {
	var r PortRange
	err := inNetns(name, func() error {
		data, err := os.ReadFile(portRangeFile)
		if err != nil {
			return err
		}
		r, err = ParseLinuxPortRange(string(data))
		return err
	})
	return r, err
}

// setPortRange writes net.ipv4.ip_local_port_range inside the namespace
// (sysctl -w net.ipv4.ip_local_port_range="lo hi" under ip netns exec) and
// returns the function that writes the old range back. It refuses the
// caller's own namespace and the initial one: only lab namespaces change.
func setPortRange(name string, r PortRange) (restore func() error, err error) {
	if name == "" {
		return nil, errors.New("refusing to change ip_local_port_range outside a lab namespace (no netns given)")
	}
	if err := notInitialNetns(name); err != nil {
		return nil, err
	}
	old, err := getPortRange(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s in %s: %w", portRangeFile, name, err)
	}
	write := func(r PortRange) error {
		return inNetns(name, func() error {
			return os.WriteFile(portRangeFile, []byte(fmt.Sprintf("%d %d\n", r.Lo, r.Hi)), 0o644)
		})
	}
	if err := write(r); err != nil {
		return nil, fmt.Errorf("writing %s in %s: %w", portRangeFile, name, err)
	}
	return func() error { return write(old) }, nil
}

// restoreRangeArgv is the command that sets r back, run inside the
// namespace (`ip netns exec NS sh -c ...`): /proc/sys/net is the reader's
// namespace's.
func restoreRangeArgv(r PortRange) []string {
	return []string{"sh", "-c", fmt.Sprintf("echo '%d %d' > %s", r.Lo, r.Hi, portRangeFile)}
}

// notInitialNetns fails if name is the namespace this process runs in, or
// pid 1's when that one is readable.
func notInitialNetns(name string) error {
	var target os.FileInfo
	err := inNetns(name, func() (err error) {
		target, err = os.Stat("/proc/thread-self/ns/net")
		return err
	})
	if err != nil {
		return fmt.Errorf("identifying netns %s: %w", name, err)
	}
	for _, p := range []string{"/proc/self/ns/net", "/proc/1/ns/net"} {
		other, err := os.Stat(p)
		if err != nil {
			if p == "/proc/1/ns/net" && errors.Is(err, os.ErrPermission) {
				continue
			}
			return fmt.Errorf("identifying %s: %w", p, err)
		}
		if os.SameFile(target, other) {
			return fmt.Errorf("refusing to change netns %s: it is the namespace of %s", name, p)
		}
	}
	return nil
}
