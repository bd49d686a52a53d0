package capture

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
)

// Host is the merged view of one customer host.
type Host struct {
	Files      []FileKind
	Interfaces []Interface // those with addresses, by their lowest address
	Routes     []Route     // the routes Windows did not generate, by destination
	// Conflicts are disagreements between captures, and facts that cannot
	// be placed (a gateway on no interface): listed, never resolved by
	// guessing; what they concern is left out of Interfaces and Routes
	// unless the message says otherwise.
	Conflicts []Conflict
	Skipped   []Skip // what BestEffort left out
	Dropped   int    // routes recognised as Windows-generated
}

// FileKind is a file read and what it was detected as.
type FileKind struct {
	Name string
	Kind Kind
}

// Interface is one interface of the host.
type Interface struct {
	Name        string // alias ("Wi-Fi"); "" if no capture names it
	Description string
	Index       int
	MAC         string
	Addresses   []netip.Prefix // the host's addresses with their on-link prefix; link-local left out
}

// Label is how messages name the interface.
func (i Interface) Label() string {
	var parts []string
	if i.Name != "" {
		parts = append(parts, strconv.Quote(i.Name))
	}
	if i.Description != "" && i.Description != i.Name {
		parts = append(parts, strconv.Quote(i.Description))
	}
	if i.Index != 0 {
		parts = append(parts, "index "+strconv.Itoa(i.Index))
	}
	if len(parts) == 0 && len(i.Addresses) > 0 {
		parts = append(parts, "holding "+i.Addresses[0].Addr().String())
	}
	return strings.Join(parts, " ")
}

// Route is a route of the host that Windows did not generate.
type Route struct {
	Dst netip.Prefix
	// Gateway: invalid for an on-link route. An IPv6 link-local gateway is
	// kept as printed (zone dropped); it lies on Interface.
	Gateway   netip.Addr
	Interface int // index into Host.Interfaces; -1 if no capture says and no address places it
	Metric    int // the route's own metric; 0 if unknown or "Default"
	// MetricEffective: Metric is route print's active-row metric (route plus
	// interface metric), the only one any capture printed.
	MetricEffective bool
	Active          bool
	Persistent      bool
	Sources         []string // file:line of every row it merges
}

// Conflict is a disagreement between captures or a fact that cannot be
// placed.
type Conflict struct {
	Sources []string
	Msg     string
}

func (c Conflict) String() string {
	return strings.Join(c.Sources, ", ") + ": " + c.Msg
}

// Read reads the captures of one host and merges them. Damaged input is an
// *Error naming the file and line unless opt.BestEffort.
func Read(files []File, opt Options) (*Host, error) {
	h := &Host{}
	var caps []*capture
	for _, f := range files {
		c, skips, err := readFile(f, opt.BestEffort)
		if err != nil {
			return nil, err
		}
		h.Skipped = append(h.Skipped, skips...)
		if c != nil {
			caps = append(caps, c)
			h.Files = append(h.Files, FileKind{Name: f.Name, Kind: c.Kind})
		}
	}
	if len(caps) == 0 {
		return nil, &Error{File: strings.Join(fileNames(files), ", "), Msg: "no capture could be read"}
	}
	m := newMerger(caps)
	m.interfaces()
	m.addresses(h)
	m.routes(h)
	return h, nil
}

func fileNames(fs []File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// merger joins interface refs that share an identifier (alias, index,
// description, an IPv4 address) with union-find.
type merger struct {
	caps   []*capture
	parent map[string]string
	info   map[string]*Interface // by root, filled by interfaces()
	macs   map[string]map[string][]string
	ifIdx  map[string]int
	host   *Host
}

func newMerger(caps []*capture) *merger {
	return &merger{caps: caps, parent: map[string]string{}}
}

func (m *merger) find(k string) string {
	if _, ok := m.parent[k]; !ok {
		m.parent[k] = k
	}
	for m.parent[k] != k {
		m.parent[k] = m.parent[m.parent[k]]
		k = m.parent[k]
	}
	return k
}

func (m *merger) union(a, b string) {
	ra, rb := m.find(a), m.find(b)
	if ra != rb {
		m.parent[ra] = rb
	}
}

func keys(r ifRef) []string {
	var k []string
	if r.Name != "" {
		k = append(k, "n:"+r.Name)
	}
	if r.Index != 0 {
		k = append(k, "i:"+strconv.Itoa(r.Index))
	}
	if r.Desc != "" {
		k = append(k, "d:"+r.Desc)
	}
	if r.IP.IsValid() {
		k = append(k, "a:"+r.IP.String())
	}
	return k
}

// root returns the interface a ref names ("" for an empty ref).
func (m *merger) root(r ifRef) string {
	k := keys(r)
	if len(k) == 0 {
		return ""
	}
	return m.find(k[0])
}

func (m *merger) join(r ifRef) {
	k := keys(r)
	for i := 1; i < len(k); i++ {
		m.union(k[0], k[i])
	}
	if len(k) > 0 {
		m.find(k[0])
	}
}

// interfaces joins every ref: those of each capture, and an address's ref
// with the address itself (route print's IPv4 Interface column, and an
// IPv6 host row's If, meet ipconfig's adapter through the address).
func (m *merger) interfaces() {
	for _, c := range m.caps {
		for _, r := range c.Ifs {
			m.join(r)
		}
		for _, a := range c.Addrs {
			if a.Addr.IsLinkLocalUnicast() || a.Addr.IsLoopback() {
				continue
			}
			m.join(a.If)
			if k := keys(a.If); len(k) > 0 {
				m.union(k[0], "a:"+a.Addr.String())
			}
		}
	}
	m.info = map[string]*Interface{}
	m.macs = map[string]map[string][]string{}
	for _, c := range m.caps {
		for _, r := range c.Ifs {
			rt := m.root(r)
			if rt == "" {
				continue
			}
			in := m.info[rt]
			if in == nil {
				in = &Interface{}
				m.info[rt] = in
			}
			if in.Name == "" {
				in.Name = r.Name
			}
			if in.Description == "" {
				in.Description = r.Desc
			}
			if in.Index == 0 {
				in.Index = r.Index
			}
			if r.MAC != "" {
				if m.macs[rt] == nil {
					m.macs[rt] = map[string][]string{}
				}
				m.macs[rt][r.MAC] = appendUnique(m.macs[rt][r.MAC], c.File)
				if in.MAC == "" {
					in.MAC = r.MAC
				}
			}
		}
	}
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// addresses settles each interface's addresses and their prefix lengths
// and lists the captures' disagreements.
func (m *merger) addresses(h *Host) {
	m.host = h
	for rt, macs := range m.macs {
		if len(macs) > 1 {
			var srcs, vals []string
			for mac, files := range macs {
				vals = append(vals, mac)
				srcs = append(srcs, files...)
			}
			slices.Sort(vals)
			slices.Sort(srcs)
			h.Conflicts = append(h.Conflicts, Conflict{Sources: slices.Compact(srcs),
				Msg: fmt.Sprintf("interface %s: the captures give different MACs %s (the fixture keeps none)", m.info[rt].Label(), strings.Join(vals, ", "))})
			m.info[rt].MAC = ""
		}
	}
	type seen struct {
		obs []obsAddr
	}
	byAddr := map[netip.Addr]*seen{}
	var addrs []netip.Addr
	for _, c := range m.caps {
		for _, a := range c.Addrs {
			if a.Addr.IsLinkLocalUnicast() || a.Addr.IsLoopback() || a.Addr.IsUnspecified() {
				continue
			}
			s := byAddr[a.Addr]
			if s == nil {
				s = &seen{}
				byAddr[a.Addr] = s
				addrs = append(addrs, a.Addr)
			}
			s.obs = append(s.obs, a)
		}
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	final := map[string][]netip.Prefix{}
	for _, a := range addrs {
		s := byAddr[a]
		rt := m.root(s.obs[0].If)
		if rt == "" {
			rt = m.find("a:" + a.String())
		}
		if m.info[rt] == nil {
			m.info[rt] = &Interface{}
		}
		m.checkCoverage(h, a, s.obs, rt)
		bits, ok := m.prefixLen(h, a, s.obs, rt)
		if !ok {
			continue
		}
		final[rt] = append(final[rt], netip.PrefixFrom(a, bits))
	}
	var roots []string
	for rt, ps := range final {
		m.info[rt].Addresses = ps
		roots = append(roots, rt)
	}
	slices.SortFunc(roots, func(a, b string) int {
		return m.info[a].Addresses[0].Addr().Compare(m.info[b].Addresses[0].Addr())
	})
	m.ifIdx = map[string]int{}
	for i, rt := range roots {
		m.ifIdx[rt] = i
		h.Interfaces = append(h.Interfaces, *m.info[rt])
	}
}

// checkCoverage lists an address that a capture which shows all of the
// interface's (or, route print, all of the family's) addresses lacks.
func (m *merger) checkCoverage(h *Host, a netip.Addr, obs []obsAddr, rt string) {
	has := map[string]bool{}
	var srcs []string
	for _, o := range obs {
		has[o.File] = true
		srcs = appendUnique(srcs, fmt.Sprintf("%s (%s)", o.Src, o.Kind))
	}
	for _, c := range m.caps {
		if has[c.File] {
			continue
		}
		switch {
		case c.Kind == RoutePrint && (a.Is4() && c.Covers4 || a.Is6() && c.Covers6):
			what := "no row with it in the Interface column"
			if a.Is6() {
				what = "no on-link /128 row for it"
			}
			h.Conflicts = append(h.Conflicts, Conflict{Sources: append(srcs, c.File),
				Msg: fmt.Sprintf("address %s on %s is missing from route print (%s): the captures disagree on the interface's addresses; the address is kept", a, m.info[rt].Label(), what)})
		case c.Kind != RoutePrint && m.coversIf(c, rt) && (c.Kind == IPConfig || hasFamily(c, a.Is4())):
			h.Conflicts = append(h.Conflicts, Conflict{Sources: append(srcs, c.File),
				Msg: fmt.Sprintf("address %s on %s is missing from %s (%s), which shows the interface: the captures disagree on the interface's addresses; the address is kept", a, m.info[rt].Label(), c.File, c.Kind)})
		}
	}
}

// hasFamily: the capture shows addresses of IPv4 (v4) or IPv6.
func hasFamily(c *capture, v4 bool) bool {
	for _, a := range c.Addrs {
		if a.Addr.Is4() == v4 {
			return true
		}
	}
	return false
}

func (m *merger) coversIf(c *capture, rt string) bool {
	for _, r := range c.Covered {
		if m.root(r) == rt {
			return true
		}
	}
	return false
}

// prefixLen settles an address's prefix length: the lengths printed with
// it (ipconfig's mask, netsh's Subnet Prefix, PrefixLength) must agree;
// without one, the on-link route of the interface that holds it gives it;
// without that it is a single address (/32, /128), noted.
func (m *merger) prefixLen(h *Host, a netip.Addr, obs []obsAddr, rt string) (int, bool) {
	lens := map[int][]string{}
	for _, o := range obs {
		if o.Bits >= 0 {
			lens[o.Bits] = append(lens[o.Bits], o.Src)
		}
	}
	switch len(lens) {
	case 1:
		for b := range lens {
			return b, true
		}
	case 0:
	default:
		var srcs, ls []string
		for b, s := range lens {
			ls = append(ls, "/"+strconv.Itoa(b))
			srcs = append(srcs, s...)
		}
		slices.Sort(ls)
		slices.Sort(srcs)
		h.Conflicts = append(h.Conflicts, Conflict{Sources: srcs,
			Msg: fmt.Sprintf("address %s on %s: the captures give prefix lengths %s; the address is left out", a, m.info[rt].Label(), strings.Join(ls, " and "))})
		return 0, false
	}
	best := -1
	for _, c := range m.caps {
		for _, r := range c.Routes {
			if r.Gateway.IsValid() && !(r.Kind == RoutePrint && r.Gateway == r.If.IP) || r.Store != netcfg.StoreActive ||
				r.Dst.Bits() >= a.BitLen() || r.Dst.Bits() == 0 || !r.Dst.Contains(a) || generatedDst(r.Dst) {
				continue
			}
			if rr := m.root(r.If); rr != "" && rr != rt {
				continue
			}
			best = max(best, r.Dst.Bits())
		}
	}
	if best >= 0 {
		return best, true
	}
	h.Conflicts = append(h.Conflicts, Conflict{Sources: []string{obs[0].Src},
		Msg: fmt.Sprintf("address %s on %s: no capture gives its prefix length (ipconfig prints none for IPv6; add route print or netsh show route); kept as /%d", a, m.info[rt].Label(), a.BitLen())})
	return a.BitLen(), true
}

var (
	multicast4 = netip.MustParsePrefix("224.0.0.0/4")
	loopback4  = netip.MustParsePrefix("127.0.0.0/8")
	bcast4     = netip.MustParsePrefix("255.255.255.255/32")
	apipa4     = netip.MustParsePrefix("169.254.0.0/16")
	apipaB4    = netip.MustParsePrefix("169.254.255.255/32")
	multicast6 = netip.MustParsePrefix("ff00::/8")
	linkLocal6 = netip.MustParsePrefix("fe80::/10")
	loopback6  = netip.MustParsePrefix("::1/128")
)

// generatedDst: destinations only Windows itself puts in the table —
// loopback, multicast, limited broadcast, link-local.
func generatedDst(d netip.Prefix) bool {
	for _, g := range []netip.Prefix{multicast4, loopback4, multicast6, linkLocal6} {
		if d.Bits() >= g.Bits() && g.Contains(d.Addr()) {
			return true
		}
	}
	return d == bcast4 || d == loopback6
}

// generated reports whether Windows makes r itself: a generatedDst; an
// on-link route of a host address (its subnet, the address itself, the
// subnet's or the classful network's broadcast, as XP adds); a host route
// through loopback (XP); the on-link APIPA routes; a netsh row of Type
// System.
func (m *merger) generated(r obsRoute) bool {
	if r.System || generatedDst(r.Dst) {
		return true
	}
	onLink := !r.Gateway.IsValid() || r.Kind == RoutePrint && r.Gateway == r.If.IP
	if r.Gateway.IsValid() && r.Gateway.IsLoopback() {
		onLink = true
	}
	if !onLink {
		return false
	}
	if r.Dst == apipa4 || r.Dst == apipaB4 {
		return true
	}
	for _, in := range m.host.Interfaces {
		for _, p := range in.Addresses {
			if r.Dst == p.Masked() || r.Dst == netip.PrefixFrom(p.Addr(), p.Addr().BitLen()) {
				return true
			}
			if p.Addr().Is4() && r.Dst.Bits() == 32 && (r.Dst.Addr() == netcfg.LastAddr(p) || r.Dst.Addr() == netcfg.LastAddr(classful(p.Addr()))) {
				return true
			}
		}
	}
	return false
}

func classful(a netip.Addr) netip.Prefix {
	switch b := a.As4()[0]; {
	case b < 128:
		return netip.PrefixFrom(a, 8)
	case b < 192:
		return netip.PrefixFrom(a, 16)
	}
	return netip.PrefixFrom(a, 24)
}

// routes merges the route rows: generated ones are dropped, the same
// (destination, gateway, interface) seen in several rows or stores is one
// route, and a gateway that no interface's subnet holds is a conflict.
func (m *merger) routes(h *Host) {
	type key struct {
		dst netip.Prefix
		gw  netip.Addr
		ifc int
	}
	byKey := map[key]*Route{}
	var order []key
	for _, c := range m.caps {
		for _, r := range c.Routes {
			if m.generated(r) {
				h.Dropped++
				continue
			}
			ifc := -1
			if rt := m.root(r.If); rt != "" {
				if i, ok := m.ifIdx[rt]; ok {
					ifc = i
				}
			}
			gw := r.Gateway.WithZone("")
			if gw.IsValid() && !gw.IsLinkLocalUnicast() {
				on := m.onLinkOf(gw, ifc)
				switch {
				case on < 0 && ifc >= 0:
					h.Conflicts = append(h.Conflicts, Conflict{Sources: []string{r.Src},
						Msg: fmt.Sprintf("%s route %s via %s: the gateway is in no subnet of %s; the route is left out", r.Store, r.Dst, gw, h.Interfaces[ifc].Label())})
					continue
				case on < 0:
					h.Conflicts = append(h.Conflicts, Conflict{Sources: []string{r.Src},
						Msg: fmt.Sprintf("%s route %s via %s: the gateway is on no interface (no captured address's subnet holds it); the route is left out", r.Store, r.Dst, gw)})
					continue
				}
				ifc = on
			}
			if ifc < 0 {
				what := "no capture names its interface"
				if gw.IsValid() {
					what = "its link-local gateway needs an interface and no capture names it"
				}
				h.Conflicts = append(h.Conflicts, Conflict{Sources: []string{r.Src},
					Msg: fmt.Sprintf("%s route %s: %s (or the interface holds no address); the route is left out", r.Store, r.Dst, what)})
				continue
			}
			k := key{r.Dst.Masked(), gw, ifc}
			rt := byKey[k]
			if rt == nil {
				rt = &Route{Dst: k.dst, Gateway: gw, Interface: ifc, Metric: r.Metric, MetricEffective: !r.MetricKnown}
				byKey[k] = rt
				order = append(order, k)
			} else if r.MetricKnown && (rt.MetricEffective || rt.Metric == 0) {
				rt.Metric, rt.MetricEffective = r.Metric, false
			}
			switch r.Store {
			case netcfg.StorePersistent:
				rt.Persistent = true
			default:
				rt.Active = true
			}
			rt.Sources = append(rt.Sources, r.Src)
		}
	}
	for _, k := range order {
		h.Routes = append(h.Routes, *byKey[k])
	}
	slices.SortStableFunc(h.Routes, func(a, b Route) int {
		if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Dst.Bits(), b.Dst.Bits()); c != 0 {
			return c
		}
		if c := a.Gateway.Compare(b.Gateway); c != 0 {
			return c
		}
		return cmp.Compare(a.Interface, b.Interface)
	})
}

// onLinkOf returns the interface (ifc if ≥ 0, else any) whose subnet holds
// gw, or -1.
func (m *merger) onLinkOf(gw netip.Addr, ifc int) int {
	for i, in := range m.host.Interfaces {
		if ifc >= 0 && i != ifc {
			continue
		}
		for _, p := range in.Addresses {
			if p.Masked().Contains(gw) && p.Bits() < p.Addr().BitLen() {
				return i
			}
		}
	}
	return -1
}
