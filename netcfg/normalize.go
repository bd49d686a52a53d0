package netcfg

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Line renders a route like `ip route`, with the fields that survive a fresh
// rebuild of the same configuration:
//
//	default via 192.0.2.1 dev kbh0 proto static metric 0
//	local 192.0.2.20 dev kbh0 table local proto kernel metric 0
//	192.0.2.1 via 192.0.2.1 dev kbh0 proto static metric 0
//	2001:db8::/64 dev kbh0 proto kernel metric 256 store persistent
func (r Route) Line() string {
	var b strings.Builder
	if r.Type != "" && r.Type != "unicast" {
		b.WriteString(r.Type + " ")
	}
	if r.Dst.Bits() == 0 {
		b.WriteString("default")
		if r.Dst.Addr().Is6() {
			b.WriteString(" inet6")
		}
	} else if r.Dst.IsSingleIP() {
		b.WriteString(r.Dst.Addr().String())
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.Gateway.IsValid() {
		fmt.Fprintf(&b, " via %s", r.Gateway)
	}
	if r.Interface != "" {
		fmt.Fprintf(&b, " dev %s", r.Interface)
	}
	if r.Table != "" && r.Table != "main" {
		fmt.Fprintf(&b, " table %s", r.Table)
	}
	if r.Protocol != "" {
		fmt.Fprintf(&b, " proto %s", r.Protocol)
	}
	fmt.Fprintf(&b, " metric %d", r.Metric)
	if r.Store == StorePersistent {
		b.WriteString(" store persistent")
	}
	return b.String()
}

// Line renders an address like `ip -o addr`: "addr 192.0.2.21/24 dev kbh0 secondary".
func (a Address) Line() string {
	s := fmt.Sprintf("addr %s dev %s", a.Prefix, a.Interface)
	if f := a.Flags.String(); f != "" {
		s += " " + f
	}
	return s
}

// Line renders an interface: "link kbh0 up mtu 1500". Index and MAC are left
// out: a fresh lab gives them new values.
func (i Interface) Line() string {
	state := "down"
	if i.Up {
		state = "up"
	}
	return fmt.Sprintf("link %s %s mtu %d", i.Name, state, i.MTU)
}

var (
	linkLocal6 = netip.MustParsePrefix("fe80::/10")
	multicast4 = netip.MustParsePrefix("224.0.0.0/4")
	multicast6 = netip.MustParsePrefix("ff00::/8")
)

// IsNoise reports whether a route is link-local or multicast bookkeeping that
// every interface grows by itself and that no KB scenario is about.
func (r Route) IsNoise() bool {
	d := r.Dst.Addr()
	return linkLocal6.Contains(d) || multicast6.Contains(d) || (multicast4.Contains(d) && r.Dst.Bits() >= 4)
}

// IsNoise reports whether an address is an IPv6 link-local address.
func (a Address) IsNoise() bool { return linkLocal6.Contains(a.Prefix.Addr()) }

// Item is one line of the normal form with the object it was rendered
// from. Exactly one of Route, Address and Link is set.
type Item struct {
	Route   *Route
	Address *Address
	Link    *Interface
}

// Line is the item's normalised line (the Line methods above).
func (i Item) Line() string {
	switch {
	case i.Route != nil:
		return i.Route.Line()
	case i.Address != nil:
		return i.Address.Line()
	case i.Link != nil:
		return i.Link.Line()
	}
	return "?"
}

// IsNoise reports whether the item is left out of the normal form
// (Route.IsNoise, Address.IsNoise).
func (i Item) IsNoise() bool {
	return (i.Route != nil && i.Route.IsNoise()) || (i.Address != nil && i.Address.IsNoise())
}

// Lines is the normal form of a host's tables: its interfaces, addresses
// and routes as lines without volatile fields (indexes, MACs, ages,
// lifetimes) or link-local and multicast noise, each with an object it was
// rendered from. Two hosts with the same configuration have the same lines.
// Every comparison in kbharness (the history-independence oracle, the
// explorer's mirror, the undo journal's baseline check, failure dumps) is
// between two Lines, rendered by SnapshotDiff.
type Lines map[string]Item

// Normalize returns the snapshot's normal form, leaving out the routes
// ignore selects (nil keeps every route).
func (s *Snapshot) Normalize(ignore func(Route) bool) Lines {
	out := Lines{}
	for i := range s.Interfaces {
		out.Add(Item{Link: &s.Interfaces[i]})
	}
	for i := range s.Addresses {
		out.Add(Item{Address: &s.Addresses[i]})
	}
	for i := range s.Routes {
		if ignore == nil || !ignore(s.Routes[i]) {
			out.Add(Item{Route: &s.Routes[i]})
		}
	}
	return out
}

// Add puts the item's line into l unless the item is noise.
func (l Lines) Add(it Item) {
	if !it.IsNoise() {
		l[it.Line()] = it
	}
}

// Sorted returns the lines in order.
func (l Lines) Sorted() []string {
	out := make([]string, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Clone returns a copy.
func (l Lines) Clone() Lines {
	out := make(Lines, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// Equal reports whether l and other hold the same lines.
func (l Lines) Equal(other Lines) bool {
	if len(l) != len(other) {
		return false
	}
	for k := range l {
		if _, ok := other[k]; !ok {
			return false
		}
	}
	return true
}

// Diff compares l, the reference, with target: "-" lines are only in l,
// "+" lines only on the target.
func (l Lines) Diff(target Lines) SnapshotDiff {
	return DiffLines(l.Sorted(), target.Sorted())
}

// Lines returns the snapshot's normal form as sorted lines.
func (s *Snapshot) Lines() []string { return s.Normalize(nil).Sorted() }

// String renders the normalised snapshot, one line each.
func (s *Snapshot) String() string { return strings.Join(s.Lines(), "\n") + "\n" }

// HasRoute reports whether the snapshot holds a route matching want in the
// given store: same destination, and the same gateway and interface where
// want sets them.
func (s *Snapshot) HasRoute(store Store, want Route) bool {
	return len(s.FindRoutes(store, want)) > 0
}

// FindRoutes returns the routes of store that match want (see HasRoute).
func (s *Snapshot) FindRoutes(store Store, want Route) []Route {
	var out []Route
	for _, r := range s.Routes {
		if r.Store != store || r.Dst != want.Dst {
			continue
		}
		if want.Gateway.IsValid() && r.Gateway != want.Gateway {
			continue
		}
		if want.Interface != "" && r.Interface != want.Interface {
			continue
		}
		if want.Table != "" && r.Table != want.Table {
			continue
		}
		out = append(out, r)
	}
	return out
}

// HasAddress reports whether the snapshot holds addr (with its prefix length).
func (s *Snapshot) HasAddress(p netip.Prefix) bool {
	for _, a := range s.Addresses {
		if a.Prefix == p {
			return true
		}
	}
	return false
}

// SnapshotDiff is the one difference between two normal forms (Lines):
// a reference (what the target should show: a fresh lab, the baseline, the
// start point, the expected lines) and the target (the host as it is).
// Every diff kbharness prints is one of these, rendered by String or
// Explain.
type SnapshotDiff struct {
	Removed []string // lines only in the reference, rendered "- line"
	Added   []string // lines only on the target, rendered "+ line"
}

// Empty reports whether the two sides normalise to the same lines.
func (d SnapshotDiff) Empty() bool { return len(d.Removed) == 0 && len(d.Added) == 0 }

// String renders "- line" for each line only in the reference and "+ line"
// for each line only on the target, or "(no difference)".
func (d SnapshotDiff) String() string {
	if d.Empty() {
		return "(no difference)\n"
	}
	var b strings.Builder
	for _, l := range d.Removed {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	for _, l := range d.Added {
		fmt.Fprintf(&b, "+ %s\n", l)
	}
	return b.String()
}

// Explain renders the diff under a legend naming its two sides:
//
//	(- only in a fresh lab, + only on the host)
//	+ 198.51.100.101 dev lan1 proto boot metric 0
func (d SnapshotDiff) Explain(reference, target string) string {
	return fmt.Sprintf("(- only in %s, + only on %s)\n%s", reference, target, d)
}

// Diff compares the normal forms of a reference snapshot and a target's.
func Diff(reference, target *Snapshot) SnapshotDiff {
	return DiffLines(reference.Lines(), target.Lines())
}

// DiffLines compares two sorted, de-duplicated line lists: reference and
// target.
func DiffLines(reference, target []string) SnapshotDiff {
	a, b := reference, target
	var d SnapshotDiff
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			d.Removed = append(d.Removed, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			d.Added = append(d.Added, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return d
}

// LastAddr is the last address of a prefix: an IPv4 subnet's broadcast
// address.
func LastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
