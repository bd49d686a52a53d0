package capture

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kbharness/kbharness/fixtures"
)

// Mapping maps a customer's addresses into the documentation ranges
// (RFC 5737, RFC 3849) and back. The rule:
//
//   - Each customer subnet (the masked prefix of a host address) maps to a
//     documentation subnet of the same prefix length, the host part kept:
//     IPv4 subnets are packed into 192.0.2.0/24, 198.51.100.0/24 and
//     203.0.113.0/24, largest first, lowest aligned free place first; IPv6
//     subnet k (1, 2, ... in address order) maps to 2001:db8:k::/LEN.
//   - An IPv4 subnet wider than /24 (IPv6: than /48) maps to a whole /24
//     (/48) instead: its addresses keep their offset from the network, and
//     one whose offset does not fit (beyond .255 for IPv4) is refused with
//     a message naming it. The lab prefix is then /24 (/48).
//   - A route destination inside a customer subnet maps through it, length
//     kept. Any other destination (besides the defaults 0.0.0.0/0 and ::/0,
//     kept) maps into a separate block by the same rule: IPv4 from the top
//     of the documentation space down (203.0.113.255 first), IPv6 to
//     2001:db8:8000::/33 (2001:db8:8000+j::/LEN).
//   - An IPv6 link-local gateway maps to its interface identifier inside
//     its interface's first IPv6 subnet (listed under Addresses).
//   - More than the space holds is refused, never wrapped.
//
// Everything is sorted first, so the same captures give the same mapping
// whatever their order.
type Mapping struct {
	Interfaces   []InterfaceMap `yaml:"interfaces"`
	Subnets      []PrefixMap    `yaml:"subnets"`
	Destinations []PrefixMap    `yaml:"destinations,omitempty"`
	Addresses    []AddressMap   `yaml:"addresses,omitempty"`
}

// InterfaceMap names the customer interface behind a lab link.
type InterfaceMap struct {
	Lab         string `yaml:"lab"`
	Name        string `yaml:"name,omitempty"`
	Description string `yaml:"description,omitempty"`
	Index       int    `yaml:"index,omitempty"`
	MAC         string `yaml:"mac,omitempty"`
}

// PrefixMap maps a customer prefix to a lab prefix: an address at offset o
// from the customer network is at offset o from the lab network.
type PrefixMap struct {
	Customer netip.Prefix `yaml:"customer"`
	Lab      netip.Prefix `yaml:"lab"`
	// Interface is the lab link of a subnet.
	Interface string `yaml:"interface,omitempty"`
}

// AddressMap maps one customer address (an IPv6 link-local gateway, on
// Interface) to a lab address.
type AddressMap struct {
	Customer  netip.Addr `yaml:"customer"`
	Interface string     `yaml:"interface"`
	Lab       netip.Addr `yaml:"lab"`
}

var (
	docs4 = []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
	}
	docs6       = netip.MustParsePrefix("2001:db8::/32")
	v6Wide      = 48     // IPv6 region per subnet
	v6External  = 0x8000 // first external region: 2001:db8:8000::/48
	v6MaxRegion = 0x7fff
)

// NewMapping maps h's subnets and route destinations (see Mapping).
func NewMapping(h *Host) (*Mapping, error) {
	m := &Mapping{}
	if len(h.Interfaces) > fixtures.MaxLinks {
		return nil, fmt.Errorf("mapping: %d interfaces hold addresses; a lab has at most %d links", len(h.Interfaces), fixtures.MaxLinks)
	}
	var subnets []PrefixMap
	for i, in := range h.Interfaces {
		lab := fmt.Sprintf("lan%d", i)
		m.Interfaces = append(m.Interfaces, InterfaceMap{Lab: lab, Name: in.Name, Description: in.Description, Index: in.Index, MAC: in.MAC})
		for _, p := range in.Addresses {
			pm := PrefixMap{Customer: p.Masked(), Interface: lab}
			if !slices.ContainsFunc(subnets, func(x PrefixMap) bool { return x.Customer == pm.Customer }) {
				subnets = append(subnets, pm)
			}
		}
	}
	var ext []PrefixMap
	for _, r := range h.Routes {
		if r.Dst.Bits() == 0 || slices.ContainsFunc(subnets, func(x PrefixMap) bool { return x.Customer.Contains(r.Dst.Addr()) && x.Customer.Bits() <= r.Dst.Bits() }) {
			continue
		}
		if !slices.ContainsFunc(ext, func(x PrefixMap) bool { return x.Customer == r.Dst }) {
			ext = append(ext, PrefixMap{Customer: r.Dst})
		}
	}
	// points are what must keep its offset inside a subnet: the host's
	// addresses, the gateways, the route destinations.
	var points []netip.Prefix
	for _, in := range h.Interfaces {
		for _, p := range in.Addresses {
			points = append(points, netip.PrefixFrom(p.Addr(), p.Addr().BitLen()))
		}
	}
	for _, r := range h.Routes {
		if r.Gateway.IsValid() && !r.Gateway.IsLinkLocalUnicast() {
			points = append(points, netip.PrefixFrom(r.Gateway, r.Gateway.BitLen()))
		}
		if r.Dst.Bits() > 0 {
			points = append(points, r.Dst)
		}
	}
	var err error
	for _, compact := range []bool{false, true} {
		a := newAlloc4()
		bits := func(p netip.Prefix) int { return labBits4(p, points, compact) }
		var e1, e2 error
		m.Subnets, e1 = place(slices.Clone(subnets), a, false, 0, bits)
		m.Destinations, e2 = place(slices.Clone(ext), a, true, v6External, bits)
		switch {
		case e1 != nil:
			err = fmt.Errorf("mapping subnets: %w", e1)
		case e2 != nil:
			err = fmt.Errorf("mapping route destinations outside the subnets: %w", e2)
		default:
			err = nil
		}
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	for _, in := range h.Interfaces {
		for _, p := range in.Addresses {
			if _, err := m.mapAddr(p.Addr(), ""); err != nil {
				return nil, fmt.Errorf("mapping address %s of %s: %w", p.Addr(), in.Label(), err)
			}
		}
	}
	return m, nil
}

// labBits4 is the lab prefix length of an IPv4 customer prefix p: its own,
// but at least 24 (a wider prefix gets a /24). compact (used only when the
// first packing does not fit) shrinks a prefix to the smallest length,
// down to /30, that still holds every point inside it at its offset, short
// of the broadcast address (a host or gateway there would be refused by the
// kernel).
func labBits4(p netip.Prefix, points []netip.Prefix, compact bool) int {
	bits := max(p.Bits(), 24)
	if !compact {
		return bits
	}
	need := u128{}
	for _, q := range points {
		if q.Addr().Is4() != p.Addr().Is4() || q.Bits() < p.Bits() || !p.Contains(q.Addr()) {
			continue
		}
		end := add(sub(u128of(q.Masked().Addr()), u128of(p.Masked().Addr())), u128{0, uint64(1) << (32 - q.Bits())})
		if end.lo > need.lo {
			need = end
		}
	}
	for b := 30; b > bits; b-- {
		if need.lo < uint64(1)<<(32-b) {
			return b
		}
	}
	return bits
}

// place gives each root prefix (not inside another of the list) a lab
// prefix, and each nested prefix the lab prefix its root maps it to.
func place(ps []PrefixMap, a *alloc4, top bool, v6Base int, labBits func(netip.Prefix) int) ([]PrefixMap, error) {
	slices.SortFunc(ps, func(x, y PrefixMap) int {
		if c := cmp.Compare(x.Customer.Addr().BitLen(), y.Customer.Addr().BitLen()); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Customer.Bits(), y.Customer.Bits()); c != 0 {
			return c
		}
		return x.Customer.Addr().Compare(y.Customer.Addr())
	})
	var roots, nested []int
	for i, p := range ps {
		if slices.ContainsFunc(ps[:i], func(q PrefixMap) bool {
			return q.Customer.Bits() < p.Customer.Bits() && q.Customer.Contains(p.Customer.Addr())
		}) {
			nested = append(nested, i)
		} else {
			roots = append(roots, i)
		}
	}
	// A nested prefix whose offset does not fit its root's lab prefix (a
	// root narrowed to /24 or /48) becomes a root of its own: its lab
	// prefix then lies outside its root's, the nesting is not kept.
	for k := 0; k < len(nested); {
		i := nested[k]
		if _, err := viaRoots(ps, roots, ps[i].Customer, labLen(ps, labBits)); err != nil {
			roots = append(roots, i)
			nested = append(nested[:k], nested[k+1:]...)
			continue
		}
		k++
	}
	var errs []string
	region := v6Base
	if region == 0 {
		region = 1
	}
	for _, i := range roots {
		p := &ps[i]
		if p.Customer.Addr().Is4() {
			bits := labBits(p.Customer)
			lab, ok := a.take(bits, top)
			if !ok {
				errs = append(errs, fmt.Sprintf("no room for %s (a /%d) in %s: %d addresses of 768 already used", p.Customer, bits, strings.Join(prefixStrings(docs4), ", "), a.usedCount()))
				continue
			}
			p.Lab = lab
			continue
		}
		if region > v6Base+v6MaxRegion || v6Base == 0 && region >= v6External {
			errs = append(errs, fmt.Sprintf("no room for %s: out of 2001:db8::/32 regions", p.Customer))
			continue
		}
		b := docs6.Addr().As16()
		binary.BigEndian.PutUint16(b[4:], uint16(region))
		region++
		p.Lab = netip.PrefixFrom(netip.AddrFrom16(b), max(p.Customer.Bits(), v6Wide))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s (the documentation ranges hold three IPv4 /24s; import fewer interfaces or captures)", strings.Join(errs, "; "))
	}
	for _, i := range nested {
		lab, err := viaRoots(ps, roots, ps[i].Customer, nil)
		if err != nil {
			return nil, err
		}
		ps[i].Lab = lab
	}
	return ps, nil
}

// viaRoots maps p through the root that holds it. labLen, when set, gives
// a root's lab prefix length before it is placed (p is mapped as if the lab
// prefix started at the zero address), to test that p fits.
func viaRoots(ps []PrefixMap, roots []int, p netip.Prefix, labLen func(int) int) (netip.Prefix, error) {
	for _, r := range roots {
		if ps[r].Customer.Contains(p.Addr()) && ps[r].Customer.Bits() < p.Bits() {
			pm := ps[r]
			if labLen != nil {
				zero := netip.IPv6Unspecified()
				if p.Addr().Is4() {
					zero = netip.IPv4Unspecified()
				}
				pm.Lab = netip.PrefixFrom(zero, labLen(r))
			}
			return mapPrefix(pm, p)
		}
	}
	return netip.Prefix{}, fmt.Errorf("%s: no mapped prefix holds it", p)
}

// labLen is the lab prefix length place gives root r.
func labLen(ps []PrefixMap, labBits func(netip.Prefix) int) func(int) int {
	return func(r int) int {
		if ps[r].Customer.Addr().Is4() {
			return labBits(ps[r].Customer)
		}
		return max(ps[r].Customer.Bits(), v6Wide)
	}
}

func prefixStrings(ps []netip.Prefix) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// mapAddr maps a customer address: an AddressMap entry (link-local, on
// interface iface), else the most specific subnet, else destination.
func (m *Mapping) mapAddr(a netip.Addr, iface string) (netip.Addr, error) {
	a = a.WithZone("")
	for _, e := range m.Addresses {
		if e.Customer == a && (iface == "" || e.Interface == iface) {
			return e.Lab, nil
		}
	}
	if pm, ok := best(m.Subnets, a, true); ok {
		return offsetMap(pm.Customer, pm.Lab, a)
	}
	if pm, ok := best(m.Destinations, a, true); ok {
		return offsetMap(pm.Customer, pm.Lab, a)
	}
	return netip.Addr{}, fmt.Errorf("%s is in no mapped subnet", a)
}

// MapAddr maps a customer address (see Mapping).
func (m *Mapping) MapAddr(a netip.Addr) (netip.Addr, error) { return m.mapAddr(a, "") }

// MapPrefix maps a customer prefix, keeping its length (0.0.0.0/0 and ::/0
// stay); a mapped root itself maps to its lab prefix.
func (m *Mapping) MapPrefix(p netip.Prefix) (netip.Prefix, error) {
	p = p.Masked()
	if p.Bits() == 0 {
		return p, nil
	}
	for _, list := range [][]PrefixMap{m.Subnets, m.Destinations} {
		for _, pm := range list {
			if pm.Customer == p {
				return pm.Lab, nil
			}
		}
	}
	for _, list := range [][]PrefixMap{m.Subnets, m.Destinations} {
		var cands []PrefixMap
		for _, pm := range list {
			if pm.Customer.Contains(p.Addr()) && pm.Customer.Bits() <= p.Bits() {
				cands = append(cands, pm)
			}
		}
		if len(cands) > 0 {
			pm := slices.MaxFunc(cands, func(x, y PrefixMap) int { return cmp.Compare(x.Customer.Bits(), y.Customer.Bits()) })
			return mapPrefix(pm, p)
		}
	}
	return netip.Prefix{}, fmt.Errorf("%s is in no mapped subnet or destination", p)
}

// Reverse maps a lab address back to the customer's (for the report).
func (m *Mapping) Reverse(a netip.Addr) (netip.Addr, bool) {
	for _, e := range m.Addresses {
		if e.Lab == a {
			return e.Customer, true
		}
	}
	for _, list := range [][]PrefixMap{m.Subnets, m.Destinations} {
		if pm, ok := best(list, a, false); ok {
			c, err := offsetMap(pm.Lab, pm.Customer, a)
			return c, err == nil
		}
	}
	return netip.Addr{}, false
}

// ReversePrefix maps a lab prefix back.
func (m *Mapping) ReversePrefix(p netip.Prefix) (netip.Prefix, bool) {
	if p.Bits() == 0 {
		return p, true
	}
	for _, list := range [][]PrefixMap{m.Subnets, m.Destinations} {
		for _, pm := range list {
			if pm.Lab == p {
				return pm.Customer, true
			}
		}
	}
	a, ok := m.Reverse(p.Addr())
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, p.Bits()), true
}

// best is the most specific entry whose customer (or, !customer, lab)
// prefix holds a.
func best(list []PrefixMap, a netip.Addr, customer bool) (PrefixMap, bool) {
	side := func(pm PrefixMap) netip.Prefix {
		if customer {
			return pm.Customer
		}
		return pm.Lab
	}
	var out PrefixMap
	found := false
	for _, pm := range list {
		if p := side(pm); p.Contains(a) && (!found || p.Bits() > side(out).Bits()) {
			out, found = pm, true
		}
	}
	return out, found
}

func mapPrefix(pm PrefixMap, p netip.Prefix) (netip.Prefix, error) {
	a, err := offsetMap(pm.Customer, pm.Lab, p.Addr())
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Bits() < pm.Lab.Bits() {
		return netip.Prefix{}, fmt.Errorf("%s is wider than its lab prefix %s", p, pm.Lab)
	}
	return netip.PrefixFrom(a, p.Bits()), nil
}

// offsetMap maps a from the network of from to the same offset from the
// network of to; the offset must fit to.
func offsetMap(from, to netip.Prefix, a netip.Addr) (netip.Addr, error) {
	off := sub(u128of(a), u128of(from.Masked().Addr()))
	room := a.BitLen() - to.Bits()
	if !fits(off, room) {
		return netip.Addr{}, fmt.Errorf("%s lies beyond the first %s addresses of %s, the room in %s: cannot map it", a, roomText(room), from.Masked(), to)
	}
	return addrOf(add(u128of(to.Masked().Addr()), off), a.Is4()), nil
}

func roomText(bits int) string {
	if bits < 63 {
		return fmt.Sprint(uint64(1) << bits)
	}
	return fmt.Sprintf("2^%d", bits)
}

type u128 struct{ hi, lo uint64 }

func u128of(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func addrOf(v u128, is4 bool) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], v.hi)
	binary.BigEndian.PutUint64(b[8:], v.lo)
	a := netip.AddrFrom16(b)
	if is4 {
		return a.Unmap()
	}
	return a
}

func sub(a, b u128) u128 {
	lo := a.lo - b.lo
	hi := a.hi - b.hi
	if a.lo < b.lo {
		hi--
	}
	return u128{hi, lo}
}

func add(a, b u128) u128 {
	lo := a.lo + b.lo
	hi := a.hi + b.hi
	if lo < a.lo {
		hi++
	}
	return u128{hi, lo}
}

// fits: v < 2^bits.
func fits(v u128, bits int) bool {
	switch {
	case bits >= 128:
		return true
	case bits >= 64:
		return v.hi>>(bits-64) == 0
	}
	return v.hi == 0 && v.lo>>bits == 0
}

// alloc4 hands out aligned blocks of the three IPv4 documentation /24s.
type alloc4 struct{ used [768]bool }

func newAlloc4() *alloc4 { return &alloc4{} }

func (a *alloc4) usedCount() int {
	n := 0
	for _, u := range a.used {
		if u {
			n++
		}
	}
	return n
}

// take finds a free aligned /bits (24..32): the lowest, or with top the
// highest.
func (a *alloc4) take(bits int, top bool) (netip.Prefix, bool) {
	size := 1 << (32 - bits)
	n := len(a.used) / size
	for k := range n {
		if top {
			k = n - 1 - k
		}
		start := k * size
		if slices.Contains(a.used[start:start+size], true) {
			continue
		}
		for i := start; i < start+size; i++ {
			a.used[i] = true
		}
		base := docs4[start/256].Addr().As4()
		base[3] = byte(start % 256)
		return netip.PrefixFrom(netip.AddrFrom4(base), bits), true
	}
	return netip.Prefix{}, false
}

// mappingFile is the mapping file: the mapping with what the import read
// and could not place.
type mappingFile struct {
	Files     []string `yaml:"files"`
	Mapping   `yaml:",inline"`
	Conflicts []string `yaml:"conflicts,omitempty"`
	Skipped   []string `yaml:"skipped,omitempty"`
}

// MarshalMapping renders the mapping file: a header comment, the files
// read (with their kind), the mapping, the conflicts and what best effort
// skipped.
func MarshalMapping(m *Mapping, h *Host, fixture string) ([]byte, error) {
	f := mappingFile{Mapping: *m}
	for _, fk := range h.Files {
		f.Files = append(f.Files, fk.Name+" ("+string(fk.Kind)+")")
	}
	for _, c := range h.Conflicts {
		f.Conflicts = append(f.Conflicts, c.String())
	}
	for _, s := range h.Skipped {
		f.Skipped = append(f.Skipped, s.String())
	}
	body, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("rendering the mapping: %w", err)
	}
	head := "# kbharness import: how the customer's addresses map to the lab fixture " + fixture + ".\n" +
		"# An address at offset N from a customer prefix is at offset N from its lab prefix.\n" +
		"# interfaces: lab link -> customer adapter; subnets: the host's subnets;\n" +
		"# destinations: route destinations outside them; addresses: link-local gateways.\n"
	return append([]byte(head), body...), nil
}

// UnmarshalMapping reads a mapping file (strictly: unknown fields are
// errors) for Reverse.
func UnmarshalMapping(data []byte) (*Mapping, error) {
	var f mappingFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("reading mapping: %w", err)
	}
	return &f.Mapping, nil
}
