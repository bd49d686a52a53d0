package netsh

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// AddressEntry is one address from `netsh interface ipv4|ipv6 show
// addresses` (or `show ipaddresses [level=verbose]`).
type AddressEntry struct {
	Interface string     // interface name; "" for the nameless block netsh sometimes prints
	IfIndex   int        // from "Interface N:" headers or an fe80::...%N zone; 0 if not printed
	Addr      netip.Addr // without zone
	// Bits is the on-link prefix length. Only the IPv4 block format prints
	// it ("Subnet Prefix: 192.0.2.0/24"); the IPv6 formats do not, and Bits
	// is then -1.
	Bits              int
	Type              string // "Manual", "Dhcp", "Other", ... as printed; "" if not printed
	DADState          string // "Preferred", "Deprecated", "Tentative", "Duplicate", ...; "" if not printed
	ValidLifetime     string // as printed ("infinite", "23h59m58s")
	PreferredLifetime string
}

// Address converts the entry to a netcfg address. An unknown prefix length
// (Bits -1) becomes a single-address prefix (/32, /128): callers comparing
// prefixes must look the length up elsewhere (e.g. the on-link route).
func (e AddressEntry) Address() netcfg.Address {
	bits := e.Bits
	if bits < 0 {
		bits = e.Addr.BitLen()
	}
	a := netcfg.Address{Prefix: netip.PrefixFrom(e.Addr, bits), Interface: e.Interface, Origin: strings.ToLower(e.Type)}
	switch strings.ToLower(e.DADState) {
	case "tentative":
		a.Flags |= netcfg.AddrTentative
	case "duplicate":
		a.Flags |= netcfg.AddrDuplicate
	case "deprecated":
		a.Flags |= netcfg.AddrDeprecated
	}
	return a
}

// ParseAddresses parses the three English formats of `netsh interface
// ipv4|ipv6 show addresses`:
//
//	Configuration for interface "Ethernet 2"      (ipv4: key/value blocks)
//	    IP Address:                           192.0.2.20
//	    Subnet Prefix:                        192.0.2.0/24 (mask 255.255.255.0)
//
//	Interface 16: Ethernet 2                      (ipv6: one table per interface)
//	Addr Type  DAD State   Valid Life Pref. Life Address
//	---------  ----------- ---------- ---------- ------------------------
//	Manual     Preferred     infinite   infinite 2001:db8::21
//
//	Address 2001:db8::21 Parameters               (ipv6 per address, level=verbose)
//	---------------------------------------------------------
//	Interface Luid     : Ethernet 2
//	DAD State          : Preferred
//	Address Type       : Manual
func ParseAddresses(text string) ([]AddressEntry, error) {
	p := &addrParser{}
	for i, line := range wintext.SplitLines(text) {
		if err := p.line(i+1, line); err != nil {
			return nil, fmt.Errorf("parsing netsh show addresses: %w", err)
		}
	}
	if err := p.checkBits(); err != nil {
		return nil, fmt.Errorf("parsing netsh show addresses: %w", err)
	}
	if !p.recognised {
		return nil, errors.New("parsing netsh show addresses: no interface or address header found")
	}
	return p.out, nil
}

type addrFormat int

const (
	formatNone    addrFormat = iota
	formatBlock              // Configuration for interface "X"
	formatTable              // Interface N: X + table
	formatVerbose            // Address X Parameters
)

type addrParser struct {
	out        []AddressEntry
	format     addrFormat
	iface      string
	ifIndex    int
	inTable    bool // formatTable: after the dashed rule
	recognised bool
}

func (p *addrParser) line(n int, line string) error {
	s := strings.TrimSpace(line)
	if name, ok := cutQuoted(s, "Configuration for interface "); ok {
		p.startHeader(formatBlock, name, 0)
		return nil
	}
	if idx, name, ok := interfaceHeader(s); ok {
		p.startHeader(formatTable, name, idx)
		return nil
	}
	if a, ok := verboseHeader(s); ok {
		return p.startVerbose(n, a)
	}
	switch {
	case s == "":
		if p.format == formatBlock {
			p.iface = "" // a following block without header is a nameless interface
		}
		return nil
	case isDashes(s):
		p.inTable = p.format == formatTable
		return nil
	case p.format == formatTable && p.inTable:
		return p.tableRow(n, s)
	}
	key, val, ok := strings.Cut(s, ":")
	if !ok {
		return nil
	}
	return p.keyValue(n, strings.TrimSpace(key), strings.TrimSpace(val))
}

func (p *addrParser) startHeader(f addrFormat, name string, idx int) {
	p.format, p.iface, p.ifIndex, p.inTable, p.recognised = f, name, idx, false, true
}

func (p *addrParser) startVerbose(n int, text string) error {
	a, zone, err := parseZoned(text)
	if err != nil {
		return fmt.Errorf("line %d: Address: %w", n, err)
	}
	p.format, p.recognised = formatVerbose, true
	p.out = append(p.out, AddressEntry{Addr: a, IfIndex: zone, Bits: -1})
	return nil
}

// tableRow parses "Type DADState ValidLife PrefLife Address".
func (p *addrParser) tableRow(n int, s string) error {
	f := strings.Fields(s)
	if len(f) != 5 {
		return fmt.Errorf("line %d: want Addr Type, DAD State, Valid Life, Pref. Life, Address; got %q", n, s)
	}
	a, zone, err := parseZoned(f[4])
	if err != nil {
		return fmt.Errorf("line %d: Address: %w", n, err)
	}
	idx := p.ifIndex
	if idx == 0 {
		idx = zone
	}
	p.out = append(p.out, AddressEntry{Interface: p.iface, IfIndex: idx, Addr: a, Bits: -1,
		Type: f[0], DADState: f[1], ValidLifetime: f[2], PreferredLifetime: f[3]})
	return nil
}

func (p *addrParser) keyValue(n int, key, val string) error {
	switch p.format {
	case formatBlock:
		return p.blockKey(n, key, val)
	case formatVerbose:
		p.verboseKey(key, val)
	}
	return nil
}

func (p *addrParser) blockKey(n int, key, val string) error {
	switch key {
	case "IP Address":
		a, err := netip.ParseAddr(val)
		if err != nil {
			return fmt.Errorf("line %d: IP Address: %w", n, err)
		}
		p.out = append(p.out, AddressEntry{Interface: p.iface, Addr: a, Bits: -1})
	case "Subnet Prefix":
		pfx, _, _ := strings.Cut(val, " ")
		pp, err := netip.ParsePrefix(pfx)
		if err != nil {
			return fmt.Errorf("line %d: Subnet Prefix: %w", n, err)
		}
		// Prefixes follow their addresses in order; give it to the first
		// address of this interface still without one.
		for i := range p.out {
			if e := &p.out[i]; e.Bits < 0 && e.Interface == p.iface && e.Addr.Is4() == pp.Addr().Is4() {
				e.Bits = pp.Bits()
				return nil
			}
		}
		return fmt.Errorf("line %d: Subnet Prefix %s without an IP Address before it", n, pp)
	}
	return nil
}

func (p *addrParser) verboseKey(key, val string) {
	if len(p.out) == 0 {
		return
	}
	e := &p.out[len(p.out)-1]
	switch key {
	case "Interface Luid":
		e.Interface = val
	case "DAD State":
		e.DADState = val
	case "Address Type":
		e.Type = val
	case "Valid Lifetime":
		e.ValidLifetime = val
	case "Preferred Lifetime":
		e.PreferredLifetime = val
	}
}

// checkBits reports IPv4 block-format addresses left without a prefix.
func (p *addrParser) checkBits() error {
	if p.format != formatBlock {
		return nil
	}
	for _, e := range p.out {
		if e.Bits < 0 && e.Addr.Is4() {
			return fmt.Errorf("IP Address %s (interface %q) has no Subnet Prefix", e.Addr, e.Interface)
		}
	}
	return nil
}

// cutQuoted returns NAME from `PREFIX"NAME"`.
func cutQuoted(s, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
		return "", false
	}
	return rest[1 : len(rest)-1], true
}

// interfaceHeader parses "Interface 16: Local Area Connection* 3".
func interfaceHeader(s string) (int, string, bool) {
	rest, ok := strings.CutPrefix(s, "Interface ")
	if !ok {
		return 0, "", false
	}
	num, name, ok := strings.Cut(rest, ": ")
	idx, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	return idx, strings.TrimSpace(name), true
}

// verboseHeader returns the address of "Address fe80::1%7 Parameters".
func verboseHeader(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "Address ")
	if !ok {
		return "", false
	}
	a, ok := strings.CutSuffix(rest, " Parameters")
	return a, ok && !strings.Contains(a, " ")
}

// parseZoned parses "fe80::1%16" into the address and the numeric zone
// (the interface index; 0 if none or not numeric).
func parseZoned(s string) (netip.Addr, int, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	zone, _ := strconv.Atoi(a.Zone())
	return a.WithZone(""), zone, nil
}
