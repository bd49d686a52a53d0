package winevent

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Conn is one row of `netstat -ano` (or -an, -aonb).
type Conn struct {
	Proto  string         // "TCP" or "UDP"
	Local  netip.AddrPort // zone kept ("[fe80::1%4]:49664")
	Remote netip.AddrPort // zero for UDP's "*:*"
	State  string         // "TIME_WAIT", "LISTENING", ...; "" for UDP
	PID    int            // -1 without -o
}

// ParseNetstat parses `netstat -ano` output. Rows start with TCP or UDP;
// headers, blank lines, -b owner lines ("[svchost.exe]", service names)
// and notes such as "... truncated" are skipped. A TCP/UDP row that does
// not parse is an error naming its line. States are kept as printed
// (English: TIME_WAIT, LISTENING, ESTABLISHED, ...).
func ParseNetstat(text string) ([]Conn, error) {
	var conns []Conn
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(strings.TrimRight(line, "\r"))
		if len(f) == 0 || (f[0] != "TCP" && f[0] != "UDP") {
			continue
		}
		c, err := parseRow(f)
		if err != nil {
			return conns, fmt.Errorf("parsing netstat: line %d %q: %w", i+1, strings.TrimSpace(line), err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func parseRow(f []string) (Conn, error) {
	c := Conn{Proto: f[0], PID: -1}
	// TCP: proto local remote state [pid]; UDP: proto local remote [pid].
	want := 4
	if c.Proto == "UDP" {
		want = 3
	}
	if len(f) != want && len(f) != want+1 {
		return c, fmt.Errorf("%d fields, want %d or %d", len(f), want, want+1)
	}
	var err error
	if c.Local, err = netip.ParseAddrPort(f[1]); err != nil {
		return c, fmt.Errorf("local address: %w", err)
	}
	if f[2] != "*:*" {
		if c.Remote, err = netip.ParseAddrPort(f[2]); err != nil {
			return c, fmt.Errorf("foreign address: %w", err)
		}
	}
	if c.Proto == "TCP" {
		c.State = f[3]
	}
	if len(f) == want+1 {
		if c.PID, err = strconv.Atoi(f[want]); err != nil {
			return c, fmt.Errorf("PID %q: %w", f[want], err)
		}
	}
	return c, nil
}

// CountStates counts the TCP rows whose local port lies in lo..hi, by
// state: with the dynamic port range as lo..hi, TIME_WAIT counts the
// closing client ports that KB2901197 is about.
func CountStates(conns []Conn, lo, hi uint16) map[string]int {
	m := map[string]int{}
	for _, c := range conns {
		if c.Proto == "TCP" && c.Local.Port() >= lo && c.Local.Port() <= hi {
			m[c.State]++
		}
	}
	return m
}
