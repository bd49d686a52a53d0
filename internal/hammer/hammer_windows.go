package hammer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/windows"

	"github.com/kbharness/kbharness/netcfg"
)

// Winsock options not named by golang.org/x/sys/windows (ws2def.h).
const (
	soPortScalability  = 0x3006 // SO_PORT_SCALABILITY
	soReuseUnicastPort = 0x3007 // SO_REUSE_UNICASTPORT
)

// supported refuses the Linux-only mode, and probes the mode's socket
// option on a scratch socket: SO_PORT_SCALABILITY and SO_REUSE_UNICASTPORT
// exist only on newer Windows (WSAENOPROTOOPT elsewhere).
func supported(c *Config) error {
	what := "hammer mode " + string(c.Mode)
	if c.Mode == ModeBindNoPort {
		return netcfg.Unsupported(what, "IP_BIND_ADDRESS_NO_PORT is Linux; use reuse-unicastport (SO_REUSE_UNICASTPORT)")
	}
	opt, name := modeOption(c.Mode)
	if opt == 0 {
		return nil
	}
	if err := wsaStartup(); err != nil {
		return fmt.Errorf("starting Winsock (WSAStartup): %w", err)
	}
	fd, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		return fmt.Errorf("probing %s: socket: %w", name, err)
	}
	defer windows.Closesocket(fd)
	if err := windows.SetsockoptInt(fd, windows.SOL_SOCKET, opt, 1); err != nil {
		if errors.Is(err, windows.WSAENOPROTOOPT) {
			return netcfg.Unsupported(what, name+" is not available on this Windows (WSAENOPROTOOPT)")
		}
		return fmt.Errorf("probing %s: %w", name, err)
	}
	return nil
}

// modeOption is the SOL_SOCKET option a mode sets before bind.
func modeOption(m Mode) (opt int, name string) {
	switch m {
	case ModeBindReuseAddr:
		return windows.SO_REUSEADDR, "SO_REUSEADDR"
	case ModePortScalability:
		return soPortScalability, "SO_PORT_SCALABILITY"
	case ModeReuseUnicastPort:
		return soReuseUnicastPort, "SO_REUSE_UNICASTPORT"
	}
	return 0, ""
}

// classify maps a Winsock error to its class.
func classify(err error) Class {
	var errno windows.Errno
	if !errors.As(err, &errno) {
		return ClassOther
	}
	switch errno {
	case windows.WSAEADDRINUSE:
		return ClassAddrInUse
	case windows.WSAENOBUFS, windows.WSAEADDRNOTAVAIL:
		return ClassExhausted
	case windows.WSAECONNREFUSED:
		return ClassRefused
	case windows.WSAETIMEDOUT:
		return ClassTimeout
	}
	return ClassOther
}

// inNetns runs fn: Windows has no network namespaces; the host is the lab.
func inNetns(_ string, fn func() error) error { return fn() }

var wsaStartup = sync.OnceValue(func() error {
	var d windows.WSAData
	return windows.WSAStartup(0x202, &d)
})

// listener is a Go net listener bound to the target only.
type listener struct {
	ln         *net.TCPListener
	addr       netip.AddrPort
	closeOrder Close
	payload    int
	timeout    time.Duration
}

func listen(c *Config) (*listener, error) {
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(c.Target))
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	return &listener{ln: ln, addr: netip.AddrPortFrom(c.Target.Addr(), addr.Port()), closeOrder: c.Close, payload: c.Payload, timeout: c.timeout()}, nil
}

func (l *listener) serve(e *engine) {
	buf := make([]byte, 64<<10)
	for {
		conn, err := l.ln.AcceptTCP()
		if err != nil {
			if !e.stop.Load() && !errors.Is(err, net.ErrClosed) {
				e.serverError("accept", err)
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		conn.SetReadDeadline(time.Now().Add(l.timeout))
		if l.closeOrder == CloseServerFirst {
			if _, err := io.ReadFull(conn, buf[:l.payload]); err != nil {
				e.serverError("recv", err)
			}
		} else if _, err := io.Copy(io.Discard, conn); err != nil && !errors.Is(err, windows.WSAECONNRESET) {
			e.serverError("recv", err)
		}
		conn.Close()
	}
}

func (l *listener) shutdown() { l.ln.Close() }
func (l *listener) close()    { l.ln.Close() }

// client is one worker's Winsock state.
type client struct {
	cfg     *Config
	family  int
	remote  windows.Sockaddr
	local   windows.Sockaddr
	payload []byte
	buf     []byte
	noMaxRT bool // TCP_MAXRT refused (WSAENOPROTOOPT)
}

func newClient(c *Config, target netip.AddrPort) (*client, error) {
	if err := wsaStartup(); err != nil {
		return nil, fmt.Errorf("starting Winsock (WSAStartup): %w", err)
	}
	cl := &client{cfg: c, buf: make([]byte, 4096)}
	a := target.Addr().Unmap()
	if a.Is4() {
		cl.family = windows.AF_INET
		cl.remote = &windows.SockaddrInet4{Port: int(target.Port()), Addr: a.As4()}
		cl.local = &windows.SockaddrInet4{}
	} else {
		cl.family = windows.AF_INET6
		cl.remote = &windows.SockaddrInet6{Port: int(target.Port()), Addr: a.As16()}
		cl.local = &windows.SockaddrInet6{}
	}
	if c.Payload > 0 {
		cl.payload = make([]byte, c.Payload)
	}
	return cl, nil
}

func (cl *client) free() {}

func localPort(fd windows.Handle) uint16 {
	sa, err := windows.Getsockname(fd)
	if err != nil {
		return 0
	}
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return uint16(sa.Port)
	case *windows.SockaddrInet6:
		return uint16(sa.Port)
	}
	return 0
}

// attempt is one socket → [setsockopt, bind] → connect → [WSASend] →
// closesocket, on a blocking socket. TCP_MAXRT bounds the connect where
// the stack has it.
func (cl *client) attempt(needPort func(Class) bool) (op string, port uint16, err error) {
	fd, err := windows.Socket(cl.family, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		return "socket", 0, err
	}
	defer func() {
		class := ClassSuccess
		if err != nil {
			class = classify(err)
		}
		if needPort(class) {
			port = localPort(fd)
		}
		if err == nil && cl.cfg.Close == CloseAbortive {
			windows.SetsockoptLinger(fd, windows.SOL_SOCKET, windows.SO_LINGER, &windows.Linger{Onoff: 1, Linger: 0})
		}
		windows.Closesocket(fd)
	}()
	if !cl.noMaxRT {
		secs := max(1, int(cl.cfg.timeout()/time.Second))
		if err := windows.SetsockoptInt(fd, windows.IPPROTO_TCP, windows.TCP_MAXRT, secs); err != nil {
			if !errors.Is(err, windows.WSAENOPROTOOPT) {
				return "setsockopt", 0, err
			}
			cl.noMaxRT = true // the stack's own SYN retries bound the connect (about 21s)
		}
	}
	if opt, _ := modeOption(cl.cfg.Mode); opt != 0 {
		if err := windows.SetsockoptInt(fd, windows.SOL_SOCKET, opt, 1); err != nil {
			return "setsockopt", 0, err
		}
	}
	if cl.cfg.Mode != ModeConnect {
		if err := windows.Bind(fd, cl.local); err != nil {
			return "bind", 0, err
		}
	}
	if err := windows.Connect(fd, cl.remote); err != nil {
		return "connect", 0, err
	}
	for rest := cl.payload; len(rest) > 0; {
		var sent uint32
		b := windows.WSABuf{Len: uint32(len(rest)), Buf: &rest[0]}
		if err := windows.WSASend(fd, &b, 1, &sent, 0, nil, nil); err != nil {
			return "send", 0, err
		}
		rest = rest[sent:]
	}
	if cl.cfg.Close == CloseServerFirst {
		if err := windows.SetsockoptInt(fd, windows.SOL_SOCKET, windows.SO_RCVTIMEO, int(cl.cfg.timeout()/time.Millisecond)); err != nil {
			return "setsockopt", 0, err
		}
		for {
			var got, flags uint32
			b := windows.WSABuf{Len: uint32(len(cl.buf)), Buf: &cl.buf[0]}
			if err := windows.WSARecv(fd, &b, 1, &got, &flags, nil, nil); err != nil {
				return "recv", 0, err
			}
			if got == 0 {
				break
			}
		}
	}
	return "", 0, nil
}

// census counts the IPv4 TCP connections to or from target by state, from
// GetTcpTable2 (host-wide: Windows has no namespaces).
func census(_ string, target netip.AddrPort) (Census, error) {
	if !target.Addr().Unmap().Is4() {
		return nil, netcfg.Unsupported("IPv6 TCP census", "GetTcp6Table2 is not wired")
	}
	rows, err := tcpRows()
	if err != nil {
		return nil, err
	}
	return censusOf(rows, netip.AddrPortFrom(target.Addr().Unmap(), target.Port())), nil
}

// tcpRows reads the IPv4 TCP table (GetTcpTable2).
func tcpRows() ([]tcpRow2, error) {
	size := uint32(64 << 10)
	for range 5 {
		buf := make([]byte, size)
		err := getTCPTable2(&buf[0], &size, false)
		if errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) {
			size += 16 << 10 // the table grows while we look
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the TCP table (GetTcpTable2): %w", err)
		}
		return parseTCPTable2(buf[:size])
	}
	return nil, errors.New("reading the TCP table (GetTcpTable2): it kept outgrowing the buffer")
}

// socketsInRange counts the IPv4 TCP connections (GetTcpTable2) whose
// local port lies in r, but is not except.
func socketsInRange(_ string, r PortRange, except uint16) (int, error) {
	rows, err := tcpRows()
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range rows {
		if p := rows[i].local().Port(); p >= r.Lo && p <= r.Hi && p != except {
			n++
		}
	}
	return n, nil
}

// tcpipEvents counts this machine's Tcpip events 4227 and 4231 between
// since and until (WindowsTcpipEvents).
func tcpipEvents(ctx context.Context, since, until time.Time) (map[int]int, error) {
	return WindowsTcpipEvents(ctx, netcfg.Exec, since, until)
}

// getPortRange reads this machine's dynamic port range (WindowsPortRange).
func getPortRange(string) (PortRange, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return WindowsPortRange(ctx, netcfg.Exec)
}

// restoreRangeArgv is the netsh command that sets r back.
func restoreRangeArgv(r PortRange) []string { return WindowsSetRangeArgv(r) }

// setPortRange sets this machine's dynamic port range (SetWindowsPortRange).
func setPortRange(_ string, r PortRange) (restore func() error, err error) {
	return SetWindowsPortRange(context.Background(), netcfg.Exec, r)
}
