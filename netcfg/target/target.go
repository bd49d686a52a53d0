// Package target reaches the host a run is aimed at, named by URL:
//
//	local                      this machine
//	netns:NAME                 a Linux network namespace on this machine
//	ssh://user@host[:port]     OpenSSH (keys from ~/.ssh/id_* or the agent, host key checked in known_hosts)
//	winrm://user@host[:port]   WS-Management, HTTPS by default, NTLM or Basic as the server offers
//	psdirect://VMNAME          PowerShell Direct, from the Hyper-V host through powershell.exe
//
// A target is a command runner (the netcfg.Runner seam every command
// mechanism goes through) plus a file copy. Open connects, then probes the
// target's OS, build and dialect (`uname -sr`, `cmd /c ver`,
// $PSVersionTable): the dialect, not this machine's OS, decides which
// mechanisms drive it.
//
// Credentials never come from the URL or argv: a password comes from
// KBHARNESS_PASSWORD_FILE (a file holding it) or KBHARNESS_PASSWORD, and no
// error, log line or report of this package contains it.
package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
)

// Schemes, as they start a target URL.
const (
	Local    = "local"
	Netns    = "netns:"
	SSH      = "ssh://"
	WinRM    = "winrm://"
	PSDirect = "psdirect://"
)

// Known describes the accepted forms, for help texts and errors.
const Known = "local, netns:NAME, ssh://user@host[:port], winrm://user@host[:port], psdirect://VMNAME"

// URL is a parsed target.
type URL struct {
	Scheme string // "local", "netns", "ssh", "winrm" or "psdirect"
	User   string // ssh, winrm and psdirect (psdirect: ?user=)
	Host   string // ssh and winrm: host name or address; netns and psdirect: the namespace or VM name
	Port   int    // ssh and winrm; 0 means the scheme's default
	Query  url.Values
	raw    string
}

func (u *URL) String() string { return u.raw }

// Address is host:port with the scheme's default port filled in.
func (u *URL) Address() string {
	port := u.Port
	if port == 0 {
		switch {
		case u.Scheme == "ssh":
			port = 22
		case u.Scheme == "winrm" && u.HTTP():
			port = 5985
		default:
			port = 5986
		}
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

// HTTP reports a winrm target asked to use plain HTTP (?http=1).
func (u *URL) HTTP() bool { return u.Query.Get("http") == "1" }

// queryKeys are the options each scheme accepts after "?".
var queryKeys = map[string][]string{
	"ssh":      {"identity", "known_hosts", "poll"},
	"winrm":    {"http", "insecure", "ca", "auth", "poll"},
	"psdirect": {"user", "poll"},
}

// Parse parses a target URL. A password in it is refused: credentials
// never appear in argv.
func Parse(raw string) (*URL, error) {
	bad := func(format string, args ...any) (*URL, error) {
		return nil, fmt.Errorf("target %q: %s (known: %s)", redact(raw), fmt.Sprintf(format, args...), Known)
	}
	switch {
	case raw == Local:
		return &URL{Scheme: "local", raw: raw}, nil
	case strings.HasPrefix(raw, Netns):
		name := strings.TrimPrefix(raw, Netns)
		if name == "" || strings.ContainsAny(name, "/ \t") {
			return bad("netns:NAME needs a namespace name")
		}
		return &URL{Scheme: "netns", Host: name, raw: raw}, nil
	case strings.HasPrefix(raw, SSH), strings.HasPrefix(raw, WinRM), strings.HasPrefix(raw, PSDirect):
	default:
		return bad("unknown scheme")
	}
	p, err := url.Parse(raw)
	if err != nil {
		return bad("%v", errors.Unwrap(err))
	}
	if _, has := p.User.Password(); has {
		return bad("a password in the URL is refused: it would show in argv and logs; set KBHARNESS_PASSWORD_FILE (or KBHARNESS_PASSWORD)")
	}
	if p.Path != "" && p.Path != "/" {
		return bad("unexpected path %q", p.Path)
	}
	u := &URL{Scheme: p.Scheme, Host: p.Hostname(), Query: p.Query()}
	if p.User != nil {
		u.User = p.User.Username()
	}
	if ps := p.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return bad("port %q out of range 1-65535", ps)
		}
		u.Port = n
	}
	if u.Host == "" {
		return bad("no host")
	}
	for k := range u.Query {
		if !slices.Contains(queryKeys[u.Scheme], k) {
			return bad("unknown option %q (%s accepts: %s)", k, u.Scheme, strings.Join(queryKeys[u.Scheme], ", "))
		}
	}
	switch u.Scheme {
	case "ssh", "winrm":
		if u.User == "" {
			return bad("no user: write %s://USER@%s", u.Scheme, u.Host)
		}
	case "psdirect":
		if u.Port != 0 || u.User != "" {
			return bad("psdirect://VMNAME takes no port or user@ (the user goes in ?user=)")
		}
		u.User = u.Query.Get("user")
	}
	u.raw = raw
	return u, nil
}

// redact drops a password from a URL that carries one, for error messages.
func redact(raw string) string {
	if p, err := url.Parse(raw); err == nil && p.User != nil {
		if _, has := p.User.Password(); has {
			return p.Redacted()
		}
	}
	return raw
}

// transport is one way of reaching a target. windows tells it the probed
// dialect, for transports whose command line depends on the remote shell.
type transport interface {
	run(ctx context.Context, argv []string, stdin []byte, windows bool) (netcfg.Output, error)
	close() error
}

// Conn is an open target: a netcfg.Runner plus file copy, and what the
// probe found.
type Conn struct {
	URL  *URL
	Info Info
	t    transport
}

// Run runs argv on the target (netcfg.Runner).
func (c *Conn) Run(ctx context.Context, argv []string) (netcfg.Output, error) {
	return c.t.run(ctx, argv, nil, c.Info.Dialect == netcfg.DialectWindows)
}

// RunInput runs argv with stdin.
func (c *Conn) RunInput(ctx context.Context, argv []string, stdin []byte) (netcfg.Output, error) {
	return c.t.run(ctx, argv, stdin, c.Info.Dialect == netcfg.DialectWindows)
}

// Dialect is the probed dialect.
func (c *Conn) Dialect() netcfg.Dialect { return c.Info.Dialect }

// Close ends the connection.
func (c *Conn) Close() error { return c.t.close() }

// Open connects to the target named by raw, with settings s, and probes it.
func Open(ctx context.Context, raw string, s Settings) (*Conn, error) {
	u, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	t, err := dial(ctx, u, s)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", u, err)
	}
	c := &Conn{URL: u, t: t}
	// Probe runs before the dialect is known: its commands hold no
	// character either shell treats specially.
	if c.Info, err = Probe(ctx, c); err != nil {
		t.close()
		return nil, fmt.Errorf("probing %s: %w", u, err)
	}
	return c, nil
}

func dial(ctx context.Context, u *URL, s Settings) (transport, error) {
	switch u.Scheme {
	case "local":
		return runnerTransport{netcfg.Exec}, nil
	case "netns":
		return dialNetns(u.Host)
	case "ssh":
		return dialSSH(ctx, u, s)
	case "winrm":
		return dialWinRM(ctx, u, s)
	case "psdirect":
		return dialPSDirect(u, s)
	}
	return nil, fmt.Errorf("unknown scheme %q", u.Scheme)
}

// runnerTransport runs argv directly (this machine, a namespace).
type runnerTransport struct{ r netcfg.Runner }

func (t runnerTransport) run(ctx context.Context, argv []string, stdin []byte, _ bool) (netcfg.Output, error) {
	if stdin != nil {
		return netcfg.Output{}, &netcfg.CommandError{Argv: argv, Err: errors.New("stdin is not supported on this target")}
	}
	return t.r.Run(ctx, argv)
}

func (runnerTransport) close() error { return nil }
