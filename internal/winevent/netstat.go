package winevent

import (
	"errors"
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
	State  string         // "TIME_WAIT", "LISTENING", ... as printed (localized, may hold spaces); "" for UDP
	PID    int64          // a DWORD; -1 without -o
}

// ParseNetstat parses `netstat -ano` output. Rows start with TCP or UDP;
// headers, blank lines, -b owner lines ("[svchost.exe]", service names)
// and notes such as "... truncated" are skipped. A TCP/UDP row that does
// not parse is an error naming its line.
//
// Columns are found by what they hold, not by the header's positions: a
// long IPv6 address overflows its column and pushes the rest right. Proto,
// the local and the foreign address are the first three words; the PID
// (with -o) is the last word when it is a number; the State column of a TCP
// row is everything between, whole: states are kept as printed, in the
// display language, and may be several words.
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
	if len(f) < 3 {
		return c, fmt.Errorf("%d fields, want Proto, Local Address, Foreign Address[, State][, PID]", len(f))
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
	rest := f[3:]
	if n := len(rest); n > 0 && isDigits(rest[n-1]) && (c.Proto == "UDP" || n > 1) {
		pid, err := strconv.ParseUint(rest[n-1], 10, 32)
		if err != nil {
			return c, fmt.Errorf("PID %q: not a number in 0..4294967295", rest[n-1])
		}
		c.PID, rest = int64(pid), rest[:n-1]
	}
	switch {
	case c.Proto == "TCP" && (len(rest) == 0 || len(rest) == 1 && isDigits(rest[0])):
		return c, errors.New("TCP row without a State")
	case c.Proto == "TCP":
		c.State = strings.Join(rest, " ")
	case len(rest) > 0:
		return c, fmt.Errorf("UDP row with extra fields %q", strings.Join(rest, " "))
	}
	return c, nil
}

func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

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
