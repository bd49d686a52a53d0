// Package wire is the protocol between the Windows stand-in client (a PE
// that runs as route.exe, netsh.exe, powershell.exe or wevtutil.exe under
// Wine) and the stand-in server (Linux, inside the lab namespace): one JSON
// Request over TCP, one JSON Response back, then the connection closes.
//
// It uses the standard library only, so the client stays small.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// AddrEnv is the environment variable that carries the server's address
// (127.0.0.1:PORT inside the lab namespace) to the client.
const AddrEnv = "KBH_STANDIN_ADDR"

// Commands the client stands in for, by its own base name.
const (
	Route      = "route"
	Netsh      = "netsh"
	PowerShell = "powershell"
	Wevtutil   = "wevtutil"
	Cmd        = "cmd"      // cmd.exe /c: the shell OpenSSH runs a command line in
	Reg        = "reg"      // reg query of PersistentRoutes, for hosts reached by commands
	IPHlpAPI   = "iphlpapi" // the write procedures of agent/iphlpapi: the exit status is the Win32 error
)

// Request is one command as the client was started.
type Request struct {
	// Command is the client's base name, lower-cased, without ".exe".
	Command string `json:"command"`
	// Args are its arguments (argv[1:] as the Windows command line split
	// them).
	Args []string `json:"args"`
	// Registry holds the value names of
	// HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\PersistentRoutes
	// as the client read them before sending (IPv4 persistent routes,
	// "dest,mask,gateway,metric"). RegistryErr is set when they could not
	// be read; a missing key is no error and no names.
	Registry    []string `json:"registry"`
	RegistryErr string   `json:"registryErr,omitempty"`
	// NoRegistry marks a client that reads no registry (agent/iphlpapi,
	// the stand-in DLL): its request neither seeds the persistent store nor
	// is answered with registry operations.
	NoRegistry bool `json:"noRegistry,omitempty"`
	// Stdin is what the command reads on its standard input (ssh-command
	// forwards it; the Wine clients send none).
	Stdin []byte `json:"stdin,omitempty"`
}

// RegOp is one change the client makes to the PersistentRoutes key after
// the command: Set creates the value Name (REG_SZ, empty data), Delete
// removes it.
type RegOp struct {
	Op   string `json:"op"` // OpSet or OpDelete
	Name string `json:"name"`
}

// Registry operations.
const (
	OpSet    = "set"
	OpDelete = "delete"
)

// Response is what the command printed and how it ended.
type Response struct {
	Stdout   string  `json:"stdout"`
	Stderr   string  `json:"stderr"`
	Exit     int     `json:"exit"`
	Registry []RegOp `json:"registry,omitempty"`
}

// Timeout bounds one exchange: the server answers every command well
// within it (netlink and /proc writes only).
const Timeout = 2 * time.Minute

// ClientPortsEnv overrides ClientPorts: "LO-HI".
const ClientPortsEnv = "KBH_STANDIN_CLIENT_PORTS"

// ClientPorts is the range the client binds its local port in: below the
// dynamic port range, which the KB2901197 hammer narrows and fills with
// TIME_WAIT inside the lab namespace (the client shares that namespace's
// ports through Wine), so that the stand-ins neither fail for want of an
// ephemeral port nor show up in the hammer's census. The exchange leaves
// no TIME_WAIT behind: the client reads the whole response, then closes
// abortively (SO_LINGER 0), and the server waits for that close.
var ClientPorts = [2]int{20000, 29999}

func clientPorts() ([2]int, error) {
	s := os.Getenv(ClientPortsEnv)
	if s == "" {
		return ClientPorts, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || l < 1 || h > 65535 || l > h {
		return [2]int{}, fmt.Errorf("%s=%q: want LO-HI within 1-65535", ClientPortsEnv, s)
	}
	return [2]int{l, h}, nil
}

// dial connects to addr from a local port of ClientPorts, trying others
// while the chosen one is taken.
func dial(addr string) (net.Conn, error) {
	ports, err := clientPorts()
	if err != nil {
		return nil, err
	}
	raddr, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	var last error
	for range 64 {
		port := ports[0] + rand.IntN(ports[1]-ports[0]+1)
		d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: raddr.IP, Port: port}}
		c, err := d.Dial("tcp", addr)
		if err == nil {
			return c, nil
		}
		last = err
		if !errors.Is(err, syscall.EADDRINUSE) && !strings.Contains(err.Error(), "bind") {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no free local port in %d-%d: %w", ports[0], ports[1], last)
}

// Call sends req to the server at addr and returns its response.
func Call(addr string, req Request) (Response, error) {
	c, err := dial(addr)
	if err != nil {
		return Response{}, fmt.Errorf("connecting to the stand-in server %s: %w", addr, err)
	}
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.SetDeadline(time.Now().Add(Timeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, fmt.Errorf("sending to the stand-in server %s: %w", addr, err)
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("reading from the stand-in server %s: %w", addr, err)
	}
	return resp, nil
}

// Serve answers one connection: it reads a Request, calls handle, writes
// the Response and waits for the client to close.
func Serve(c net.Conn, handle func(Request) Response) error {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(Timeout))
	dec := json.NewDecoder(io.LimitReader(c, 16<<20))
	var req Request
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("reading a request from %s: %w", c.RemoteAddr(), err)
	}
	if err := json.NewEncoder(c).Encode(handle(req)); err != nil {
		return fmt.Errorf("answering %s: %w", c.RemoteAddr(), err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.Copy(io.Discard, c)
	return nil
}
