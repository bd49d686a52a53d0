package main

import (
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"

	"github.com/kbharness/kbharness/internal/standin/wire"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/routeexe"
)

// These tests run the stand-ins the way the suite binary does (os/exec of
// "route", "netsh", "powershell.exe", "wevtutil" found on PATH) under Wine
// in a lab namespace with the server running (.ci/wine/suites.sh), and
// read the results back the way the suite binary's snapshots do: Wine's
// iphlpapi (GetIpForwardTable2, GetUnicastIpAddressTable) and the
// registry. They skip elsewhere.

func requireStandins(t *testing.T) string {
	t.Helper()
	if os.Getenv(wire.AddrEnv) == "" {
		t.Skipf("%s is not set: run under .ci/wine/suites.sh", wire.AddrEnv)
	}
	for _, exe := range []string{"route.exe", "netsh.exe", "powershell.exe", "wevtutil.exe"} {
		if _, err := exec.LookPath(exe); err != nil {
			t.Fatalf("%s is not on PATH: %v", exe, err)
		}
	}
	ifname := os.Getenv("KBH_INTERFACE")
	if ifname == "" {
		ifname = "lan0"
	}
	return ifname
}

func run(t *testing.T, argv ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	return strings.ReplaceAll(string(out), "\r\n", "\n"), err
}

func ok(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := run(t, argv...)
	if err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, out)
	}
	return out
}

func activeRoute(t *testing.T, dst netip.Prefix, gw netip.Addr) bool {
	t.Helper()
	rows, err := winipcfg.GetIPForwardTable2(windows.AF_UNSPEC)
	if err != nil {
		t.Fatalf("GetIpForwardTable2: %v", err)
	}
	for i := range rows {
		if rows[i].DestinationPrefix.Prefix() == dst && rows[i].NextHop.Addr() == gw {
			return true
		}
	}
	return false
}

func hasAddress(t *testing.T, p netip.Prefix) bool {
	t.Helper()
	rows, err := winipcfg.GetUnicastIPAddressTable(windows.AF_UNSPEC)
	if err != nil {
		t.Fatalf("GetUnicastIpAddressTable: %v", err)
	}
	for i := range rows {
		if rows[i].Address.Addr() == p.Addr() && int(rows[i].OnLinkPrefixLength) == p.Bits() {
			return true
		}
	}
	return false
}

func registryNames(t *testing.T) []string {
	t.Helper()
	names, err := readPersistentRoutes()
	if err != nil {
		t.Fatalf("reading PersistentRoutes: %v", err)
	}
	return names
}

func TestRouteExeReadAfterWrite(t *testing.T) {
	requireStandins(t)
	r := netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Metric: 5, Persistent: true}
	ok(t, must(t)(routeexe.AddArgv(r, 0))...)
	t.Cleanup(func() { run(t, must(t)(routeexe.DeleteArgv(r, 0))...) })
	if !activeRoute(t, r.Dst, r.Gateway) {
		t.Error("GetIpForwardTable2 does not show the route `route -p add` added")
	}
	if name := "203.0.113.0,255.255.255.0,192.0.2.1,5"; !slices.Contains(registryNames(t), name) {
		t.Errorf("PersistentRoutes lacks %s: %q", name, registryNames(t))
	}
	tbl, err := routeexe.ParsePrint(ok(t, routeexe.Print(netcfg.IPv4)...))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tbl.Rows, func(row routeexe.Row) bool {
		return row.Store == netcfg.StorePersistent && row.Dst == r.Dst && row.Gateway == r.Gateway && row.Metric == 5
	}) {
		t.Errorf("route print -4 lacks the persistent row: %+v", tbl.Rows)
	}
	ok(t, must(t)(routeexe.DeleteArgv(r, 0))...)
	if activeRoute(t, r.Dst, r.Gateway) || slices.Contains(registryNames(t), "203.0.113.0,255.255.255.0,192.0.2.1,5") {
		t.Error("route delete left the route in the active table or the registry")
	}
	out, err := run(t, "route", "add", "203.0.113.7", "mask", "255.255.255.0", "192.0.2.1")
	if err == nil || !strings.Contains(out, "(Destination & Mask) != Destination.") {
		t.Errorf("route add with host bits under the mask: err %v, output %q", err, out)
	}
}

func TestNetshAndPowerShellReadAfterWrite(t *testing.T) {
	ifname := requireStandins(t)
	a := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.99/24"), Interface: ifname}
	ok(t, must(t)(netsh.AddAddress(a))...)
	if !hasAddress(t, a.Prefix) {
		t.Error("GetUnicastIpAddressTable does not show the address netsh added")
	}
	ok(t, must(t)(netsh.DeleteAddress(a))...)
	if hasAddress(t, a.Prefix) {
		t.Error("GetUnicastIpAddressTable still shows the address netsh deleted")
	}
	r := netcfg.RouteSpec{Dst: netip.MustParsePrefix("198.18.0.0/15"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: ifname, Persistent: true}
	script, err := pwsh.NewNetRoute(r, pwsh.StoreFor(true))
	if err != nil {
		t.Fatal(err)
	}
	ok(t, pwsh.EncodedArgv(script)...)
	if !activeRoute(t, r.Dst, r.Gateway) || !slices.Contains(registryNames(t), "198.18.0.0,255.254.0.0,192.0.2.1,256") {
		t.Errorf("New-NetRoute: active %v, registry %q", activeRoute(t, r.Dst, r.Gateway), registryNames(t))
	}
	script, err = pwsh.RemoveNetRoute(r, pwsh.BothStores)
	if err != nil {
		t.Fatal(err)
	}
	ok(t, pwsh.EncodedArgv(script)...)
	if activeRoute(t, r.Dst, r.Gateway) || len(registryNames(t)) != 0 {
		t.Errorf("Remove-NetRoute: active %v, registry %q", activeRoute(t, r.Dst, r.Gateway), registryNames(t))
	}
	if out := ok(t, pwsh.Argv("(Get-Command Get-NetRoute -ErrorAction Stop).Name")...); strings.TrimSpace(out) != "Get-NetRoute" {
		t.Errorf("the NetTCPIP probe printed %q", out)
	}
	ifs, err := netsh.ParseInterfaces(ok(t, netsh.ShowInterfaces(netcfg.IPv4)...))
	if err != nil {
		t.Fatal(err)
	}
	// netsh's Idx must be the index Windows code finds for the alias.
	adapters, err := winipcfg.GetAdaptersAddresses(windows.AF_UNSPEC, winipcfg.GAAFlagIncludeAllInterfaces)
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range adapters {
		if !slices.ContainsFunc(ifs, func(i netsh.Interface) bool { return i.Name == ad.FriendlyName() && uint32(i.Idx) == ad.IfIndex }) {
			t.Errorf("GetAdaptersAddresses has %q index %d; netsh show interfaces has %+v", ad.FriendlyName(), ad.IfIndex, ifs)
		}
	}
}

func TestWevtutilAndRejections(t *testing.T) {
	requireStandins(t)
	out, err := exec.Command("wevtutil", "qe", "System", "/q:*[System[Provider[@Name='Tcpip'] and (EventID=4227)]]", "/f:xml").Output()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("wevtutil qe System: %v, %q; want no events", err, out)
	}
	out2, err := run(t, "netsh", "interface", "ipv4", "show", "joins")
	if err == nil || !strings.Contains(out2, "kbh-standin: unsupported") {
		t.Errorf("an unimplemented netsh command: %v, %q", err, out2)
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, persistentRoutesKey, registry.QUERY_VALUE)
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		t.Errorf("opening PersistentRoutes: %v", err)
	} else if err == nil {
		k.Close()
	}
}

func must(t *testing.T) func([]string, error) []string {
	return func(argv []string, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return argv
	}
}
