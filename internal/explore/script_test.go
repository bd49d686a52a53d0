package explore

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kbharness/kbharness/netcfg"
	"strings"
)

func TestIPScript(t *testing.T) {
	stale := netcfg.Route{Dst: netip.MustParsePrefix("198.51.100.100/32"), Interface: "lan1", Protocol: "boot"}
	local := netcfg.Route{Dst: netip.MustParsePrefix("192.0.2.100/32"), Interface: "lan0", Protocol: "kernel", Type: "local", Table: "local"}
	r := Repro{Lab: "multihomed", Seed: 3, Ops: []Op{
		{Kind: AddAddress, Mechanism: netcfg.Netlink, Interface: "lan0", Address: netip.MustParsePrefix("192.0.2.100/24")},
		{Kind: AddAddress, Mechanism: netcfg.IPRoute2, Interface: "lan1", Address: netip.MustParsePrefix("198.51.100.100/24")},
		{Kind: AddRoute, Mechanism: netcfg.Netlink, Interface: "lan0", Dst: netip.MustParsePrefix("2001:db8:f000::/48"), Gateway: netip.MustParseAddr("2001:db8:1::1")},
		{Kind: DeleteAddress, Mechanism: netcfg.Netlink, Interface: "lan1", Address: netip.MustParsePrefix("198.51.100.100/24")},
	}, Failure: &Failure{
		Diff: netcfg.SnapshotDiff{Removed: []string{local.Line()}, Added: []string{stale.Line()}},
		Want: netcfg.Lines{local.Line(): {Route: &local}},
		Have: netcfg.Lines{stale.Line(): {Route: &stale}},
	}}
	got := strings.Split(IPScript(r), "\n")
	want := []string{
		"ip addr add 192.0.2.100/24 dev lan0 || exit 2",
		"ip addr add 198.51.100.100/24 dev lan1 || exit 2",
		"ip route add 2001:db8:f000::/48 via 2001:db8:1::1 dev lan0 || exit 2",
		"ip addr del 198.51.100.100/24 dev lan1 || exit 2",
		`if [ -z "$(ip -4 route show table local exact 192.0.2.100/32 dev lan0 proto kernel type local)" ]; then echo 'FAIL: missing: local 192.0.2.100 dev lan0 table local proto kernel metric 0'; fail=1; fi`,
		`if [ -n "$(ip -4 route show table main exact 198.51.100.100/32 dev lan1 proto boot type unicast)" ]; then echo 'FAIL: unexpected: 198.51.100.100 dev lan1 proto boot metric 0'; fail=1; fi`,
		"exit $fail",
	}
	var commands []string
	for _, l := range got {
		if strings.HasPrefix(l, "ip ") || strings.HasPrefix(l, "if [ -") || strings.HasPrefix(l, "exit") {
			commands = append(commands, l)
		}
	}
	if d := cmp.Diff(want, commands); d != "" {
		t.Errorf("commands (-want +got):\n%s\nscript:\n%s", d, strings.Join(got, "\n"))
	}
}

func TestWindowsScript(t *testing.T) {
	r := Repro{Lab: "multihomed", Ops: []Op{
		{Kind: AddAddress, Mechanism: netcfg.IPHlpAPILegacy, Interface: "Ethernet 2", Address: netip.MustParsePrefix("192.0.2.100/24")},
		{Kind: AddAddress, Mechanism: netcfg.Netsh, Interface: "Ethernet 3", Address: netip.MustParsePrefix("2001:db8:2::100/64")},
		{Kind: AddRoute, Mechanism: netcfg.RouteExe, Interface: "Ethernet 2", Dst: netip.MustParsePrefix("203.0.113.0/28"), Gateway: netip.MustParseAddr("192.0.2.1")},
		{Kind: AddRoute, Mechanism: netcfg.Netsh, Interface: "Ethernet 3", Dst: netip.MustParsePrefix("203.0.113.16/28"), Gateway: netip.MustParseAddr("198.51.100.1")},
		{Kind: DeleteRoute, Mechanism: netcfg.RouteExe, Interface: "Ethernet 2", Dst: netip.MustParsePrefix("203.0.113.0/28"), Gateway: netip.MustParseAddr("192.0.2.1")},
		{Kind: DeleteAddress, Mechanism: netcfg.PowerShell, Interface: "Ethernet 2", Address: netip.MustParsePrefix("192.0.2.100/24")},
	}}
	var got []string
	for _, l := range strings.Split(WindowsScript(r), "\r\n") {
		if l != "" && !strings.HasPrefix(l, "rem ") && !strings.HasPrefix(l, "@echo") {
			got = append(got, l)
		}
	}
	want := []string{
		`for /f %%i in ('powershell -NoProfile -Command "(Get-NetAdapter -Name 'Ethernet 2').ifIndex"') do set IF_Ethernet_2=%%i`,
		`netsh interface ipv4 add address "Ethernet 2" 192.0.2.100 255.255.255.0`,
		`netsh interface ipv6 add address "Ethernet 3" 2001:db8:2::100/64`,
		`route add 203.0.113.0 mask 255.255.255.240 192.0.2.1 if %IF_Ethernet_2%`,
		`netsh interface ipv4 add route 203.0.113.16/28 "Ethernet 3" 198.51.100.1 store=active`,
		`route delete 203.0.113.0 mask 255.255.255.240 192.0.2.1 if %IF_Ethernet_2%`,
		`powershell -NoProfile -Command "Remove-NetIPAddress -InterfaceAlias 'Ethernet 2' -IPAddress 192.0.2.100 -Confirm:$false"`,
		`route print`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
