package standin

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// The layout of `route print` (Windows Vista and later), as real captures
// show it (../shared/samples/windows/route_print, e.g. the Windows Server
// 2016 and Windows 10 ones): a 75-column "=" ruler; the interface list
// ("%3d..." then the MAC and dots to 27 columns, then the description);
// IPv4 rows in 17/17/17/17/7-column right-aligned fields; persistent IPv4
// rows with "Default" for a route added without a metric; IPv6 rows as
// " If Metric Network Destination      Gateway" with the gateway wrapped to
// column 36 of the next line after a long destination; "  None" for an
// empty section.
const ruler = "==========================================================================="

// onLinkWord is route print's gateway for a route without one.
const onLinkWord = "On-link"

// renderRoutePrint renders `route print`, `route print -4` (fam 4) or
// `route print -6` (fam 6). Interface descriptions are the Linux names, as
// Wine's GetAdaptersAddresses reports them; the active metric is the
// kernel's route metric (Linux has no interface metric to add).
func renderRoutePrint(v *view, persistent []pRoute, fam int) string {
	var b strings.Builder
	b.WriteString(ruler + "\n")
	b.WriteString("Interface List\n")
	for _, l := range interfaceListOrder(v.links) {
		b.WriteString(interfaceListEntry(l) + "\n")
	}
	b.WriteString(ruler + "\n")
	st := store{routes: persistent}
	if fam != 6 {
		b.WriteString("\nIPv4 Route Table\n" + ruler + "\n")
		writeSection(&b, "Active Routes:", "Network Destination        Netmask          Gateway       Interface  Metric", ipv4ActiveRows(v))
		writeSection(&b, "Persistent Routes:", "  Network Address          Netmask  Gateway Address  Metric", ipv4PersistentRows(st.routesOf(4)))
	}
	if fam != 4 {
		b.WriteString("\nIPv6 Route Table\n" + ruler + "\n")
		writeSection(&b, "Active Routes:", " If Metric Network Destination      Gateway", ipv6ActiveRows(v))
		writeSection(&b, "Persistent Routes:", " If Metric Network Destination      Gateway", ipv6PersistentRows(v, st.routesOf(6)))
	}
	return b.String()
}

func writeSection(b *strings.Builder, label, header string, rows []string) {
	b.WriteString(label + "\n")
	if len(rows) == 0 {
		b.WriteString("  None\n")
		return
	}
	b.WriteString(header + "\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString(ruler + "\n")
}

// interfaceListOrder lists interfaces by index, the loopback last, as
// Windows lists its Software Loopback Interface after the adapters.
func interfaceListOrder(links []Link) []Link {
	out := slices.Clone(links)
	slices.SortStableFunc(out, func(a, b Link) int {
		if a.Loopback != b.Loopback {
			if a.Loopback {
				return 1
			}
			return -1
		}
		return a.Index - b.Index
	})
	return out
}

// interfaceListEntry renders "  2...00 0c 29 a1 38 2c ......Intel(R) ...":
// the index in 3 columns, then "..." and the MAC bytes each followed by a
// space, dotted out to 27 columns, then the description.
func interfaceListEntry(l Link) string {
	mid := "..."
	if len(l.MAC) > 0 && !allZero(l.MAC) {
		for _, x := range l.MAC {
			mid += fmt.Sprintf("%02x ", x)
		}
	}
	for len(mid) < 27 {
		mid += "."
	}
	return fmt.Sprintf("%3d%s%s", l.Index, mid, l.Name)
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func mask4(bits int) string {
	return netip.AddrFrom4([4]byte(net.CIDRMask(bits, 32))).String()
}

func sortRoutes(rs []Route) {
	slices.SortStableFunc(rs, func(a, b Route) int {
		if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
			return c
		}
		if a.Dst.Bits() != b.Dst.Bits() {
			return a.Dst.Bits() - b.Dst.Bits()
		}
		if a.Metric != b.Metric {
			return a.Metric - b.Metric
		}
		return a.Index - b.Index
	})
}

// shownRoutes are the routes of family fam that route print, netsh show
// route and Get-NetRoute list: the unicast routes, and the host, broadcast
// and multicast routes Windows lists as well (Linux keeps them in table
// local), sorted by destination.
func shownRoutes(v *view, fam int) []Route {
	var out []Route
	for _, r := range v.routes {
		if familyOf(r.Dst.Addr()) == fam {
			out = append(out, r)
		}
	}
	sortRoutes(out)
	return out
}

func gatewayText(gw netip.Addr) string {
	if !gw.IsValid() || gw.IsUnspecified() {
		return onLinkWord
	}
	return gw.String()
}

func ipv4ActiveRows(v *view) []string {
	var rows []string
	for _, r := range shownRoutes(v, 4) {
		ifText := ""
		switch {
		case r.Src.Is4():
			ifText = r.Src.String()
		case v.ipv4Of(r.Index).IsValid():
			ifText = v.ipv4Of(r.Index).String()
		default:
			ifText = fmt.Sprint(r.Index) // no IPv4 address on it: the index, as XP printed
		}
		// Windows pads the on-link word one column short of the field
		// ("On-link " right-aligned): the captures end it in column 50.
		gw := gatewayText(r.Gateway)
		if gw == onLinkWord {
			gw += " "
		}
		rows = append(rows, fmt.Sprintf("%17s%17s%17s%17s%7d", r.Dst.Addr(), mask4(r.Dst.Bits()), gw, ifText, r.Metric))
	}
	return rows
}

func ipv4PersistentRows(rs []pRoute) []string {
	var rows []string
	for _, r := range rs {
		metric := fmt.Sprintf("%8d", r.Metric)
		if r.Metric == DefaultMetric {
			metric = "  Default"
		}
		rows = append(rows, fmt.Sprintf("%17s%17s%17s%s", r.Dst.Addr(), mask4(r.Dst.Bits()), gatewayText(r.Gateway), metric))
	}
	return rows
}

// ipv6Row renders " If Metric Network Destination      Gateway"; a
// destination of 25 columns or more pushes the gateway to column 36 of the
// next line.
func ipv6Row(idx, metric int, dst netip.Prefix, gw netip.Addr) string {
	d := dst.String()
	if len(d) >= 25 {
		return fmt.Sprintf("%3d%7d %s\n%36s%s", idx, metric, d, "", gatewayText(gw))
	}
	return fmt.Sprintf("%3d%7d %-25s%s", idx, metric, d, gatewayText(gw))
}

func ipv6ActiveRows(v *view) []string {
	var rows []string
	for _, r := range shownRoutes(v, 6) {
		rows = append(rows, ipv6Row(r.Index, r.Metric, r.Dst, r.Gateway))
	}
	return rows
}

func ipv6PersistentRows(v *view, rs []pRoute) []string {
	var rows []string
	for _, r := range rs {
		m := r.Metric
		if m == DefaultMetric {
			m = 0
		}
		rows = append(rows, ipv6Row(v.resolvedIndex(r), m, r.Dst, r.Gateway))
	}
	return rows
}
