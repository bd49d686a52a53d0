// Package capture reads what a customer sends support from ONE Windows host
// — `route print`, `ipconfig /all`, `netsh interface ipv4|ipv6 show
// route|addresses|interfaces`, Get-NetRoute / Get-NetIPAddress /
// Get-NetIPInterface output, in any mix, localized, CRLF or UTF-16 — and
// merges it into one view of the host: interfaces, addresses with their
// prefix, and the routes Windows did not generate itself, active and
// persistent. Disagreements between the captures are listed as conflicts,
// never resolved by guessing.
//
// It lives beside the parsers it drives (netcfg/routeexe, ipconfig, netsh,
// pwsh) because it shares their text helpers (netcfg/internal/wintext),
// which only packages under netcfg may import. It is pure: it runs nothing.
//
// The mapping of the customer's addresses into the documentation ranges and
// the lab fixture built from a Host are in mapping.go and fixture.go.
package capture

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/internal/wintext"
	"github.com/kbharness/kbharness/netcfg/ipconfig"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/routeexe"
)

// Kind is the command whose output a file holds, as detected by content.
type Kind string

const (
	RoutePrint       Kind = "route print"
	IPConfig         Kind = "ipconfig /all"
	NetshRoutes      Kind = "netsh show route"
	NetshAddresses   Kind = "netsh show addresses"
	NetshInterfaces  Kind = "netsh show interfaces"
	PwshRouteTable   Kind = "Get-NetRoute (table)"
	PwshRouteJSON    Kind = "Get-NetRoute (JSON)"
	PwshAddressList  Kind = "Get-NetIPAddress (list)"
	PwshAddressJSON  Kind = "Get-NetIPAddress (JSON)"
	PwshIPInterfaces Kind = "Get-NetIPInterface (table)"
)

// File is one capture as given: its name (for messages) and bytes.
type File struct {
	Name string
	Data []byte
}

// Options tune Read.
type Options struct {
	// BestEffort skips what cannot be read — a damaged line (the parser
	// named it), a file of no known kind, bytes that are not UTF-8 — and
	// lists each in Host.Skipped, instead of failing.
	BestEffort bool
}

// Error is damaged input: a file (and a line, when the parser named one)
// that cannot be read.
type Error struct {
	File string
	Line int // 1-based; 0 if not known
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Skip is something BestEffort left out.
type Skip struct {
	File   string
	Line   int // 0: the whole file
	Reason string
}

func (s Skip) String() string {
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", s.File, s.Line, s.Reason)
	}
	return fmt.Sprintf("%s: %s", s.File, s.Reason)
}

// Detect tells which command printed text, by what it holds. ok is false
// for text of no kind Read takes (netstat, `show dynamicport`, prose).
func Detect(text string) (Kind, bool) {
	t := strings.TrimSpace(strings.TrimPrefix(text, "\ufeff"))
	if strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		switch {
		case strings.Contains(t, `"DestinationPrefix"`):
			return PwshRouteJSON, true
		case strings.Contains(t, `"IPAddress"`):
			return PwshAddressJSON, true
		}
		return "", false
	}
	lines := wintext.SplitLines(text)
	for i, l := range lines {
		if !wintext.IsRule(l) || i == 0 {
			continue
		}
		h := lines[i-1]
		switch {
		case strings.Contains(h, "DestinationPrefix") && strings.Contains(h, "NextHop"):
			return PwshRouteTable, true
		case strings.Contains(h, "InterfaceAlias") && strings.Contains(h, "AddressFamily"):
			return PwshIPInterfaces, true
		}
	}
	for _, l := range lines {
		s := strings.TrimSpace(l)
		switch {
		case listIPAddressRE.MatchString(l):
			return PwshAddressList, true
		case strings.HasPrefix(s, "Configuration for interface "), strings.HasPrefix(s, "Configuration pour l"),
			netshAddrHeaderRE.MatchString(s), netshVerboseRE.MatchString(s):
			return NetshAddresses, true
		case netshRouteRowRE.MatchString(l):
			return NetshRoutes, true
		case netshIfRowRE.MatchString(l):
			return NetshInterfaces, true
		case ipconfigKeyRE.MatchString(l):
			return IPConfig, true
		case routePrintRE.MatchString(l):
			return RoutePrint, true
		}
	}
	return "", false
}

var (
	listIPAddressRE   = regexp.MustCompile(`^IPAddress\s+: \S`)
	netshAddrHeaderRE = regexp.MustCompile(`^Interface \d+ ?: `)
	netshVerboseRE    = regexp.MustCompile(`^(Address \S+ Parameters|Paramètres de l.adresse \S+)$`)
	// Publish Type Met Prefix Idx Gateway/Name (Publish, Type one word each
	// in every language seen).
	netshRouteRowRE = regexp.MustCompile(`^\s*\S+\s+\S+\s+\d+\s+[0-9A-Fa-f:.]+/\d+\s+\d+\s+\S`)
	// Idx Met MTU State Name.
	netshIfRowRE = regexp.MustCompile(`^\s*\d+\s+\d+\s+\d+\s+\S+\s{2,}\S`)
	// "   IPv4 Address. . . . . : 192.0.2.1": ipconfig's dot leader.
	ipconfigKeyRE = regexp.MustCompile(`^\s+\S.*?(\. )+\.?\s*:`)
	// route print: the interface list header, a ruler of '=', or an IPv4
	// row DEST MASK ...
	routePrintRE = regexp.MustCompile(`^={20,}\s*$|^\s*(\d{1,3}\.){3}\d{1,3}\s+(\d{1,3}\.){3}\d{1,3}\s+\S+`)
	netshStoreRE = regexp.MustCompile(`(?i)show\s+route\b.*\bstore\s*=\s*persistent`)
	lineRE       = regexp.MustCompile(`\bline (\d+)\b`)
)

// source is where an observation came from: "file:line" or "file".
func source(file string, line int) string {
	if line > 0 {
		return file + ":" + strconv.Itoa(line)
	}
	return file
}

// ifRef names an interface the way one capture does; the merge joins refs
// that share any identifier.
type ifRef struct {
	Name  string     // alias: "Wi-Fi", "Ethernet 2"
	Desc  string     // adapter description (route print's interface list, ipconfig)
	Index int        // IfIndex
	IP    netip.Addr // an IPv4 address it holds (route print's Interface column)
	MAC   string
}

// obsAddr is an address one capture reports on an interface. Bits is -1
// when the capture gives no prefix length; fromRoutes marks a length found
// from an on-link route rather than printed with the address.
type obsAddr struct {
	If   ifRef
	Addr netip.Addr
	Bits int
	File string
	Src  string
	Kind Kind
}

// obsRoute is a route row.
type obsRoute struct {
	Dst     netip.Prefix
	Gateway netip.Addr // invalid: on-link
	If      ifRef      // may be empty
	Metric  int
	// MetricKnown: the metric printed is the route's own (persistent rows,
	// netsh, PowerShell); route print's active rows print route plus
	// interface metric.
	MetricKnown bool
	Store       netcfg.Store
	System      bool // netsh Type "System": Windows made it
	Src         string
	Kind        Kind
}

// capture is what one file says.
type capture struct {
	File    string
	Kind    Kind
	Ifs     []ifRef
	Addrs   []obsAddr
	Routes  []obsRoute
	Covers4 bool // route print: it has an IPv4 table (its host rows are all the IPv4 addresses)
	Covers6 bool
	// coveredIfs: interfaces whose whole address list the file shows
	// (ipconfig adapters, netsh interfaces, PowerShell aliases).
	Covered []ifRef
}

// parse reads one file of kind k.
func parse(file string, k Kind, text string) (*capture, error) {
	c := &capture{File: file, Kind: k}
	switch k {
	case RoutePrint:
		t, err := routeexe.ParsePrint(text)
		if err != nil {
			return nil, err
		}
		c.fromRoutePrint(t)
	case IPConfig:
		as, err := ipconfig.Parse(text)
		if err != nil {
			return nil, err
		}
		c.fromIPConfig(as)
	case NetshRoutes:
		store := netcfg.StoreActive
		if netshStoreRE.MatchString(text) {
			store = netcfg.StorePersistent
		}
		rs, err := netsh.ParseRoutes(text, store)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			ref := ifRef{Index: r.IfIndex, Name: r.Interface}
			c.Ifs = append(c.Ifs, ref)
			c.Routes = append(c.Routes, obsRoute{Dst: r.Dst, Gateway: r.Gateway, If: ref, Metric: r.Metric, MetricKnown: true,
				Store: store, System: r.Protocol == "system", Src: source(file, r.SourceLine), Kind: k})
		}
	case NetshAddresses:
		es, err := netsh.ParseAddresses(text)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			ref := ifRef{Name: e.Interface, Index: e.IfIndex}
			c.Ifs = append(c.Ifs, ref)
			if e.Interface != "" || e.IfIndex != 0 {
				c.Covered = append(c.Covered, ref)
			}
			c.Addrs = append(c.Addrs, obsAddr{If: ref, Addr: e.Addr, Bits: e.Bits, File: file, Src: file, Kind: k})
		}
	case NetshInterfaces:
		is, err := netsh.ParseInterfaces(text)
		if err != nil {
			return nil, err
		}
		for _, i := range is {
			c.Ifs = append(c.Ifs, ifRef{Name: i.Name, Index: i.Idx})
		}
	case PwshIPInterfaces:
		is, err := pwsh.ParseIPInterfaceTable(text)
		if err != nil {
			return nil, err
		}
		for _, i := range is {
			ref := ifRef{Index: i.IfIndex}
			if !truncatedText(i.Alias) {
				ref.Name = i.Alias
			}
			c.Ifs = append(c.Ifs, ref)
		}
	case PwshRouteTable:
		rs, err := pwsh.ParseRouteTable(text)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			c.addPwshRoute(r.Route, r.Store, "")
		}
	case PwshRouteJSON:
		rs, err := pwsh.ParseRoutesJSON(text, netcfg.StoreActive)
		if err != nil {
			return nil, err
		}
		for i, r := range rs {
			c.addPwshRoute(r, netcfg.StoreActive, fmt.Sprintf("object %d", i))
		}
	case PwshAddressList, PwshAddressJSON:
		var as []pwsh.Address
		var err error
		if k == PwshAddressList {
			as, err = pwsh.ParseAddressList(text)
		} else {
			as, err = pwsh.ParseAddressesJSON(text, netcfg.StoreActive)
		}
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if a.Store == netcfg.StorePersistent {
				continue // the same address's persistent record (New-NetIPAddress prints both)
			}
			ref := ifRef{Name: a.Interface, Index: a.IfIndex}
			c.Ifs = append(c.Ifs, ref)
			c.Covered = append(c.Covered, ref)
			c.Addrs = append(c.Addrs, obsAddr{If: ref, Addr: a.Prefix.Addr(), Bits: a.Prefix.Bits(), File: file, Src: file, Kind: k})
		}
	default:
		return nil, fmt.Errorf("no reader for %s", k)
	}
	if k == NetshRoutes || k == PwshRouteTable || k == PwshRouteJSON {
		c.inferAddresses()
	}
	return c, nil
}

// inferAddresses finds the host's addresses in a route table that names
// interfaces by index (netsh, Get-NetRoute): an active on-link host route
// (/32, /128) inside an on-link subnet route of the same interface, and
// not that subnet's broadcast, is the route Windows makes for an address.
func (c *capture) inferAddresses() {
	for _, r := range c.Routes {
		a := r.Dst.Addr()
		if r.Gateway.IsValid() || r.Store != netcfg.StoreActive || r.Dst.Bits() != a.BitLen() || r.If.Index == 0 || generatedDst(r.Dst) {
			continue
		}
		for _, p := range c.Routes {
			if p.Gateway.IsValid() || p.Store != netcfg.StoreActive || p.If.Index != r.If.Index || p.Dst.Bits() == 0 ||
				p.Dst.Bits() >= a.BitLen() || !p.Dst.Contains(a) || generatedDst(p.Dst) || a.Is4() && a == netcfg.LastAddr(p.Dst) {
				continue
			}
			c.Addrs = append(c.Addrs, obsAddr{If: r.If, Addr: a, Bits: -1, File: c.File, Src: r.Src, Kind: c.Kind})
			break
		}
	}
}

func truncatedText(s string) bool {
	return strings.HasSuffix(s, "...") || strings.HasSuffix(s, "\u2026")
}

func (c *capture) addPwshRoute(r pwsh.Route, store netcfg.Store, where string) {
	ref := ifRef{Name: r.Interface, Index: r.IfIndex}
	if truncatedText(ref.Name) {
		ref.Name = ""
	}
	if store == "" {
		store = netcfg.StoreActive
	}
	src := c.File
	if where != "" {
		src += " (" + where + ")"
	}
	c.Ifs = append(c.Ifs, ref)
	c.Routes = append(c.Routes, obsRoute{Dst: r.Dst, Gateway: r.Gateway, If: ref, Metric: r.Metric, MetricKnown: true,
		Store: store, Src: src, Kind: c.Kind})
}

func (c *capture) fromIPConfig(as []ipconfig.Adapter) {
	for _, a := range as {
		ref := ifRef{Name: a.Name, Desc: a.Description, MAC: a.MAC}
		c.Ifs = append(c.Ifs, ref)
		c.Covered = append(c.Covered, ref)
		for _, x := range append(append([]ipconfig.Address(nil), a.IPv4...), a.IPv6...) {
			bits := x.Prefix.Bits()
			if x.Prefix.Addr().Is6() {
				bits = -1 // ipconfig prints no IPv6 prefix length
			}
			c.Addrs = append(c.Addrs, obsAddr{If: ref, Addr: x.Prefix.Addr(), Bits: bits, File: c.File, Src: source(c.File, a.Line), Kind: IPConfig})
		}
	}
}

// fromRoutePrint takes the interface list, the host's addresses (IPv4: the
// Interface column of active rows; IPv6: /128 on-link rows inside an
// on-link prefix of the same interface) and every row as a route.
func (c *capture) fromRoutePrint(t *routeexe.Table) {
	for _, i := range t.Interfaces {
		c.Ifs = append(c.Ifs, ifRef{Index: i.Index, Desc: i.Description, MAC: i.MAC})
	}
	seen := map[netip.Addr]bool{}
	for _, r := range t.Rows {
		if r.Store != netcfg.StoreActive {
			continue
		}
		if r.Family == netcfg.IPv4 {
			c.Covers4 = true
			if a := r.InterfaceIP; a.IsValid() && !a.IsLoopback() && !seen[a] {
				seen[a] = true
				ref := ifRef{IP: a}
				c.Ifs = append(c.Ifs, ref)
				c.Addrs = append(c.Addrs, obsAddr{If: ref, Addr: a, Bits: -1, File: c.File, Src: source(c.File, r.Line), Kind: RoutePrint})
			}
			continue
		}
		c.Covers6 = true
		if r.OnLink && r.Dst.Bits() == 128 && !seen[r.Dst.Addr()] && onLinkParent(t, r) {
			seen[r.Dst.Addr()] = true
			ref := ifRef{Index: r.IfIndex}
			c.Addrs = append(c.Addrs, obsAddr{If: ref, Addr: r.Dst.Addr(), Bits: -1, File: c.File, Src: source(c.File, r.Line), Kind: RoutePrint})
		}
	}
	for _, r := range t.Rows {
		o := obsRoute{Dst: r.Dst, Metric: r.Metric, Store: r.Store, Src: source(c.File, r.Line), Kind: RoutePrint,
			MetricKnown: r.Store == netcfg.StorePersistent}
		if !r.OnLink {
			o.Gateway = r.Gateway
		}
		switch {
		case r.InterfaceIP.IsValid():
			o.If = ifRef{IP: r.InterfaceIP}
		case r.IfIndex != 0:
			o.If = ifRef{Index: r.IfIndex}
		}
		c.Routes = append(c.Routes, o)
	}
}

// onLinkParent: an IPv6 on-link row of r's interface, shorter than /128,
// holds r's destination — the prefix the kernel made for the address.
func onLinkParent(t *routeexe.Table, r routeexe.Row) bool {
	for _, p := range t.Rows {
		if p.Family == netcfg.IPv6 && p.OnLink && p.IfIndex == r.IfIndex && p.Store == netcfg.StoreActive &&
			p.Dst.Bits() < 128 && p.Dst.Contains(r.Dst.Addr()) {
			return true
		}
	}
	return false
}

// readFile decodes, detects and parses one file. With bestEffort a line the
// parser names is blanked and the file read again (at most maxSkips
// times); each is listed.
func readFile(f File, bestEffort bool) (*capture, []Skip, error) {
	text, err := wintext.Decode(f.Data)
	var skips []Skip
	if err != nil {
		var de *wintext.DecodeError
		if errors.As(err, &de) {
			err = &Error{File: f.Name, Line: de.Line, Msg: de.Msg}
		}
		if !bestEffort {
			return nil, nil, err
		}
		skips = append(skips, Skip{File: f.Name, Reason: "not UTF-8: invalid bytes replaced by U+FFFD"})
		text = strings.ToValidUTF8(string(f.Data), "\uFFFD")
	}
	k, ok := Detect(text)
	if !ok {
		err := &Error{File: f.Name, Msg: "cannot tell which command printed this: import reads route print, ipconfig /all, netsh interface ipv4|ipv6 show route|addresses|interfaces, and Get-NetRoute / Get-NetIPAddress / Get-NetIPInterface (table, list or ConvertTo-Json)"}
		if bestEffort {
			return nil, append(skips, Skip{File: f.Name, Reason: err.Msg}), nil
		}
		return nil, nil, err
	}
	lines := wintext.SplitLines(text)
	orig := make([]int, len(lines)) // orig[i]: the file's line number of lines[i]
	for i := range orig {
		orig[i] = i + 1
	}
	for range maxSkips {
		c, err := parse(f.Name, k, strings.Join(lines, "\n"))
		if err == nil {
			return c, skips, nil
		}
		e := damage(f.Name, k, err)
		at := e.Line - 1
		if e.Line >= 1 && e.Line <= len(lines) {
			e.Line = orig[at]
		}
		if !bestEffort {
			return nil, nil, e
		}
		if at < 0 || at >= len(lines) || strings.TrimSpace(lines[at]) == "" {
			return nil, append(skips, Skip{File: f.Name, Reason: "file skipped: " + e.Msg}), nil
		}
		skips = append(skips, Skip{File: f.Name, Line: e.Line, Reason: fmt.Sprintf("line skipped (%q): %s", strings.TrimSpace(lines[at]), e.Msg)})
		lines = append(lines[:at:at], lines[at+1:]...)
		orig = append(orig[:at:at], orig[at+1:]...)
	}
	return nil, append(skips, Skip{File: f.Name, Reason: fmt.Sprintf("file skipped: more than %d damaged lines", maxSkips)}), nil
}

// maxSkips bounds the lines BestEffort drops from one file.
const maxSkips = 50

// damage turns a parser's error into an *Error at the line it names.
func damage(file string, k Kind, err error) *Error {
	msg := err.Error()
	e := &Error{File: file, Msg: fmt.Sprintf("%s: %s", k, msg)}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
	}
	return e
}
