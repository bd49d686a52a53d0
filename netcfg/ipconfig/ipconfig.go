// Package ipconfig parses the output of Windows `ipconfig /all` into
// adapters (name, description, physical address, IPv4 addresses with their
// masks, IPv6 addresses, default gateways), in English (XP to 11) and
// German. The lab uses it to find its adapter by MAC.
//
// It is pure: it runs nothing, so it builds and is tested on every OS.
package ipconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// Argv is the command whose output Parse reads.
func Argv() []string { return []string{"ipconfig", "/all"} }

// Address is an address as ipconfig prints it.
type Address struct {
	// Prefix: IPv4 with its "Subnet Mask"; IPv6 as a single address
	// (/128): ipconfig prints no IPv6 prefix length. Zones are dropped.
	Prefix netip.Prefix
	// State is the parenthesised suffix as printed: "Preferred",
	// "Deprecated", "Duplicate", "Bevorzugt", ...; "" on XP.
	State string
}

// Adapter is one "... adapter NAME:" block.
type Adapter struct {
	Name        string // connection name (alias): "Ethernet 2", "Wi-Fi", "WLAN"
	Kind        string // text before "adapter": "Ethernet", "Wireless LAN", "Tunnel", "Drahtlos-LAN"
	Description string // 80-column console wraps joined
	MAC         string // lower-case colon form; "" when none is printed
	IPv4        []Address
	IPv6        []Address // global, temporary and link-local
	Gateways    []netip.Addr
	Line        int // 1-based line of the adapter header
}

// ErrUnknownLabel matches the error Parse returns for output whose labels it
// does not know (an unlisted display language).
var ErrUnknownLabel = errors.New("unrecognised ipconfig labels")

// labels maps the labels we read (English XP..11, German), lower-cased and
// without the dot leader, to the field they fill.
var labels = map[string]string{
	"description":                    "description",
	"beschreibung":                   "description",
	"physical address":               "mac",
	"physische adresse":              "mac",
	"ip address":                     "ipv4", // XP
	"ipv4 address":                   "ipv4",
	"autoconfiguration ipv4 address": "ipv4",
	"ipv4-adresse":                   "ipv4",
	"subnet mask":                    "mask",
	"subnetzmaske":                   "mask",
	"ipv6 address":                   "ipv6",
	"temporary ipv6 address":         "ipv6",
	"link-local ipv6 address":        "ipv6",
	"ipv6-adresse":                   "ipv6",
	"temporäre ipv6-adresse":         "ipv6",
	"verbindungslokale ipv6-adresse": "ipv6",
	"default gateway":                "gateway",
	"standardgateway":                "gateway",
}

// consoleWidth is where the XP console hard-wraps lines.
const consoleWidth = 80

// Parse parses `ipconfig /all`. Values continued on further indented lines
// (gateways, DNS servers) and XP's 80-column hard wraps are joined. Output
// whose adapters carry none of the known labels gives an error matching
// ErrUnknownLabel.
func Parse(text string) ([]Adapter, error) {
	p := &parser{}
	prevLen := 0
	for i, line := range wintext.SplitLines(text) {
		if err := p.line(i+1, line, prevLen >= consoleWidth); err != nil {
			return nil, fmt.Errorf("parsing ipconfig /all: %w", err)
		}
		prevLen = len([]rune(line))
	}
	if err := p.finish(); err != nil {
		return nil, fmt.Errorf("parsing ipconfig /all: %w", err)
	}
	return p.adapters, nil
}

type parser struct {
	adapters []Adapter
	field    string // field of the last key line, for continuation lines
	value    string // raw value of the last key line (for wraps)
	known    bool   // any known label seen in an adapter
}

func (p *parser) line(n int, line string, wrapped bool) error {
	s := strings.TrimSpace(line)
	switch {
	case s == "":
		return nil
	case line[0] != ' ' && line[0] != '\t' && strings.HasSuffix(s, ":"):
		p.adapters = append(p.adapters, newAdapter(n, strings.TrimSuffix(s, ":")))
		p.field = ""
		return nil
	case len(p.adapters) == 0:
		return nil // global "Windows IP Configuration" section
	}
	if key, val, ok := keyValue(line); ok {
		p.field, p.value = labels[key], val
		if p.field != "" {
			p.known = true
		}
		return p.set(n, val)
	}
	switch {
	case p.field != "" && isIndentedValue(line):
		p.value = s
		return p.set(n, s) // another value of the same key
	case wrapped:
		return p.rewrap(n, line)
	}
	return nil
}

// rewrap handles an XP 80-column hard wrap: the previous value continues on
// this line. The field is set again from the joined text.
func (p *parser) rewrap(n int, line string) error {
	a := &p.adapters[len(p.adapters)-1]
	p.value += line
	switch p.field {
	case "":
		return nil // a value we do not read (XP lease times)
	case "description":
		a.Description = p.value
		return nil
	case "ipv4", "ipv6", "gateway", "mac":
		return fmt.Errorf("line %d: wrapped %s value %q", n, p.field, p.value)
	}
	return nil
}

func (p *parser) set(n int, val string) error {
	a := &p.adapters[len(p.adapters)-1]
	switch p.field {
	case "description":
		a.Description = val
	case "mac":
		a.MAC = normalizeMAC(val)
	case "ipv4", "ipv6":
		return p.addAddress(n, a, val)
	case "mask":
		return setMask(n, a, val)
	case "gateway":
		if val == "" {
			return nil
		}
		gw, err := netip.ParseAddr(val)
		if err != nil {
			return fmt.Errorf("line %d: Default Gateway: %w", n, err)
		}
		a.Gateways = append(a.Gateways, gw.WithZone(""))
	}
	return nil
}

func (p *parser) addAddress(n int, a *Adapter, val string) error {
	text, state := splitState(val)
	ip, err := netip.ParseAddr(text)
	if err != nil {
		return fmt.Errorf("line %d: %s address: %w", n, p.field, err)
	}
	ip = ip.WithZone("")
	if ip.Is4() {
		a.IPv4 = append(a.IPv4, Address{Prefix: netip.PrefixFrom(ip, -1), State: state})
	} else {
		a.IPv6 = append(a.IPv6, Address{Prefix: netip.PrefixFrom(ip, 128), State: state})
	}
	return nil
}

// setMask gives a "Subnet Mask" to the first IPv4 address still without one.
func setMask(n int, a *Adapter, val string) error {
	bits, err := wintext.MaskBits(val)
	if err != nil {
		return fmt.Errorf("line %d: Subnet Mask: %w", n, err)
	}
	for i := range a.IPv4 {
		if !a.IPv4[i].Prefix.IsValid() {
			a.IPv4[i].Prefix = netip.PrefixFrom(a.IPv4[i].Prefix.Addr(), bits)
			return nil
		}
	}
	return fmt.Errorf("line %d: Subnet Mask %s without an IPv4 address before it", n, val)
}

func (p *parser) finish() error {
	if len(p.adapters) == 0 {
		return errors.New("no adapter blocks found")
	}
	if !p.known {
		return fmt.Errorf("%w: no Description/Physical Address/IPv4 Address label known (display language?)", ErrUnknownLabel)
	}
	for _, a := range p.adapters {
		for _, ip := range a.IPv4 {
			if !ip.Prefix.IsValid() {
				return fmt.Errorf("adapter %q (line %d): IPv4 address %s has no Subnet Mask", a.Name, a.Line, ip.Prefix.Addr())
			}
		}
	}
	return nil
}

// ByMAC returns the adapter with the given physical address, in any of the
// forms "00-50-56-C0-00-01", "00:50:56:c0:00:01".
func ByMAC(adapters []Adapter, mac string) (Adapter, bool) {
	want := normalizeMAC(mac)
	for _, a := range adapters {
		if want != "" && a.MAC == want {
			return a, true
		}
	}
	return Adapter{}, false
}

// newAdapter splits "Wireless LAN adapter Wi-Fi" / "Drahtlos-LAN-Adapter
// WLAN" at the word "adapter".
func newAdapter(n int, header string) Adapter {
	i := strings.Index(strings.ToLower(header), "adapter ")
	if i < 0 {
		return Adapter{Name: header, Line: n}
	}
	return Adapter{Kind: strings.TrimRight(header[:i], " -"), Name: strings.TrimSpace(header[i+len("adapter "):]), Line: n}
}

// keyValue splits an indented "Key . . . . : value" line; the key is
// returned lower-cased without its dot leader.
func keyValue(line string) (key, val string, ok bool) {
	if line[0] != ' ' && line[0] != '\t' {
		return "", "", false
	}
	k, v, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", false
	}
	k = strings.TrimRight(strings.TrimSpace(k), ". ")
	if k == "" || isIndentedValue(line) {
		return "", "", false
	}
	return strings.ToLower(k), strings.TrimSpace(v), true
}

// isIndentedValue: continuation values sit in the value column, far right
// of where keys begin.
func isIndentedValue(line string) bool {
	return len(line)-len(strings.TrimLeft(line, " \t")) >= 16
}

// splitState splits "192.0.2.1(Preferred)" into the address and state.
func splitState(v string) (string, string) {
	if i := strings.Index(v, "("); i > 0 && strings.HasSuffix(v, ")") {
		return strings.TrimSpace(v[:i]), v[i+1 : len(v)-1]
	}
	return v, ""
}

// normalizeMAC turns "00-19-B9-2B-D0-D1" into "00:19:b9:2b:d0:d1"; anything
// that is not 6 or 8 hex bytes gives "".
func normalizeMAC(s string) string {
	parts := strings.FieldsFunc(strings.ToLower(strings.TrimSpace(s)), func(r rune) bool { return r == '-' || r == ':' })
	if len(parts) != 6 && len(parts) != 8 {
		return ""
	}
	for _, p := range parts {
		if len(p) != 2 || strings.Trim(p, "0123456789abcdef") != "" {
			return ""
		}
	}
	return strings.Join(parts, ":")
}
