package capture

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/fixtures"
)

// Build turns a host into a lab fixture named name, with the mapping it
// used:
//
//   - one link per interface that holds addresses: lan0, lan1, ... (the
//     order of Host.Interfaces), peer interface eth0;
//   - the link's peer is gw1, gw2, ... (links with a gateway, in order) or
//     peer1, peer2, ... (links without), and holds every mapped gateway of
//     the link with its subnet's lab prefix length;
//   - the host's addresses, mapped;
//   - routes: Host.Routes mapped, persistent ones marked so; each names its
//     link. A metric above 9999 (route.exe's range; route print's active
//     rows add the interface metric) is left to the kernel, noted.
//
// What cannot be mapped (a destination or gateway beyond a narrowed
// subnet's /24, a link-local gateway on a link without an IPv6 subnet) is
// added to h.Conflicts and left out. The lab is validated.
func Build(h *Host, name string) (*fixtures.Lab, *Mapping, error) {
	if len(h.Interfaces) == 0 {
		return nil, nil, fmt.Errorf("no interface with an address in the captures (route print's Interface column, ipconfig, netsh show addresses, Get-NetIPAddress): a lab fixture needs at least one link")
	}
	m, err := NewMapping(h)
	if err != nil {
		return nil, nil, err
	}
	lab := &fixtures.Lab{Name: name}
	gwPeers := make([][]netip.Prefix, len(h.Interfaces))
	hostAddrs := map[netip.Addr]bool{}
	for i, in := range h.Interfaces {
		var addrs []netip.Prefix
		for _, p := range in.Addresses {
			a, err := m.MapAddr(p.Addr())
			if err != nil {
				return nil, nil, err
			}
			pm, _ := best(m.Subnets, p.Addr(), true)
			addrs = append(addrs, netip.PrefixFrom(a, pm.Lab.Bits()))
			hostAddrs[a] = true
		}
		lab.Links = append(lab.Links, fixtures.Link{Interface: m.Interfaces[i].Lab, PeerInterface: "eth0", Addresses: addrs})
	}
	for _, r := range h.Routes {
		ifName := m.Interfaces[r.Interface].Lab
		conflict := func(format string, args ...any) {
			h.Conflicts = append(h.Conflicts, Conflict{Sources: r.Sources, Msg: fmt.Sprintf("route %s via %s: ", r.Dst, gwText(r.Gateway)) + fmt.Sprintf(format, args...) + "; the route is left out"})
		}
		dst, err := m.MapPrefix(r.Dst)
		if err != nil {
			conflict("destination: %v", err)
			continue
		}
		var gw netip.Addr
		if r.Gateway.IsValid() {
			if gw, err = m.gateway(h, r, ifName); err != nil {
				conflict("gateway: %v", err)
				continue
			}
			if hostAddrs[gw] {
				conflict("gateway %s is the host's own address", gw)
				continue
			}
			pm, _ := best(m.Subnets, m.customerOf(gw, ifName), true)
			p := netip.PrefixFrom(gw, pm.Lab.Bits())
			if !slices.Contains(gwPeers[r.Interface], p) {
				gwPeers[r.Interface] = append(gwPeers[r.Interface], p)
			}
		}
		metric := r.Metric
		if metric > 9999 {
			h.Conflicts = append(h.Conflicts, Conflict{Sources: r.Sources, Msg: fmt.Sprintf("route %s: metric %d is beyond 9999; the fixture leaves it to the kernel (0)", r.Dst, metric)})
			metric = 0
		}
		lab.Routes = append(lab.Routes, fixtures.Route{Dst: dst, Gateway: gw, Interface: ifName, Metric: metric, Persistent: r.Persistent})
	}
	gws, others := 0, 0
	for i := range lab.Links {
		l := &lab.Links[i]
		l.PeerAddresses = gwPeers[i]
		if len(l.PeerAddresses) > 0 {
			gws++
			l.Peer = "gw" + strconv.Itoa(gws)
		} else {
			others++
			l.Peer = "peer" + strconv.Itoa(others)
		}
	}
	if err := lab.Validate(); err != nil {
		return nil, nil, fmt.Errorf("the imported fixture does not validate: %w", err)
	}
	return lab, m, nil
}

func gwText(gw netip.Addr) string {
	if !gw.IsValid() {
		return "on-link"
	}
	return gw.String()
}

// gateway maps a route's gateway: through its subnet, or, link-local, to
// its interface identifier in the link's first IPv6 subnet (recorded in
// m.Addresses).
func (m *Mapping) gateway(h *Host, r Route, ifName string) (netip.Addr, error) {
	if !r.Gateway.IsLinkLocalUnicast() {
		return m.MapAddr(r.Gateway)
	}
	for _, e := range m.Addresses {
		if e.Customer == r.Gateway && e.Interface == ifName {
			return e.Lab, nil
		}
	}
	var subnet *PrefixMap
	for i, pm := range m.Subnets {
		if pm.Interface == ifName && pm.Customer.Addr().Is6() && pm.Customer.Bits() < 128 {
			subnet = &m.Subnets[i]
			break
		}
	}
	if subnet == nil || !r.Gateway.Is6() {
		return netip.Addr{}, fmt.Errorf("link-local %s: %s has no IPv6 subnet to place it in", r.Gateway, h.Interfaces[r.Interface].Label())
	}
	iid := addrOf(sub(u128of(r.Gateway), u128of(netip.PrefixFrom(r.Gateway, subnet.Customer.Bits()).Masked().Addr())), false)
	lab, err := offsetMap(netip.PrefixFrom(netip.IPv6Unspecified(), subnet.Lab.Bits()), subnet.Lab, iid)
	if err != nil {
		return netip.Addr{}, err
	}
	m.Addresses = append(m.Addresses, AddressMap{Customer: r.Gateway, Interface: ifName, Lab: lab})
	return lab, nil
}

// customerOf is the customer address a lab gateway came from, on ifName:
// for a link-local gateway, its lab address stands in (it is in the link's
// subnet already).
func (m *Mapping) customerOf(lab netip.Addr, ifName string) netip.Addr {
	for _, e := range m.Addresses {
		if e.Lab == lab && e.Interface == ifName {
			for _, pm := range m.Subnets {
				if pm.Lab.Contains(lab) {
					a, _ := offsetMap(pm.Lab, pm.Customer, lab)
					return a
				}
			}
		}
	}
	c, _ := m.Reverse(lab)
	return c
}

// MarshalLab renders a lab fixture as YAML that fixtures.LoadLab reads back
// identically, with comments naming the customer's adapters and prefixes.
func MarshalLab(lab *fixtures.Lab, m *Mapping) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Imported by `kbharness import` from a customer's captures; the mapping of\n")
	w("# their addresses to these documentation addresses is in the mapping file.\n")
	w("name: %s\n", yamlString(lab.Name))
	w("links:\n")
	for i, l := range lab.Links {
		if i < len(m.Interfaces) {
			w("  # %s: customer adapter %s\n", l.Interface, comment(describe(m.Interfaces[i])))
		}
		w("  - interface: %s\n", yamlString(l.Interface))
		w("    peer: %s\n", yamlString(l.Peer))
		w("    peerInterface: %s\n", yamlString(l.PeerInterface))
		for _, list := range []struct {
			key string
			ps  []netip.Prefix
		}{{"addresses", l.Addresses}, {"peerAddresses", l.PeerAddresses}} {
			if len(list.ps) == 0 {
				continue // absent, not [], so it loads back as nil
			}
			w("    %s:\n", list.key)
			for _, a := range list.ps {
				w("      - %s\n", a)
			}
		}
	}
	if len(lab.Routes) > 0 {
		w("routes:\n")
	}
	for _, r := range lab.Routes {
		if c, ok := m.ReversePrefix(r.Dst); ok && r.Dst.Bits() > 0 {
			w("  # customer %s\n", c)
		}
		w("  - dst: %s\n", r.Dst)
		if r.Gateway.IsValid() {
			w("    gateway: %s\n", r.Gateway)
		}
		if r.Interface != "" {
			w("    interface: %s\n", yamlString(r.Interface))
		}
		if r.Metric != 0 {
			w("    metric: %d\n", r.Metric)
		}
		if r.Persistent {
			w("    persistent: true\n")
		}
	}
	return []byte(b.String())
}

func describe(i InterfaceMap) string {
	var parts []string
	if i.Name != "" {
		parts = append(parts, strconv.Quote(i.Name))
	}
	if i.Description != "" {
		parts = append(parts, strconv.Quote(i.Description))
	}
	if i.Index != 0 {
		parts = append(parts, "index "+strconv.Itoa(i.Index))
	}
	if len(parts) == 0 {
		return "(unnamed)"
	}
	return strings.Join(parts, ", ")
}

// comment keeps a comment on one line.
func comment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// yamlString quotes s as a YAML double-quoted scalar (a JSON string is
// one).
func yamlString(s string) string { return strconv.Quote(s) }
