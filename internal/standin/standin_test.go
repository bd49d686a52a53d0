package standin

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/internal/mcast"
	"github.com/kbharness/kbharness/internal/winevent"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/routeexe"
)

var (
	defaultV4 = netcfg.RouteSpec{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Persistent: true}
	defaultV6 = netcfg.RouteSpec{Dst: netip.MustParsePrefix("::/0"), Gateway: netip.MustParseAddr("2001:db8::1"), Persistent: true}
	netV4     = netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("198.51.100.1"), Interface: "lan1", Metric: 5}
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// activeRoute finds the unicast route of table main to dst via gw.
func activeRoute(k *fakeKernel, dst string, gw string) (Route, bool) {
	for _, r := range k.routes {
		if r.Kind == Unicast && r.Dst == netip.MustParsePrefix(dst) && (gw == "" && !r.Gateway.IsValid() || gw != "" && r.Gateway == netip.MustParseAddr(gw)) {
			return r, true
		}
	}
	return Route{}, false
}

func TestRouteExeAddPrintDelete(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)

	out := c.ok(must(routeexe.AddArgv(defaultV4, 0))...)
	if strings.TrimSpace(out) != "OK!" {
		t.Errorf("route -p add printed %q, want \" OK!\"", out)
	}
	r, ok := activeRoute(k, "0.0.0.0/0", "192.0.2.1")
	if !ok || r.Index != 2 {
		t.Fatalf("route -p add without IF: active route %+v (found %v), want it on lan0 (index 2), chosen from the gateway", r, ok)
	}
	if want := []string{"0.0.0.0,0.0.0.0,192.0.2.1,-1"}; !slices.Equal(c.registry, want) {
		t.Errorf("PersistentRoutes values %q, want %q (route -p add without METRIC: Default)", c.registry, want)
	}
	c.ok(must(routeexe.AddArgv(netV4, 3))...)
	if _, ok := activeRoute(k, "203.0.113.0/24", "198.51.100.1"); !ok {
		t.Fatal("route add without -p: no active route")
	}
	if len(c.registry) != 1 {
		t.Errorf("route add without -p wrote the registry: %q", c.registry)
	}

	tbl := must(routeexe.ParsePrint(c.ok(routeexe.Print(netcfg.IPv4)...)))
	var persistent, active []routeexe.Row
	for _, row := range tbl.Rows {
		if row.Store == netcfg.StorePersistent {
			persistent = append(persistent, row)
		} else {
			active = append(active, row)
		}
	}
	if len(persistent) != 1 || persistent[0].Dst != defaultV4.Dst || persistent[0].Gateway != defaultV4.Gateway || !persistent[0].DefaultMetric {
		t.Errorf("route print -4 persistent rows %+v, want 0.0.0.0/0 via 192.0.2.1 Default", persistent)
	}
	if !slices.ContainsFunc(active, func(r routeexe.Row) bool {
		return r.Dst == netV4.Dst && r.Gateway == netV4.Gateway && r.Metric == 5 && r.InterfaceIP == netip.MustParseAddr("198.51.100.20")
	}) {
		t.Errorf("route print -4 active rows lack 203.0.113.0/24 via 198.51.100.1 on 198.51.100.20 metric 5: %+v", active)
	}
	if len(tbl.Interfaces) != 3 || tbl.Interfaces[0].Description != "lan0" || tbl.Interfaces[0].MAC != "c2:7a:35:38:b7:d9" {
		t.Errorf("route print interface list %+v", tbl.Interfaces)
	}

	c.ok(must(routeexe.DeleteArgv(defaultV4, 0))...)
	if _, ok := activeRoute(k, "0.0.0.0/0", "192.0.2.1"); ok {
		t.Error("route delete left the active route")
	}
	if len(c.registry) != 0 {
		t.Errorf("route delete left the PersistentRoutes values %q: it removes from both stores", c.registry)
	}
	if r := c.run(must(routeexe.DeleteArgv(defaultV4, 0))...); r.exit == 0 || !strings.Contains(r.stdout, "The route deletion failed: Element not found.") {
		t.Errorf("deleting a missing route: %+v", r)
	}
}

func TestRouteExeRejectsWhatRouteExeRejects(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"route", "add", "198.51.100.7", "mask", "255.255.255.0", "192.0.2.1"},
			"The route addition failed: The specified mask parameter is invalid. (Destination & Mask) != Destination."},
		{[]string{"route", "add", "203.0.113.0", "mask", "255.255.255.0", "192.0.2.1", "metric", "0"}, "Route: bad metric value 0"},
		{[]string{"route", "add", "203.0.113.0", "mask", "255.255.255.0", "192.0.2.1", "metric", "10000"}, "Route: bad metric value 10000"},
		{[]string{"route", "add", "203.0.113.0", "mask", "255.255.255.0", "192.0.2.1", "if", "77"}, "The route addition failed: Element not found."},
		{[]string{"route", "add", "203.0.113.0", "mask", "255.255.255.0", "203.0.113.1"}, "The route addition failed: The parameter is incorrect."},
		{[]string{"route", "add", "198.51.100.0", "mask", "255.255.255.0", "192.0.2.1", "if", "3"}, "The route addition failed: The parameter is incorrect."},
		{[]string{"route", "-p", "add", "203.0.113.0", "mask", "255.255.255.0", "198.51.100.1", "metric", "9999"}, ""},
	} {
		k := newFakeKernel()
		c := newClient(t, k)
		r := c.run(tc.argv...)
		if tc.want == "" {
			if r.exit != 0 {
				t.Errorf("%q: exit %d: %s", tc.argv, r.exit, r.stdout)
			}
			continue
		}
		if r.exit == 0 || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("%q: exit %d, stdout %q; want a failure printing %q", tc.argv, r.exit, r.stdout, tc.want)
		}
		if len(c.registry) != 0 {
			t.Errorf("%q: a rejected command wrote the registry %q", tc.argv, c.registry)
		}
	}
	c := newClient(t, newFakeKernel())
	c.ok("route", "add", "203.0.113.0", "mask", "255.255.255.0", "192.0.2.1")
	if r := c.run("route", "add", "203.0.113.0", "mask", "255.255.255.0", "192.0.2.1"); !strings.Contains(r.stdout, "The route addition failed: The object already exists.") {
		t.Errorf("adding a route twice: %+v", r)
	}
	for _, argv := range [][]string{{"route", "-f"}, {"route", "change", "0.0.0.0", "mask", "0.0.0.0", "192.0.2.1"}, {"route", "print", "192*"}} {
		if r := c.run(argv...); r.exit == 0 || !strings.Contains(r.stderr, "kbh-standin: unsupported") {
			t.Errorf("%q: %+v; want a loud rejection", argv, r)
		}
	}
}

func TestRouteExeIPv6(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	c.ok(must(routeexe.AddArgv(defaultV6, 2))...)
	if _, ok := activeRoute(k, "::/0", "2001:db8::1"); !ok {
		t.Fatal("route -p add ::/0: no active route")
	}
	tbl := must(routeexe.ParsePrint(c.ok(routeexe.Print(netcfg.IPv6)...)))
	if !slices.ContainsFunc(tbl.Rows, func(r routeexe.Row) bool {
		return r.Store == netcfg.StorePersistent && r.Dst == defaultV6.Dst && r.Gateway == defaultV6.Gateway && r.IfIndex == 2
	}) {
		t.Errorf("route print -6 lacks the persistent ::/0 row: %+v", tbl.Rows)
	}
	if len(c.registry) != 0 {
		t.Errorf("an IPv6 persistent route reached PersistentRoutes (IPv4 only): %q", c.registry)
	}
}

func TestNetshStores(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	active := netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan0", Metric: 7}
	c.ok(must(netsh.AddRoute(active))...)
	persistent := defaultV4
	persistent.Interface = "lan0"
	c.ok(must(netsh.AddRoute(persistent))...)
	if want := []string{"0.0.0.0,0.0.0.0,192.0.2.1,0"}; !slices.Equal(c.registry, want) {
		t.Errorf("after store=active and store=persistent adds, PersistentRoutes %q, want %q", c.registry, want)
	}
	rs := must(netsh.ParseRoutes(c.ok(netsh.ShowRoute(netcfg.IPv4, netcfg.StorePersistent)...), netcfg.StorePersistent))
	if len(rs) != 1 || rs[0].Dst != persistent.Dst || rs[0].Gateway != persistent.Gateway {
		t.Errorf("show route store=persistent: %+v", rs)
	}
	rs = must(netsh.ParseRoutes(c.ok(netsh.ShowRoute(netcfg.IPv4, "")...), netcfg.StoreActive))
	for _, want := range []netcfg.RouteSpec{active, persistent} {
		if !slices.ContainsFunc(rs, func(r netsh.Route) bool { return r.Dst == want.Dst && r.Gateway == want.Gateway && r.IfIndex == 2 }) {
			t.Errorf("show route lacks %s via %s on index 2: %+v", want.Dst, want.Gateway, rs)
		}
	}
	// store=active deletes from the active store only: the persistent
	// route stays there (and in the registry).
	act := persistent
	act.Persistent = false
	c.ok(must(netsh.DeleteRoute(act))...)
	if _, ok := activeRoute(k, "0.0.0.0/0", "192.0.2.1"); ok || len(c.registry) != 1 {
		t.Errorf("delete route store=active: active route present %v, registry %q; want gone, kept", ok, c.registry)
	}
	if r := c.run(must(netsh.DeleteRoute(persistent))...); r.exit != 0 || len(c.registry) != 0 {
		t.Errorf("delete route store=persistent: %+v, registry %q", r, c.registry)
	}
	if r := c.run(must(netsh.DeleteRoute(persistent))...); r.exit == 0 || strings.TrimSpace(r.stdout) != "Element not found." {
		t.Errorf("deleting a missing route: %+v", r)
	}
}

func TestNetshAddressesAndShow(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	for _, p := range []string{"192.0.2.21/24", "2001:db8::21/64"} {
		c.ok(must(netsh.AddAddress(netcfg.AddressSpec{Prefix: netip.MustParsePrefix(p), Interface: "lan0"}))...)
	}
	entries := must(netsh.ParseAddresses(c.ok(netsh.ShowAddresses(netcfg.IPv4)...)))
	if !slices.ContainsFunc(entries, func(e netsh.AddressEntry) bool {
		return e.Interface == "lan0" && e.Addr == netip.MustParseAddr("192.0.2.21") && e.Bits == 24
	}) {
		t.Errorf("show addresses (ipv4) lacks 192.0.2.21/24 on lan0: %+v", entries)
	}
	entries = must(netsh.ParseAddresses(c.ok(netsh.ShowAddresses(netcfg.IPv6)...)))
	if !slices.ContainsFunc(entries, func(e netsh.AddressEntry) bool {
		return e.Interface == "lan0" && e.IfIndex == 2 && e.Addr == netip.MustParseAddr("2001:db8::21") && e.Type == "Manual"
	}) {
		t.Errorf("show addresses (ipv6) lacks 2001:db8::21 on lan0: %+v", entries)
	}
	ifs := must(netsh.ParseInterfaces(c.ok(netsh.ShowInterfaces(netcfg.IPv4)...)))
	if len(ifs) != 3 || ifs[1].Name != "lan0" || ifs[1].Idx != 2 || ifs[1].MTU != 1500 || ifs[1].State != "connected" {
		t.Errorf("show interfaces: %+v", ifs)
	}
	if r := c.run(must(netsh.AddAddress(netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}))...); strings.TrimSpace(r.stdout) != "The object already exists." {
		t.Errorf("adding an address twice: %+v", r)
	}
	if r := c.run(must(netsh.AddAddress(netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.22/24"), Interface: "Ethernet 9"}))...); r.exit == 0 {
		t.Errorf("adding an address on an unknown interface: %+v", r)
	}
	c.ok(must(netsh.DeleteAddress(netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}))...)
	if slices.ContainsFunc(k.addrs, func(a Addr) bool { return a.Prefix.Addr() == netip.MustParseAddr("192.0.2.21") }) {
		t.Error("delete address left 192.0.2.21")
	}
}

func TestNetshCommandWords(t *testing.T) {
	c := newClient(t, newFakeKernel())
	// Abbreviations resolve as netsh resolves them.
	for _, argv := range [][]string{
		{"netsh", "int", "ipv4", "sh", "int"},
		{"netsh", "interface", "ip", "show", "interfaces"},
		{"netsh", "int", "ipv4", "show", "dynamicport", "tcp"},
	} {
		c.ok(argv...)
	}
	if r := c.run("netsh", "interface", "ipv4", "frobnicate"); r.exit == 0 || !strings.Contains(r.stdout, "The following command was not found: interface ipv4 frobnicate.") {
		t.Errorf("an unknown netsh word: %+v", r)
	}
	for _, argv := range [][]string{
		{"netsh", "interface", "ipv4", "show", "joins"},
		{"netsh", "advfirewall", "show", "allprofiles"},
		{"netsh", "interface", "ipv4", "add", "route", "203.0.113.0/24", "lan0", "192.0.2.1", "publish=yes"},
		{"netsh", "interface", "ipv4", "set", "global", "icmpredirects=disabled"},
		{"netsh", "interface", "ipv4", "set", "dynamicport", "udp", "start=50000", "num=1000"},
	} {
		if r := c.run(argv...); r.exit == 0 || !strings.Contains(r.stderr, "kbh-standin: unsupported") {
			t.Errorf("%q: %+v; want a loud rejection", argv, r)
		}
	}
	if r := c.run("netsh", "interface", "ipv4", "add", "route", "203.0.113.0/24", "lan0", "192.0.2.1", "bogus=1"); !strings.Contains(r.stdout, "The syntax supplied for this command is not valid.") {
		t.Errorf("an unknown tag: %+v", r)
	}
}

func TestNetshDynamicPort(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	c.ok(must(netsh.SetDynamicPort(netcfg.IPv4, netsh.DynamicPortRange{Start: 49152, Num: 255}))...)
	if got := k.sysctl["ipv4/ip_local_port_range"]; got != "49152 49406" {
		t.Errorf("ip_local_port_range %q after set dynamicport start=49152 num=255", got)
	}
	got := must(netsh.ParseDynamicPort(c.ok(netsh.ShowDynamicPort(netcfg.IPv4)...)))
	if got != (netsh.DynamicPortRange{Start: 49152, Num: 255}) {
		t.Errorf("show dynamicport: %+v", got)
	}
	// KB929851's limits: start 1025 or more, 255 ports or more, ending at
	// 65535 at most.
	for _, argv := range [][]string{
		{"netsh", "int", "ipv4", "set", "dynamicport", "tcp", "start=1024", "num=1000"},
		{"netsh", "int", "ipv4", "set", "dynamicport", "tcp", "start=50000", "num=254"},
		{"netsh", "int", "ipv4", "set", "dynamicport", "tcp", "start=65000", "num=1000"},
	} {
		if r := c.run(argv...); r.exit == 0 || strings.TrimSpace(r.stdout) != "The parameter is incorrect." {
			t.Errorf("%q: %+v", argv, r)
		}
	}
}

func TestNetshForwarding(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	for _, on := range []bool{true, false} {
		c.ok(mcast.SetGlobalArgv(on)...)
		if got := must(mcast.ParseMulticastForwarding(c.ok(mcast.ShowGlobalArgv()...))); got != on {
			t.Errorf("multicastforwarding set %v, show global says %v", on, got)
		}
		c.ok(mcast.SetInterfaceArgv("lan1", on)...)
		if got := must(mcast.ParseInterfaceForwarding(c.ok(mcast.ShowInterfaceArgv("lan1")...))); got != on {
			t.Errorf("forwarding on lan1 set %v, show interface says %v", on, got)
		}
		if want := map[bool]string{true: "1", false: "0"}[on]; k.sysctl["ipv4/conf/lan1/forwarding"] != want {
			t.Errorf("net.ipv4.conf.lan1.forwarding %q, want %s", k.sysctl["ipv4/conf/lan1/forwarding"], want)
		}
	}
}

func TestPowerShellCmdlets(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	if out := c.ok(pwsh.Argv("(Get-Command Get-NetRoute -ErrorAction Stop).Name")...); strings.TrimSpace(out) != "Get-NetRoute" {
		t.Errorf("the NetTCPIP probe printed %q", out)
	}
	route := defaultV4
	route.Interface = "lan0"
	c.ok(pwsh.EncodedArgv(must(pwsh.NewNetRoute(route, pwsh.StoreFor(true))))...)
	if want := []string{"0.0.0.0,0.0.0.0,192.0.2.1,256"}; !slices.Equal(c.registry, want) {
		t.Errorf("New-NetRoute (both stores) left PersistentRoutes %q, want %q (RouteMetric's default 256)", c.registry, want)
	}
	active := netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("198.51.100.1"), Interface: "lan1", Metric: 9}
	c.ok(pwsh.EncodedArgv(must(pwsh.NewNetRoute(active, pwsh.StoreFor(false))))...)
	if len(c.registry) != 1 {
		t.Errorf("New-NetRoute -PolicyStore ActiveStore wrote the registry: %q", c.registry)
	}
	rs := must(pwsh.ParseRoutesJSON(c.ok(pwsh.EncodedArgv(pwsh.GetNetRouteJSON(pwsh.ActiveStore))...), netcfg.StoreActive))
	for _, want := range []netcfg.RouteSpec{route, active} {
		if !slices.ContainsFunc(rs, func(r pwsh.Route) bool {
			return r.Dst == want.Dst && r.Gateway == want.Gateway && r.Interface == want.Interface && r.Protocol == "netmgmt"
		}) {
			t.Errorf("Get-NetRoute JSON lacks %s via %s on %s: %+v", want.Dst, want.Gateway, want.Interface, rs)
		}
	}
	rs = must(pwsh.ParseRoutesJSON(c.ok(pwsh.EncodedArgv(pwsh.GetNetRouteJSON(pwsh.PersistentStore))...), netcfg.StorePersistent))
	if len(rs) != 1 || rs[0].Dst != route.Dst || rs[0].Metric != 256 {
		t.Errorf("Get-NetRoute -PolicyStore PersistentStore: %+v", rs)
	}
	c.ok(pwsh.EncodedArgv(must(pwsh.RemoveNetRoute(route, pwsh.BothStores)))...)
	if _, ok := activeRoute(k, "0.0.0.0/0", "192.0.2.1"); ok || len(c.registry) != 0 {
		t.Errorf("Remove-NetRoute left active %v, registry %q", ok, c.registry)
	}

	addr := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.22/24"), Interface: "lan0"}
	c.ok(pwsh.EncodedArgv(must(pwsh.NewNetIPAddress(addr, pwsh.BothStores)))...)
	as := must(pwsh.ParseAddressesJSON(c.ok(pwsh.EncodedArgv(pwsh.GetNetIPAddressJSON(pwsh.ActiveStore))...), netcfg.StoreActive))
	if !slices.ContainsFunc(as, func(a pwsh.Address) bool { return a.Prefix == addr.Prefix && a.Interface == "lan0" && a.IfIndex == 2 }) {
		t.Errorf("Get-NetIPAddress JSON lacks %s: %+v", addr.Prefix, as)
	}
	as = must(pwsh.ParseAddressesJSON(c.ok(pwsh.EncodedArgv(pwsh.GetNetIPAddressJSON(pwsh.PersistentStore))...), netcfg.StorePersistent))
	if len(as) != 1 || as[0].Prefix != addr.Prefix || as[0].AddressState != "Invalid" {
		t.Errorf("Get-NetIPAddress -PolicyStore PersistentStore: %+v", as)
	}
	c.ok(pwsh.EncodedArgv(must(pwsh.RemoveNetIPAddress(addr, pwsh.BothStores)))...)
	if slices.ContainsFunc(k.addrs, func(a Addr) bool { return a.Prefix == addr.Prefix }) {
		t.Error("Remove-NetIPAddress left the address")
	}
	// The default views.
	lst := must(pwsh.ParseAddressList(c.ok(pwsh.Argv("Get-NetIPAddress -InterfaceAlias 'lan1'")...)))
	if len(lst) != 1 || lst[0].Prefix != netip.MustParsePrefix("198.51.100.20/24") {
		t.Errorf("Get-NetIPAddress list view: %+v", lst)
	}
	tbl := must(pwsh.ParseRouteTable(c.ok(pwsh.Argv("Get-NetRoute -InterfaceAlias lan1")...)))
	if !slices.ContainsFunc(tbl, func(r pwsh.TableRoute) bool {
		return r.Dst == active.Dst && r.Gateway == active.Gateway && r.Metric == 9
	}) {
		t.Errorf("Get-NetRoute table view: %+v", tbl)
	}
}

func TestPowerShellRejects(t *testing.T) {
	c := newClient(t, newFakeKernel())
	for _, tc := range []struct{ script, stderr string }{
		{"$ErrorActionPreference = 'Stop'; New-NetRoute -DestinationPrefix '203.0.113.0/24' -InterfaceAlias 'Ethernet 9' -NextHop '192.0.2.1' -Confirm:$false | Out-Null",
			"New-NetRoute : No MSFT_NetIPInterface objects found with property 'InterfaceAlias' equal to 'Ethernet 9'."},
		{"$ErrorActionPreference = 'Stop'; New-NetRoute -DestinationPrefix '203.0.113.0/24' -InterfaceAlias 'lan0' -NextHop '192.0.2.1' -RouteMetric 70000 -Confirm:$false | Out-Null",
			`Cannot convert value "70000" to type "System.UInt16". Error: "Value was either too large or too small for a UInt16."`},
		{"$ErrorActionPreference = 'Stop'; New-NetRoute -DestinationPrefix '203.0.113.7/24' -InterfaceAlias 'lan0' -NextHop '192.0.2.1' -Confirm:$false | Out-Null",
			"New-NetRoute : The parameter is incorrect."},
		{"$ErrorActionPreference = 'Stop'; Remove-NetRoute -DestinationPrefix '203.0.113.0/24' -InterfaceAlias 'lan0' -Confirm:$false",
			"Remove-NetRoute : No matching MSFT_NetRoute objects found"},
		{"New-NetRoute -Bogus 1", "A parameter cannot be found that matches parameter name 'Bogus'."},
		{"New-NetRoute -DestinationPrefix '203.0.113.0/24' -InterfaceAlias lan0 -PolicyStore PersistentStore", "kbh-standin: unsupported"},
		{"Set-NetRoute -DestinationPrefix '0.0.0.0/0' -RouteMetric 3", "kbh-standin: unsupported"},
		{"Get-NetRoute | Select-Object DestinationPrefix", "kbh-standin: unsupported"},
		{"Remove-NetRoute -DestinationPrefix '0.0.0.0/0'", "kbh-standin: unsupported"},
		{"$x = 1", "kbh-standin: unsupported"},
		{"Get-NetRoute | Where-Object { $_.RouteMetric -gt 5 }", "kbh-standin: unsupported"},
	} {
		r := c.run(pwsh.EncodedArgv(tc.script)...)
		if r.exit == 0 || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want a failure saying %q", tc.script, r.exit, r.stderr, tc.stderr)
		}
	}
	c.ok(pwsh.EncodedArgv("New-NetRoute -DestinationPrefix '203.0.113.0/24' -InterfaceAlias lan0 -NextHop '192.0.2.1' | Out-Null")...)
	if r := c.run(pwsh.EncodedArgv("New-NetRoute -DestinationPrefix '203.0.113.0/24' -InterfaceAlias lan0 -NextHop '192.0.2.1' | Out-Null")...); r.exit == 0 ||
		!strings.Contains(r.stderr, "New-NetRoute : Instance MSFT_NetRoute already exists") {
		t.Errorf("adding a route twice: %+v", r)
	}
}

func TestWevtutilQueries(t *testing.T) {
	c := newClient(t, newFakeKernel())
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, q := range []winevent.Query{
		{Log: "System", Selectors: []winevent.Selector{winevent.TcpipPortEvents}, Since: now.Add(-time.Minute), Until: now},
		{Log: "System", Selectors: []winevent.Selector{winevent.KernelPower41, winevent.EventLog6008, winevent.BugCheck1001}, Since: now, Format: winevent.FormatXML},
		{Log: "System", Selectors: []winevent.Selector{winevent.TcpipPortEvents}, Format: winevent.FormatText, Max: 10, Newest: true},
	} {
		out := c.ok(must(q.Argv())...)
		if evs, err := winevent.ParseXML([]byte(out)); err != nil || len(evs) != 0 {
			t.Errorf("%q: events %v, err %v; want none", must(q.Argv()), evs, err)
		}
	}
	if r := c.run("wevtutil", "qe", "Bogus", "/q:*"); r.exit == 0 || !strings.Contains(r.stderr, "The specified channel could not be found.") {
		t.Errorf("an unknown channel: %+v", r)
	}
	if r := c.run("wevtutil", "qe", "System", "/q:*[System[(EventID=1]]"); r.exit == 0 || !strings.Contains(r.stderr, "The specified query is invalid.") {
		t.Errorf("a malformed query: %+v", r)
	}
	if r := c.run("wevtutil", "el"); r.exit == 0 || !strings.Contains(r.stderr, "kbh-standin: unsupported") {
		t.Errorf("wevtutil el: %+v", r)
	}
}

func TestRegistrySeededOnceThenKept(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	c.registry = []string{"198.51.100.0,255.255.255.0,192.0.2.1,5", "not a route"}
	tbl := must(routeexe.ParsePrint(c.ok("route", "print", "-4")))
	if !slices.ContainsFunc(tbl.Rows, func(r routeexe.Row) bool {
		return r.Store == netcfg.StorePersistent && r.Dst == netip.MustParsePrefix("198.51.100.0/24") && r.Metric == 5
	}) {
		t.Errorf("a PersistentRoutes value present at the first command is not in the persistent store: %+v", tbl.Rows)
	}
	// A value written behind the server's back later is not imported,
	// and goes; the unparsable one stays.
	c.registry = append(c.registry, "203.0.113.0,255.255.255.0,192.0.2.1,1")
	c.ok("route", "print", "-4")
	if want := []string{"198.51.100.0,255.255.255.0,192.0.2.1,5", "not a route"}; !slices.Equal(c.registry, want) {
		t.Errorf("PersistentRoutes %q, want %q", c.registry, want)
	}
}

func TestInjectedSecondaryIPRouteLoss(t *testing.T) {
	for _, tc := range []struct {
		name    string
		inject  bool
		address []string // add, delete argv pairs by mechanism
	}{
		{"netsh, healthy", false, nil},
		{"netsh, injected", true, nil},
		{"powershell, injected", true, []string{"powershell"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newFakeKernel()
			var inject []string
			if tc.inject {
				inject = []string{InjectSecondaryIPRouteLoss}
			}
			c := newClient(t, k, inject...)
			c.ok(must(routeexe.AddArgv(defaultV4, 0))...)
			a := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}
			if tc.address != nil {
				c.ok(pwsh.EncodedArgv(must(pwsh.NewNetIPAddress(a, pwsh.BothStores)))...)
				c.ok(pwsh.EncodedArgv(must(pwsh.RemoveNetIPAddress(a, pwsh.BothStores)))...)
			} else {
				c.ok(must(netsh.AddAddress(a))...)
				c.ok(must(netsh.DeleteAddress(a))...)
			}
			_, active := activeRoute(k, "0.0.0.0/0", "192.0.2.1")
			lost := !active && len(c.registry) == 0
			kept := active && len(c.registry) == 1
			switch {
			case tc.inject && !lost:
				t.Errorf("injected: after deleting %s the route -p default is active %v, registry %q; want it gone from both", a.Prefix, active, c.registry)
			case !tc.inject && !kept:
				t.Errorf("healthy: after deleting %s the route -p default is active %v, registry %q; want it kept in both", a.Prefix, active, c.registry)
			}
		})
	}
	if _, err := NewServer(newFakeKernel(), Options{Inject: []string{"bogus"}}); err == nil {
		t.Error("an unknown injector was accepted")
	}
}

// TestInjectedKB287032: with the injector, deleting an address that is not
// the oldest one added (by any command) leaves its host route until the
// last added address goes; FIFO leaves none; without the injector no order
// leaves one.
func TestInjectedKB287032(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject bool
		order  []string // the deletions, after adding .31, .32, .33 in that order
		stale  []string // host routes on lan0 before the last deletion
	}{
		{"healthy LIFO", false, []string{"33", "32", "31"}, nil},
		{"injected FIFO", true, []string{"31", "32", "33"}, nil},
		{"injected LIFO", true, []string{"33", "32", "31"}, []string{"192.0.2.33/32", "192.0.2.32/32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newFakeKernel()
			var inject []string
			if tc.inject {
				inject = []string{InjectKB287032}
			}
			c := newClient(t, k, inject...)
			addr := func(n string) netcfg.AddressSpec {
				return netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2." + n + "/24"), Interface: "lan0"}
			}
			hostRoutes := func() []string {
				var out []string
				for _, r := range k.routes {
					if r.Dst.Bits() == 32 && r.Kind == Unicast && !r.Gateway.IsValid() && r.Index == 2 {
						out = append(out, r.Dst.String())
					}
				}
				return out
			}
			c.ok("iphlpapi", "CreateUnicastIpAddressEntry", "192.0.2.31/24", "2")
			c.ok(must(netsh.AddAddress(addr("32")))...)
			c.ok(pwsh.EncodedArgv(must(pwsh.NewNetIPAddress(addr("33"), pwsh.BothStores)))...)
			for _, n := range tc.order[:2] {
				c.ok(must(netsh.DeleteAddress(addr(n)))...)
			}
			if got := hostRoutes(); !slices.Equal(got, tc.stale) {
				t.Errorf("host routes left on lan0: %q, want %q", got, tc.stale)
			}
			c.ok(must(netsh.DeleteAddress(addr(tc.order[2])))...)
			if got := hostRoutes(); len(got) != 0 {
				t.Errorf("after the last added address went, host routes %q stay", got)
			}
		})
	}
}
