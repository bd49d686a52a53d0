package netsh

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"

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

// ParseAddresses parses the three formats of `netsh interface ipv4|ipv6
// show addresses`, in English or French (fr-FR labels from real output,
// testdata 23 and 24: "Configuration pour l'interface « X »", "Adresse IP",
// "Préfixe de sous-réseau", "Paramètres de l'adresse X", "LUID
// d'interface", "État DAD", "Type d'adresse"; "Interface 48 : X" from
// netsh/19347880006 in testdata/README.md). Output with none of the known
// headers is an error matching ErrUnknownLabel (an unlisted language):
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
		return nil, fmt.Errorf("parsing netsh show addresses: %w: no interface or address header found (display language?)", ErrUnknownLabel)
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
	inTable    bool             // formatTable: after the dashed rule
	cols       []wintext.Column // formatTable: from the rule and its header
	prev       string           // the previous non-blank line (a table's header)
	recognised bool
}

func (p *addrParser) line(n int, line string) error {
	s := strings.TrimSpace(line)
	if s != "" {
		defer func() { p.prev = line }()
	}
	if name, ok := blockHeader(s); ok {
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
		p.cols = wintext.RuleColumns(p.prev, line, wintext.Runes)
		return nil
	case p.format == formatTable && p.inTable:
		return p.tableRow(n, line)
	case p.format == formatTable && isAddressRow(s):
		// The dashed rule was lost (copy/paste): the table starts at its
		// first row; columns come from the header labels.
		p.inTable = true
		p.cols = wintext.HeaderColumns(p.prev, wintext.Runes)
		return p.tableRow(n, line)
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

// tableRow parses "Type DADState ValidLife PrefLife Address". Five words
// are the five values; more (a localized value with a space) are cut at the
// dashed rule's column starts, the address being the last word.
func (p *addrParser) tableRow(n int, line string) error {
	s := strings.TrimSpace(line)
	f := strings.Fields(s)
	var cells []string
	switch {
	case len(f) == 5:
		cells = f
	case len(f) > 5 && len(p.cols) == 5:
		cells = wintext.Cut(line, p.cols, wintext.Runes)
		if strings.ContainsAny(cells[4], " \t") || slices.Contains(cells, "") {
			cells = nil
		}
	}
	if cells == nil {
		return fmt.Errorf("line %d: want Addr Type, DAD State, Valid Life, Pref. Life, Address; got %q", n, s)
	}
	a, zone, err := parseZoned(cells[4])
	if err != nil {
		return fmt.Errorf("line %d: Address: %w", n, err)
	}
	idx := p.ifIndex
	if idx == 0 {
		idx = zone
	}
	p.out = append(p.out, AddressEntry{Interface: p.iface, IfIndex: idx, Addr: a, Bits: -1,
		Type: cells[0], DADState: cells[1], ValidLifetime: cells[2], PreferredLifetime: cells[3]})
	return nil
}

// isAddressRow: a table row ends in an address and has at least the five
// columns.
func isAddressRow(s string) bool {
	f := strings.Fields(s)
	if len(f) < 5 {
		return false
	}
	_, _, err := parseZoned(f[len(f)-1])
	return err == nil
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

// blockKeys and verboseKeys map the keys of the block and verbose formats,
// lower-cased, to the field they fill: English and French (fr-FR, testdata
// 23 and 24).
var (
	blockKeys = map[string]string{
		"ip address": "ip", "adresse ip": "ip",
		"subnet prefix": "prefix", "préfixe de sous-réseau": "prefix",
	}
	verboseKeys = map[string]string{
		"interface luid": "iface", "luid d'interface": "iface",
		"dad state": "dad", "état dad": "dad",
		"address type": "type", "type d'adresse": "type",
		"valid lifetime": "valid", "durée de vie valide": "valid",
		"preferred lifetime": "pref", "durée de vie préférée": "pref",
	}
)

// foldKey lower-cases a key and unifies its apostrophes.
func foldKey(k string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(k), "\u2019", "'"))
}

func (p *addrParser) blockKey(n int, key, val string) error {
	switch blockKeys[foldKey(key)] {
	case "ip":
		a, err := netip.ParseAddr(val)
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", n, key, err)
		}
		p.out = append(p.out, AddressEntry{Interface: p.iface, Addr: a, Bits: -1})
	case "prefix":
		pfx, _, _ := strings.Cut(val, " ")
		pp, err := netip.ParsePrefix(pfx)
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", n, key, err)
		}
		// Prefixes follow their addresses in order; give it to the first
		// address of this interface still without one.
		for i := range p.out {
			if e := &p.out[i]; e.Bits < 0 && e.Interface == p.iface && e.Addr.Is4() == pp.Addr().Is4() {
				e.Bits = pp.Bits()
				return nil
			}
		}
		return fmt.Errorf("line %d: %s %s without an IP Address before it", n, key, pp)
	}
	return nil
}

func (p *addrParser) verboseKey(key, val string) {
	if len(p.out) == 0 {
		return
	}
	e := &p.out[len(p.out)-1]
	switch verboseKeys[foldKey(key)] {
	case "iface":
		e.Interface = val
	case "dad":
		e.DADState = val
	case "type":
		e.Type = val
	case "valid":
		e.ValidLifetime = val
	case "pref":
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

// blockHeader returns X of `Configuration for interface "X"` (en) or
// `Configuration pour l'interface « X »` (fr).
func blockHeader(s string) (string, bool) {
	for _, h := range []struct{ prefix, open, close string }{
		{"Configuration for interface ", `"`, `"`},
		{"Configuration pour l'interface ", "«", "»"},
		{"Configuration pour l\u2019interface ", "«", "»"},
	} {
		rest, ok := strings.CutPrefix(s, h.prefix)
		if !ok {
			continue
		}
		name, ok := strings.CutPrefix(rest, h.open)
		if !ok {
			continue
		}
		if name, ok = strings.CutSuffix(name, h.close); ok {
			return strings.TrimFunc(name, unicode.IsSpace), true // fr pads « X » with (no-break) spaces
		}
	}
	return "", false
}

// interfaceHeader parses "Interface 16: Local Area Connection* 3" (fr-FR
// puts a space before the colon: "Interface 48 : Connexion au réseau local").
func interfaceHeader(s string) (int, string, bool) {
	rest, ok := strings.CutPrefix(s, "Interface ")
	if !ok {
		return 0, "", false
	}
	num, name, ok := strings.Cut(rest, ": ")
	idx, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil {
		return 0, "", false
	}
	return idx, strings.TrimSpace(name), true
}

// verboseHeader returns the address of "Address fe80::1%7 Parameters" (en)
// or "Paramètres de l'adresse fe80::1%7" (fr).
func verboseHeader(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, "Address "); ok {
		a, ok := strings.CutSuffix(rest, " Parameters")
		return a, ok && !strings.Contains(a, " ")
	}
	for _, prefix := range []string{"Paramètres de l'adresse ", "Paramètres de l\u2019adresse "} {
		if a, ok := strings.CutPrefix(s, prefix); ok && !strings.Contains(a, " ") {
			return a, true
		}
	}
	return "", false
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
