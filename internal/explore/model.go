// Package explore is kbharness's churn explorer: a property-based generator
// of address and route operation sequences over a two-interface lab
// (pgregory.net/rapid generates and shrinks them), kbharness's one
// history-independence oracle (a Reference says what a host given the same
// final configuration directly shows: a fresh lab of the fixture, or, on a
// host kbharness did not build, its baseline plus deltas learned on it; the
// suites check against it too), and emitters that turn a failing sequence
// into a replayable fixture and a shell script in the target's own dialect
// (`ip` for Linux, `netsh`/`route` for Windows).
//
// model.go, gen.go, minimize.go: the operations, configurations and their
// generator; oracle.go: the references, learning and prediction; lab.go:
// the scratch lab, fresh labs and the lab under test; run.go: the rapid
// driver. The model, the oracle's arithmetic and the emitters are pure and
// tested on every OS; running sequences needs a netcfg.Host and a lab.
package explore

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// Kind is what an operation does.
type Kind string

const (
	AddAddress    Kind = "add-address"    // RTM_NEWADDR / AddIPAddress / netsh interface ipv4 add address
	DeleteAddress Kind = "delete-address" // RTM_DELADDR / DeleteIPAddress / netsh interface ipv4 delete address
	AddRoute      Kind = "add-route"      // RTM_NEWROUTE / CreateIpForwardEntry2 / route add
	DeleteRoute   Kind = "delete-route"   // RTM_DELROUTE / DeleteIpForwardEntry2 / route delete
)

// Kinds lists every kind, in the order the generator draws them (and
// shrinks towards the first).
var Kinds = []Kind{AddAddress, DeleteAddress, AddRoute, DeleteRoute}

// Op is one step of a sequence. It is also the step format of the replay
// fixture, so its fields carry YAML tags.
type Op struct {
	// Kind: add-address, delete-address, add-route or delete-route.
	Kind Kind `yaml:"op" fixture:"required"`
	// Mechanism makes the change: netlink, iproute2, iphlpapi-legacy, netsh, route.exe, ...
	Mechanism netcfg.Mechanism `yaml:"mechanism" fixture:"required"`
	// Interface is the adapter the address lives on or the route leaves by.
	Interface string `yaml:"interface" fixture:"required"`
	// Address is the address with its prefix length (address operations).
	Address netip.Prefix `yaml:"address,omitempty"`
	// Dst is the route's destination (route operations).
	Dst netip.Prefix `yaml:"dst,omitempty"`
	// Gateway is the route's next hop (route operations).
	Gateway netip.Addr `yaml:"gateway,omitempty"`
}

// IsAddress reports whether the operation is about an address.
func (o Op) IsAddress() bool { return o.Kind == AddAddress || o.Kind == DeleteAddress }

// IsAdd reports whether the operation adds.
func (o Op) IsAdd() bool { return o.Kind == AddAddress || o.Kind == AddRoute }

// Element is the address or route the operation adds or deletes.
func (o Op) Element() Element {
	if o.IsAddress() {
		return Element{Address: &netcfg.AddressSpec{Prefix: o.Address, Interface: o.Interface}}
	}
	return Element{Route: &netcfg.RouteSpec{Dst: o.Dst, Gateway: o.Gateway, Interface: o.Interface}}
}

func (o Op) String() string {
	return fmt.Sprintf("%s %s (%s)", o.Kind, o.Element(), o.Mechanism)
}

// Bounds of an exploration, shared by the kbharness explore flags, the
// KB287032 scenario's explorer run and the replay fixture.
const (
	MaxSteps  = 10_000_000 // step budget (--steps, explorer.steps)
	MaxSeqLen = 100        // longest sequence (--max-len, explorer.maxLen), so also the most steps of a replay
)

// The on-link prefix lengths of the explorer's dynamic addresses: an
// address takes the length of its link's first lab address of the family,
// and NewUniverse refuses a lab whose length lies outside these.
const (
	MinOnLink4, MaxOnLink4 = 24, 30 // IPv4: inside a documentation /24, with hosts
	MinOnLink6, MaxOnLink6 = 48, 64 // IPv6: a site's subnets, down to the usual /64
)

// StepMechanisms are the mechanisms a step may name: those of every host
// kind (netcfg.Linux and Windows backends). A host refuses those it lacks.
var StepMechanisms = []netcfg.Mechanism{
	netcfg.Netlink, netcfg.IPRoute2,
	netcfg.WinIPCfg, netcfg.IPHlpAPILegacy, netcfg.RouteExe, netcfg.Netsh, netcfg.PowerShell,
}

// Validate checks one operation on its own, as the explorer generates them:
// a known kind and mechanism, an interface name, and only the fields of its
// kind. An address lies in a documentation range with an on-link prefix
// length that keeps it there (MinOnLink4..MaxOnLink4, MinOnLink6..MaxOnLink6)
// and is a host of its subnet; a route's destination is a documentation
// network (192.0.2.0/25, not 192.0.2.1/25) via a gateway of its family.
// It returns *fixtures.FieldError values, joined.
func (o Op) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &fixtures.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !slices.Contains(Kinds, o.Kind) {
		bad("op", "unknown operation %q (want one of %s)", o.Kind, joinAny(Kinds))
		return errors.Join(errs...)
	}
	if !slices.Contains(StepMechanisms, o.Mechanism) {
		bad("mechanism", "unknown mechanism %q (want one of %s)", o.Mechanism, joinAny(StepMechanisms))
	}
	switch {
	case o.Interface == "":
		bad("interface", "missing")
	case len(o.Interface) > fixtures.MaxInterfaceName:
		bad("interface", "interface name %q is %d bytes, longer than %d", o.Interface, len(o.Interface), fixtures.MaxInterfaceName)
	}
	unused := func(field string, set bool) {
		if set {
			bad(field, "not a field of %s", o.Kind)
		}
	}
	if o.IsAddress() {
		unused("dst", o.Dst.IsValid())
		unused("gateway", o.Gateway.IsValid())
		if msg := checkAddress(o.Address); msg != "" {
			bad("address", "%s", msg)
		}
		return errors.Join(errs...)
	}
	unused("address", o.Address.IsValid())
	d := o.Dst
	switch {
	case !d.IsValid():
		bad("dst", "missing")
	case !fixtures.IsDocumentationPrefix(d):
		bad("dst", "%s is outside the documentation ranges %v", d, fixtures.DocumentationRanges)
	case d != d.Masked():
		bad("dst", "%s is not a network address (the network is %s)", d, d.Masked())
	}
	g := o.Gateway
	switch {
	case !g.IsValid():
		bad("gateway", "missing (the explorer's routes go via their link's gateway)")
	case !fixtures.IsDocumentation(g):
		bad("gateway", "%s is outside the documentation ranges %v", g, fixtures.DocumentationRanges)
	case d.IsValid() && g.Is4() != d.Addr().Is4():
		bad("gateway", "%s: family differs from dst %s", g, d)
	}
	return errors.Join(errs...)
}

// checkAddress says what is wrong with a dynamic address, or "".
func checkAddress(p netip.Prefix) string {
	lo, hi := onLink(p.Addr().Is4())
	switch {
	case !p.IsValid():
		return "missing"
	case !fixtures.IsDocumentation(p.Addr()):
		return fmt.Sprintf("%s is outside the documentation ranges %v", p, fixtures.DocumentationRanges)
	case p.Bits() < lo || p.Bits() > hi:
		return fmt.Sprintf("%s: prefix length /%d is not an on-link length the explorer uses (/%d to /%d)", p, p.Bits(), lo, hi)
	case p.Addr() == p.Masked().Addr():
		return fmt.Sprintf("%s is the network address of its subnet, not a host", p)
	case p.Addr().Is4() && p.Addr() == netcfg.LastAddr(p):
		return fmt.Sprintf("%s is the broadcast address of its subnet, not a host", p)
	}
	return ""
}

func joinAny[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// Element is a dynamic address or a manual route: what a configuration is
// made of. Exactly one field is set.
type Element struct {
	Address *netcfg.AddressSpec
	Route   *netcfg.RouteSpec
}

// Key identifies the element: "addr 192.0.2.100/24 dev lan0",
// "route 203.0.113.0/28 via 192.0.2.1 dev lan0".
func (e Element) Key() string {
	if e.Address != nil {
		return fmt.Sprintf("addr %s dev %s", e.Address.Prefix, e.Address.Interface)
	}
	s := "route " + e.Route.Dst.String()
	if e.Route.Gateway.IsValid() {
		s += " via " + e.Route.Gateway.String()
	}
	if e.Route.Interface != "" {
		s += " dev " + e.Route.Interface
	}
	return s
}

func (e Element) String() string { return e.Key() }

// Op returns the operation that adds (add=true) or deletes the element.
func (e Element) Op(add bool, m netcfg.Mechanism) Op {
	if e.Address != nil {
		k := DeleteAddress
		if add {
			k = AddAddress
		}
		return Op{Kind: k, Mechanism: m, Interface: e.Address.Interface, Address: e.Address.Prefix}
	}
	k := DeleteRoute
	if add {
		k = AddRoute
	}
	return Op{Kind: k, Mechanism: m, Interface: e.Route.Interface, Dst: e.Route.Dst, Gateway: e.Route.Gateway}
}

// Config is a configuration on top of the lab fixture: the elements present,
// kept in the order they were added (the order matters to KB287032's
// workaround, not to the oracle).
type Config struct {
	elems []Element
}

// Has reports whether an element with e's key is present.
func (c Config) Has(e Element) bool { return c.index(e) >= 0 }

func (c Config) index(e Element) int {
	k := e.Key()
	return slices.IndexFunc(c.elems, func(x Element) bool { return x.Key() == k })
}

// Elements returns the present elements in the order they were added.
func (c Config) Elements() []Element { return slices.Clone(c.elems) }

// Len is the number of present elements.
func (c Config) Len() int { return len(c.elems) }

// Key identifies the configuration regardless of order: its element keys,
// sorted, joined by "; ". The oracle caches by it.
func (c Config) Key() string {
	keys := make([]string, len(c.elems))
	for i, e := range c.elems {
		keys[i] = e.Key()
	}
	sort.Strings(keys)
	return strings.Join(keys, "; ")
}

func (c Config) String() string {
	if len(c.elems) == 0 {
		return "(the lab fixture alone)"
	}
	return c.Key()
}

// Canonical returns the elements sorted by key, addresses before routes: the
// order a fresh lab is given them in.
func (c Config) Canonical() []Element {
	out := slices.Clone(c.elems)
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Address != nil) != (out[j].Address != nil) {
			return out[i].Address != nil
		}
		return out[i].Key() < out[j].Key()
	})
	return out
}

// Apply returns the configuration after o, or an error when o is not
// applicable (adding a present element, deleting an absent one).
func (c Config) Apply(o Op) (Config, error) {
	e := o.Element()
	i := c.index(e)
	switch {
	case o.IsAdd() && i >= 0:
		return c, fmt.Errorf("applying %s: %s is already present", o.Kind, e)
	case !o.IsAdd() && i < 0:
		return c, fmt.Errorf("applying %s: %s is not present", o.Kind, e)
	case o.IsAdd():
		return Config{elems: append(slices.Clone(c.elems), e)}, nil
	}
	return Config{elems: slices.Delete(slices.Clone(c.elems), i, i+1)}, nil
}

// ConfigOf returns the configuration of the given elements, in order (an
// element given twice counts once). Unlike one built from operations, it
// keeps every field of the elements' specs (a persistent route, a metric).
func ConfigOf(elems ...Element) Config {
	var c Config
	for _, e := range elems {
		if !c.Has(e) {
			c.elems = append(c.elems, e)
		}
	}
	return c
}

// ConfigAfter applies ops in order from the empty configuration.
func ConfigAfter(ops []Op) (Config, error) {
	var c Config
	for i, o := range ops {
		var err error
		if c, err = c.Apply(o); err != nil {
			return c, fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return c, nil
}

// Universe is what the explorer may change on a lab: dynamic addresses and
// manual routes (each via its adapter's gateway), and the mechanisms to make
// the changes with.
type Universe struct {
	Addresses  []netcfg.AddressSpec
	Routes     []netcfg.RouteSpec
	Mechanisms []netcfg.Mechanism
}

// Elements lists the universe's elements, addresses first.
func (u Universe) Elements() []Element {
	var out []Element
	for i := range u.Addresses {
		out = append(out, Element{Address: &u.Addresses[i]})
	}
	for i := range u.Routes {
		out = append(out, Element{Route: &u.Routes[i]})
	}
	return out
}

// dynamicHost is the first host number of the dynamic addresses in each
// link's subnet (192.0.2.100, 2001:db8:1::100), clear of the fixtures' .1
// and .20.
const dynamicHost = 0x100

// NewUniverse derives a universe from a lab fixture: v4 and v6 dynamic
// addresses per link in the subnet of the link's first host address of that
// family (so the fixture's address stays primary and the prefix route
// stays), and per link one IPv4 route (203.0.113.16*i/28) and one IPv6 route
// (2001:db8:f00i::/48) via the link's gateway. The link's address must have
// an on-link length in MinOnLink4..MaxOnLink4 (MinOnLink6..MaxOnLink6).
func NewUniverse(f *fixtures.Lab, v4, v6 int, mechs []netcfg.Mechanism) (Universe, error) {
	u := Universe{Mechanisms: mechs}
	if len(mechs) == 0 {
		return u, fmt.Errorf("deriving the explorer universe from lab %s: no mechanisms", f.Name)
	}
	if len(f.Links) > fixtures.MaxLinks {
		return u, fmt.Errorf("deriving the explorer universe from lab %s: %d links, at most %d", f.Name, len(f.Links), fixtures.MaxLinks)
	}
	for li, l := range f.Links {
		used := map[netip.Addr]bool{}
		for _, p := range append(slices.Clone(l.Addresses), l.PeerAddresses...) {
			used[p.Addr()] = true
		}
		for _, fam := range []struct {
			n       int
			is4     bool
			route   netip.Prefix
			offsetV int
		}{
			{v4, true, netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(16 * li)}), 28), 100},
			{v6, false, netip.MustParsePrefix(fmt.Sprintf("2001:db8:f%03x::/48", li)), dynamicHost},
		} {
			base, gw := firstFamily(l.Addresses, fam.is4), firstFamily(l.PeerAddresses, fam.is4)
			if fam.n > 0 && !base.IsValid() {
				return u, fmt.Errorf("deriving the explorer universe from lab %s: link %s has no host address of that family", f.Name, l.Interface)
			}
			if lo, hi := onLink(fam.is4); fam.n > 0 && (base.Bits() < lo || base.Bits() > hi) {
				return u, fmt.Errorf("deriving the explorer universe from lab %s: link %s's %s has an on-link length outside /%d to /%d", f.Name, l.Interface, base, lo, hi)
			}
			for i, host := 0, fam.offsetV; i < fam.n; host++ {
				a := nthHost(base.Masked(), host)
				if !base.Masked().Contains(a) {
					return u, fmt.Errorf("deriving the explorer universe from lab %s: subnet %s too small for %d dynamic addresses", f.Name, base.Masked(), fam.n)
				}
				if used[a] {
					continue
				}
				u.Addresses = append(u.Addresses, netcfg.AddressSpec{Prefix: netip.PrefixFrom(a, base.Bits()), Interface: l.Interface})
				i++
			}
			if gw.IsValid() {
				u.Routes = append(u.Routes, netcfg.RouteSpec{Dst: fam.route, Gateway: gw.Addr(), Interface: l.Interface})
			}
		}
	}
	return u, nil
}

func onLink(is4 bool) (lo, hi int) {
	if is4 {
		return MinOnLink4, MaxOnLink4
	}
	return MinOnLink6, MaxOnLink6
}

// The explorer's own universe (Options.Universe unset): per link, this many
// dynamic addresses of each family and a route of each family.
const (
	DefaultAddresses4 = 2
	DefaultAddresses6 = 1
)

// DefaultUniverse is the universe an exploration draws from when
// Options.Universe is unset: NewUniverse(f, DefaultAddresses4,
// DefaultAddresses6, mechs). A replay fixture's steps must come from it.
func DefaultUniverse(f *fixtures.Lab, mechs []netcfg.Mechanism) (Universe, error) {
	return NewUniverse(f, DefaultAddresses4, DefaultAddresses6, mechs)
}

func firstFamily(ps []netip.Prefix, is4 bool) netip.Prefix {
	for _, p := range ps {
		if p.Addr().Is4() == is4 {
			return p
		}
	}
	return netip.Prefix{}
}

// nthHost returns subnet's address plus n.
func nthHost(subnet netip.Prefix, n int) netip.Addr {
	b := subnet.Addr().AsSlice()
	carry := n
	for i := len(b) - 1; i >= 0 && carry > 0; i-- {
		sum := int(b[i]) + carry
		b[i] = byte(sum)
		carry = sum >> 8
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// MarshalYAML writes only the fields the operation's kind uses.
func (o Op) MarshalYAML() (any, error) {
	type out struct {
		Kind      Kind             `yaml:"op"`
		Mechanism netcfg.Mechanism `yaml:"mechanism"`
		Interface string           `yaml:"interface"`
		Address   string           `yaml:"address,omitempty"`
		Dst       string           `yaml:"dst,omitempty"`
		Gateway   string           `yaml:"gateway,omitempty"`
	}
	v := out{Kind: o.Kind, Mechanism: o.Mechanism, Interface: o.Interface}
	if o.Address.IsValid() {
		v.Address = o.Address.String()
	}
	if o.Dst.IsValid() {
		v.Dst = o.Dst.String()
	}
	if o.Gateway.IsValid() {
		v.Gateway = o.Gateway.String()
	}
	return v, nil
}
