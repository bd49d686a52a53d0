// Package wire is the protocol between the Windows stand-in client (a PE
// that runs as route.exe, netsh.exe, powershell.exe or wevtutil.exe under
// Wine) and the stand-in server (Linux, inside the lab namespace): one JSON
// Request over TCP, one JSON Response back, then the connection closes.
//
// It uses the standard library only, so the client stays small.
package wire

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
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

// Call sends req to the server at addr and returns its response.
func Call(addr string, req Request) (Response, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return Response{}, fmt.Errorf("connecting to the stand-in server %s: %w", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(Timeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, fmt.Errorf("sending to the stand-in server %s: %w", addr, err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("reading from the stand-in server %s: %w", addr, err)
	}
	return resp, nil
}

// Serve answers one connection: it reads a Request, calls handle and
// writes the Response.
func Serve(c net.Conn, handle func(Request) Response) error {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(Timeout))
	var req Request
	if err := json.NewDecoder(io.LimitReader(c, 16<<20)).Decode(&req); err != nil {
		return fmt.Errorf("reading a request from %s: %w", c.RemoteAddr(), err)
	}
	if err := json.NewEncoder(c).Encode(handle(req)); err != nil {
		return fmt.Errorf("answering %s: %w", c.RemoteAddr(), err)
	}
	return nil
}
