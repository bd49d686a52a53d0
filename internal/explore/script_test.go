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

func TestWindowsScriptFor(t *testing.T) {
	gw := netip.MustParseAddr("192.0.2.1")
	def := netip.MustParsePrefix("0.0.0.0/0")
	s := WinScript{Title: "secondary-ip-route-loss", Steps: []WinStep{
		{Op: Op{Kind: AddRoute, Mechanism: netcfg.Netlink, Interface: "Local Area Connection", Dst: def, Gateway: gw}, Persistent: true, Metric: 5},
		{Op: Op{Kind: AddAddress, Mechanism: netcfg.Netlink, Interface: "Local Area Connection", Address: netip.MustParsePrefix("192.0.2.21/24")}},
		{Op: Op{Kind: DeleteAddress, Mechanism: netcfg.Netlink, Interface: "Local Area Connection", Address: netip.MustParsePrefix("192.0.2.21/24")}},
	}, Checks: []WinCheck{{Route: netcfg.RouteSpec{Dst: def, Gateway: gw, Interface: "Local Area Connection"}, Persistent: true}}}
	commands := func(text string) []string {
		var out []string
		for _, l := range strings.Split(text, "\r\n") {
			if l != "" && !strings.HasPrefix(l, "rem ") && !strings.HasPrefix(l, "@echo") && l != "setlocal" {
				out = append(out, l)
			}
		}
		return out
	}
	for _, tc := range []struct {
		v    WindowsVersion
		want []string
	}{
		{Server2008R2, []string{
			`for /f "tokens=1,4*" %%a in ('netsh interface ipv4 show interfaces') do if /i "%%c"=="Local Area Connection" set IF_Local_Area_Connection=%%a`,
			`route -p add 0.0.0.0 mask 0.0.0.0 192.0.2.1 metric 5 if %IF_Local_Area_Connection% || exit /b 2`,
			`netsh interface ipv4 add address "Local Area Connection" 192.0.2.21 255.255.255.0 || exit /b 2`,
			`netsh interface ipv4 delete address "Local Area Connection" 192.0.2.21 || exit /b 2`,
			`set fail=0`,
			`netsh interface ipv4 show route store=active | findstr /l /c:"0.0.0.0/0" | findstr /l /c:"192.0.2.1" >nul || (echo FAIL: missing from the active store: 0.0.0.0/0 via 192.0.2.1 on Local Area Connection& set fail=1)`,
			`netsh interface ipv4 show route store=persistent | findstr /l /c:"0.0.0.0/0" | findstr /l /c:"192.0.2.1" >nul || (echo FAIL: missing from the persistent store: 0.0.0.0/0 via 192.0.2.1 on Local Area Connection& set fail=1)`,
			`route print`,
			`if "%fail%"=="0" echo OK: not reproduced`,
			`exit /b %fail%`,
		}},
		{Server2016, []string{
			`powershell.exe -NoProfile -NonInteractive -Command "$ErrorActionPreference = 'Stop'; New-NetRoute -DestinationPrefix '0.0.0.0/0' -InterfaceAlias 'Local Area Connection' -NextHop '192.0.2.1' -RouteMetric 5 -Confirm:$false | Out-Null" || exit /b 2`,
			`powershell.exe -NoProfile -NonInteractive -Command "$ErrorActionPreference = 'Stop'; New-NetIPAddress -InterfaceAlias 'Local Area Connection' -IPAddress '192.0.2.21' -PrefixLength 24 -Confirm:$false | Out-Null" || exit /b 2`,
			`powershell.exe -NoProfile -NonInteractive -Command "$ErrorActionPreference = 'Stop'; Remove-NetIPAddress -InterfaceAlias 'Local Area Connection' -IPAddress '192.0.2.21' -Confirm:$false" || exit /b 2`,
			`set fail=0`,
			`powershell.exe -NoProfile -NonInteractive -Command "if (-not (Get-NetRoute -DestinationPrefix '0.0.0.0/0' -InterfaceAlias 'Local Area Connection' -NextHop '192.0.2.1' -PolicyStore ActiveStore -ErrorAction SilentlyContinue)) { exit 1 }" || (echo FAIL: missing from the active store: 0.0.0.0/0 via 192.0.2.1 on Local Area Connection& set fail=1)`,
			`powershell.exe -NoProfile -NonInteractive -Command "if (-not (Get-NetRoute -DestinationPrefix '0.0.0.0/0' -InterfaceAlias 'Local Area Connection' -NextHop '192.0.2.1' -PolicyStore PersistentStore -ErrorAction SilentlyContinue)) { exit 1 }" || (echo FAIL: missing from the persistent store: 0.0.0.0/0 via 192.0.2.1 on Local Area Connection& set fail=1)`,
			`route print`,
			`if "%fail%"=="0" echo OK: not reproduced`,
			`exit /b %fail%`,
		}},
	} {
		if d := cmp.Diff(tc.want, commands(WindowsScriptFor(tc.v, s))); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.v, d)
		}
	}
}

func TestParseWindowsVersion(t *testing.T) {
	for in, want := range map[string]WindowsVersion{"2008": Server2008, "2008R2": Server2008R2, "2008-r2": Server2008R2, "2016": Server2016} {
		if got, err := ParseWindowsVersion(in); err != nil || got != want {
			t.Errorf("ParseWindowsVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseWindowsVersion("2003"); err == nil || !strings.Contains(err.Error(), "want one of 2008, 2008r2") {
		t.Errorf("ParseWindowsVersion(2003): %v", err)
	}
	if Server2008R2.NetTCPIP() || !Server2012.NetTCPIP() {
		t.Error("NetTCPIP: want 2012 and later only")
	}
}
