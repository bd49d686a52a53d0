package standin

import (
	"fmt"
	"net/netip"
	"strings"
)

// The layouts of netsh's show commands, as real captures show them
// (../shared/samples/windows/netsh and captures of `show interface X` and
// `show global`): tables with a dashed rule under the header, values
// padded as netsh pads them; key/value blocks with the value in column 42
// (show addresses) or after a 35/36-column label.

// renderNetshRoutes renders `netsh interface ipv4|ipv6 show route`:
//
//	Publish  Type      Met  Prefix                    Idx  Gateway/Interface Name
//	-------  --------  ---  ------------------------  ---  ------------------------
//	No       Manual    0    0.0.0.0/0                   4  192.168.1.1
//
// Type is Manual for administrator routes (proto static or boot), System
// for the stack's own (proto kernel, the host and broadcast routes).
func renderNetshRoutes(v *view, fam int) string {
	var rows []string
	for _, r := range shownRoutes(v, fam) {
		typ := "System"
		if r.Kind == Unicast && (r.Proto == ProtoStatic || r.Proto == ProtoBoot) {
			typ = "Manual"
		}
		rows = append(rows, netshRouteRow(typ, r.Metric, r.Dst.String(), r.Index, gatewayOrName(v, r.Gateway, r.Index)))
	}
	return netshRouteTable(rows)
}

// renderNetshPersistentRoutes renders `show route store=persistent`.
func renderNetshPersistentRoutes(v *view, rs []pRoute) string {
	var rows []string
	for _, r := range rs {
		m := r.Metric
		if m == DefaultMetric {
			m = 0
		}
		idx := v.resolvedIndex(r)
		rows = append(rows, netshRouteRow("Manual", m, r.Dst.String(), idx, gatewayOrName(v, r.Gateway, idx)))
	}
	return netshRouteTable(rows)
}

func gatewayOrName(v *view, gw netip.Addr, idx int) string {
	if gw.IsValid() {
		return gw.String()
	}
	return v.name(idx)
}

func netshRouteRow(typ string, metric int, prefix string, idx int, gw string) string {
	return fmt.Sprintf("%-7s  %-8s  %-3d  %-24s  %3d  %s", "No", typ, metric, prefix, idx, gw)
}

func netshRouteTable(rows []string) string {
	var b strings.Builder
	b.WriteString("\nPublish  Type      Met  Prefix                    Idx  Gateway/Interface Name\n")
	b.WriteString("-------  --------  ---  ------------------------  ---  ------------------------\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// renderNetshInterfaces renders `netsh interface ipv4|ipv6 show
// interfaces`. Met is 0: Linux has no interface metric.
func renderNetshInterfaces(v *view, links []Link, fam int) string {
	var b strings.Builder
	b.WriteString("\nIdx     Met         MTU          State                Name\n")
	b.WriteString("---  ----------  ----------  ------------  ---------------------------\n")
	for _, l := range links {
		state := "disconnected"
		if l.Up || l.Loopback {
			state = "connected"
		}
		fmt.Fprintf(&b, "%3d  %10d  %10d  %-12s  %s\n", l.Index, 0, l.MTU, state, l.Name)
	}
	b.WriteString("\n")
	return b.String()
}

// renderNetshInterfaceVerbose renders `show interfaces interface=X` (the
// verbose view, the default when an interface is named): the lines with a
// Linux counterpart, in netsh's order.
func renderNetshInterfaceVerbose(l Link, params [][2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nInterface %s Parameters\n", l.Name)
	b.WriteString("----------------------------------------------\n")
	for _, p := range params {
		fmt.Fprintf(&b, "%-35s: %s\n", p[0], p[1])
	}
	b.WriteString("\n")
	return b.String()
}

// renderNetshAddresses4 renders `netsh interface ipv4 show addresses`:
//
//	Configuration for interface "Ethernet 2"
//	    DHCP enabled:                         No
//	    IP Address:                           192.0.2.20
//	    Subnet Prefix:                        192.0.2.0/24 (mask 255.255.255.0)
//	    InterfaceMetric:                      0
//
// with the default gateway lines when a default route leaves through the
// interface.
func renderNetshAddresses4(v *view, links []Link) string {
	var b strings.Builder
	kv := func(k, val string) { fmt.Fprintf(&b, "    %-38s%s\n", k+":", val) }
	for _, l := range links {
		fmt.Fprintf(&b, "\nConfiguration for interface %q\n", l.Name)
		kv("DHCP enabled", "No")
		for _, a := range v.addrsOf(l.Index, 4) {
			kv("IP Address", a.Prefix.Addr().String())
			kv("Subnet Prefix", fmt.Sprintf("%s (mask %s)", a.Prefix.Masked(), mask4(a.Prefix.Bits())))
		}
		for _, r := range v.activeRoutes() {
			if r.Index == l.Index && r.Dst.Bits() == 0 && r.Dst.Addr().Is4() && r.Gateway.IsValid() {
				kv("Default Gateway", r.Gateway.String())
				kv("Gateway Metric", fmt.Sprint(r.Metric))
				break
			}
		}
		kv("InterfaceMetric", "0")
	}
	b.WriteString("\n")
	return b.String()
}

// renderNetshAddresses6 renders `netsh interface ipv6 show addresses`:
//
//	Interface 16: Ethernet 2
//
//	Addr Type  DAD State   Valid Life Pref. Life Address
//	---------  ----------- ---------- ---------- ------------------------
//	Manual     Preferred     infinite   infinite 2001:db8::21
//
// Link-local addresses carry their zone (%IfIndex) as netsh prints them.
func renderNetshAddresses6(v *view, links []Link) string {
	var b strings.Builder
	for _, l := range links {
		as := v.addrsOf(l.Index, 6)
		if len(as) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nInterface %d: %s\n\n", l.Index, l.Name)
		b.WriteString("Addr Type  DAD State   Valid Life Pref. Life Address\n")
		b.WriteString("---------  ----------- ---------- ---------- ------------------------\n")
		for _, a := range as {
			addr := a.Prefix.Addr().String()
			if a.Prefix.Addr().IsLinkLocalUnicast() {
				addr += fmt.Sprintf("%%%d", l.Index)
			}
			fmt.Fprintf(&b, "%-9s  %-11s %10s %10s %s\n", addrType6(a), dadState(a), netshLifetime(a.ValidLft), netshLifetime(a.PrefLft), addr)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// addrType6 is netsh's Addr Type: Manual for configured addresses, Other
// for the link-local and loopback ones the stack makes itself, Public for
// learned (SLAAC) ones.
func addrType6(a Addr) string {
	switch {
	case a.Prefix.Addr().IsLinkLocalUnicast() || a.Prefix.Addr().IsLoopback():
		return "Other"
	case a.Permanent:
		return "Manual"
	}
	return "Public"
}

func dadState(a Addr) string {
	switch {
	case a.Duplicate:
		return "Duplicate"
	case a.Tentative:
		return "Tentative"
	case a.Deprecated:
		return "Deprecated"
	}
	return "Preferred"
}

// netshLifetime renders a lifetime as netsh does: "infinite" or
// "1d2h3m4s" without the zero leading units.
func netshLifetime(s uint32) string {
	if s == Infinite {
		return "infinite"
	}
	d, h, m, sec := s/86400, s/3600%24, s/60%60, s%60
	var b strings.Builder
	if d > 0 {
		fmt.Fprintf(&b, "%dd", d)
	}
	if d > 0 || h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if d > 0 || h > 0 || m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	fmt.Fprintf(&b, "%ds", sec)
	return b.String()
}

// renderDynamicPort renders `show dynamicportrange tcp`.
func renderDynamicPort(start, num int) string {
	return fmt.Sprintf("\nProtocol tcp Dynamic Port Range\n---------------------------------\nStart Port      : %d\nNumber of Ports : %d\n\n", start, num)
}

// renderNetshGlobal renders `show global`: the lines given, after netsh's
// "Querying active state..." banner.
func renderNetshGlobal(store string, lines [][2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Querying %s state...\n\nGeneral Global Parameters\n", store)
	b.WriteString("---------------------------------------------\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "%-36s: %s\n", l[0], l[1])
	}
	b.WriteString("\n")
	return b.String()
}
