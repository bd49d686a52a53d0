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

// Lines is the normalised form of a snapshot: interfaces, addresses and
// routes as sorted lines, without volatile fields (indexes, MACs, ages,
// lifetimes) or link-local and multicast noise. Two hosts with the same
// configuration have the same lines.
func (s *Snapshot) Lines() []string {
	var out []string
	for _, i := range s.Interfaces {
		out = append(out, i.Line())
	}
	for _, a := range s.Addresses {
		if !a.IsNoise() {
			out = append(out, a.Line())
		}
	}
	for _, r := range s.Routes {
		if !r.IsNoise() {
			out = append(out, r.Line())
		}
	}
	sort.Strings(out)
	return dedupe(out)
}

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

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, l := range sorted {
		if i == 0 || l != sorted[i-1] {
			out = append(out, l)
		}
	}
	return out
}

// SnapshotDiff is the normalised difference between two snapshots.
type SnapshotDiff struct {
	Removed []string // lines in the first snapshot only
	Added   []string // lines in the second snapshot only
}

// Empty reports whether the snapshots normalise to the same lines.
func (d SnapshotDiff) Empty() bool { return len(d.Removed) == 0 && len(d.Added) == 0 }

// String renders "- line" for removed and "+ line" for added lines, or
// "(no difference)".
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

// Diff compares the normalised lines of two snapshots.
func Diff(before, after *Snapshot) SnapshotDiff {
	return DiffLines(before.Lines(), after.Lines())
}

// DiffLines compares two sorted, de-duplicated line sets.
func DiffLines(a, b []string) SnapshotDiff {
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
