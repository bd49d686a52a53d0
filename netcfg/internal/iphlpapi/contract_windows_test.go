package iphlpapi

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

// These tests call the write procedures as kbharness does and read the
// result back through Wine's own iphlpapi (GetUnicastIpAddressTable,
// GetIpForwardTable2, as winipcfg does). .ci/wine/suites.sh runs them under
// Wine with the stand-in DLL (WritesEnv) and its server; elsewhere they
// skip, for they change the host.

// requireStandIn returns the lab interface's index and LUID.
func requireStandIn(t *testing.T) (uint32, winipcfg.LUID) {
	t.Helper()
	if os.Getenv(WritesEnv) == "" || os.Getenv("KBH_STANDIN_ADDR") == "" {
		t.Skipf("%s or KBH_STANDIN_ADDR unset: these change the host; .ci/wine/suites.sh runs them with the stand-in DLL", WritesEnv)
	}
	name := os.Getenv("KBH_INTERFACE")
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatalf("KBH_INTERFACE=%q: %v", name, err)
	}
	luid, err := winipcfg.LUIDFromIndex(uint32(ifi.Index))
	if err != nil {
		t.Fatal(err)
	}
	return uint32(ifi.Index), luid
}

func hasAddress(t *testing.T, luid winipcfg.LUID, p netip.Prefix) bool {
	t.Helper()
	rows, err := winipcfg.GetUnicastIPAddressTable(windows.AF_UNSPEC)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.InterfaceLUID == luid && r.Address.Addr() == p.Addr() && int(r.OnLinkPrefixLength) == p.Bits() {
			return true
		}
	}
	return false
}

func hasRoute(t *testing.T, luid winipcfg.LUID, dst netip.Prefix, hop netip.Addr) bool {
	t.Helper()
	rows, err := winipcfg.GetIPForwardTable2(windows.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.InterfaceLUID == luid && r.DestinationPrefix.Prefix() == dst && r.NextHop.Addr() == hop {
			return true
		}
	}
	return false
}

func unicastRow(luid winipcfg.LUID, p netip.Prefix) *winipcfg.MibUnicastIPAddressRow {
	row := &winipcfg.MibUnicastIPAddressRow{}
	if err := InitializeUnicastIpAddressEntry(row); err != nil {
		panic(err)
	}
	row.InterfaceLUID = luid
	if err := row.Address.SetAddr(p.Addr()); err != nil {
		panic(err)
	}
	row.OnLinkPrefixLength = uint8(p.Bits())
	return row
}

func forwardRow(luid winipcfg.LUID, dst netip.Prefix, hop netip.Addr) *winipcfg.MibIPforwardRow2 {
	row := &winipcfg.MibIPforwardRow2{}
	if err := InitializeIpForwardEntry(row); err != nil {
		panic(err)
	}
	row.InterfaceLUID = luid
	if err := row.DestinationPrefix.SetPrefix(dst); err != nil {
		panic(err)
	}
	if err := row.NextHop.SetAddr(hop); err != nil {
		panic(err)
	}
	return row
}

func wantErrno(t *testing.T, what string, err error, want windows.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %d (%v)", what, err, uint32(want), want)
	}
}

// TestInitializeDefaults: the rows the Initialize* procedures hand back
// are the documented defaults.
func TestInitializeDefaults(t *testing.T) {
	requireStandIn(t)
	var u winipcfg.MibUnicastIPAddressRow
	u.InterfaceIndex, u.ScopeID = 9, 9 // "all other members set to zero"
	if err := InitializeUnicastIpAddressEntry(&u); err != nil {
		t.Fatal(err)
	}
	if u.PrefixOrigin != winipcfg.PrefixOriginUnchanged || u.SuffixOrigin != winipcfg.SuffixOriginUnchanged ||
		u.ValidLifetime != 0xffffffff || u.PreferredLifetime != 0xffffffff || u.OnLinkPrefixLength <= 128 ||
		u.SkipAsSource || u.InterfaceIndex != 0 || u.ScopeID != 0 {
		t.Errorf("InitializeUnicastIpAddressEntry: %+v", u)
	}
	var f winipcfg.MibIPforwardRow2
	f.Age = 9
	if err := InitializeIpForwardEntry(&f); err != nil {
		t.Fatal(err)
	}
	if f.ValidLifetime != 0xffffffff || f.PreferredLifetime != 0xffffffff || !f.Loopback || !f.AutoconfigureAddress ||
		!f.Publish || !f.Immortal || f.SitePrefixLength <= 128 || f.Age != 0 {
		t.Errorf("InitializeIpForwardEntry: %+v", f)
	}
}

// TestUnicastWritesReadBackByWine: CreateUnicastIpAddressEntry and
// DeleteUnicastIpAddressEntry by LUID and by index, both families, as
// GetUnicastIpAddressTable then shows them, with the documented errors.
func TestUnicastWritesReadBackByWine(t *testing.T) {
	idx, luid := requireStandIn(t)
	for _, p := range []netip.Prefix{netip.MustParsePrefix("192.0.2.201/24"), netip.MustParsePrefix("2001:db8::201/64")} {
		row := unicastRow(luid, p)
		if err := CreateUnicastIpAddressEntry(row); err != nil {
			t.Fatalf("CreateUnicastIpAddressEntry %s: %v", p, err)
		}
		t.Cleanup(func() { _ = DeleteUnicastIpAddressEntry(unicastRow(luid, p)) })
		if !hasAddress(t, luid, p) {
			t.Errorf("after CreateUnicastIpAddressEntry, Wine's GetUnicastIpAddressTable lacks %s", p)
		}
		wantErrno(t, "creating "+p.String()+" twice", CreateUnicastIpAddressEntry(row), windows.ERROR_OBJECT_ALREADY_EXISTS)
		byIndex := unicastRow(0, p)
		byIndex.InterfaceIndex = idx
		if err := DeleteUnicastIpAddressEntry(byIndex); err != nil {
			t.Fatalf("DeleteUnicastIpAddressEntry %s by interface index: %v", p, err)
		}
		if hasAddress(t, luid, p) {
			t.Errorf("after DeleteUnicastIpAddressEntry, Wine's GetUnicastIpAddressTable still has %s", p)
		}
		wantErrno(t, "deleting "+p.String()+" again", DeleteUnicastIpAddressEntry(row), windows.ERROR_NOT_FOUND)
	}
	illegal := unicastRow(luid, netip.MustParsePrefix("192.0.2.202/24"))
	illegal.OnLinkPrefixLength = 255 // what InitializeUnicastIpAddressEntry leaves
	wantErrno(t, "OnLinkPrefixLength 255", CreateUnicastIpAddressEntry(illegal), windows.ERROR_INVALID_PARAMETER)
	wantErrno(t, "no interface", CreateUnicastIpAddressEntry(unicastRow(0, netip.MustParsePrefix("192.0.2.202/24"))), windows.ERROR_INVALID_PARAMETER)
	noSuch := unicastRow(0, netip.MustParsePrefix("192.0.2.202/24"))
	noSuch.InterfaceIndex = 9999
	wantErrno(t, "interface 9999", CreateUnicastIpAddressEntry(noSuch), windows.ERROR_NOT_FOUND)
}

// TestForwardWritesReadBackByWine: CreateIpForwardEntry2 adds an active
// route GetIpForwardTable2 then lists; DeleteIpForwardEntry2 removes it.
func TestForwardWritesReadBackByWine(t *testing.T) {
	_, luid := requireStandIn(t)
	dst, hop := netip.MustParsePrefix("203.0.113.128/25"), netip.MustParseAddr("192.0.2.1")
	row := forwardRow(luid, dst, hop)
	row.Metric = 7
	if err := CreateIpForwardEntry2(row); err != nil {
		t.Fatalf("CreateIpForwardEntry2: %v", err)
	}
	t.Cleanup(func() { _ = DeleteIpForwardEntry2(forwardRow(luid, dst, hop)) })
	if !hasRoute(t, luid, dst, hop) {
		t.Errorf("after CreateIpForwardEntry2, Wine's GetIpForwardTable2 lacks %s via %s", dst, hop)
	}
	wantErrno(t, "creating it twice", CreateIpForwardEntry2(row), windows.ERROR_OBJECT_ALREADY_EXISTS)
	if err := DeleteIpForwardEntry2(forwardRow(luid, dst, hop)); err != nil {
		t.Fatalf("DeleteIpForwardEntry2: %v", err)
	}
	if hasRoute(t, luid, dst, hop) {
		t.Errorf("after DeleteIpForwardEntry2, Wine's GetIpForwardTable2 still lists %s via %s", dst, hop)
	}
	wantErrno(t, "deleting it again", DeleteIpForwardEntry2(row), windows.ERROR_NOT_FOUND)
	v6hop := forwardRow(luid, dst, netip.MustParseAddr("2001:db8::1"))
	wantErrno(t, "an IPv6 next hop for an IPv4 destination", CreateIpForwardEntry2(v6hop), windows.ERROR_INVALID_PARAMETER)
}

// TestLegacyNTEReadBackByWine: AddIPAddress hands out an NTE context that
// DeleteIPAddress takes back; Wine's table shows the address in between.
func TestLegacyNTEReadBackByWine(t *testing.T) {
	idx, luid := requireStandIn(t)
	p := netip.MustParsePrefix("192.0.2.203/24")
	var nte, inst uint32
	if err := AddIPAddress(IPv4ToIPAddr(p.Addr()), MaskToIPAddr(p.Bits()), idx, &nte, &inst); err != nil {
		t.Fatalf("AddIPAddress: %v", err)
	}
	t.Cleanup(func() { _ = DeleteIPAddress(nte) })
	if !hasAddress(t, luid, p) {
		t.Errorf("after AddIPAddress, Wine's GetUnicastIpAddressTable lacks %s", p)
	}
	wantErrno(t, "AddIPAddress twice", AddIPAddress(IPv4ToIPAddr(p.Addr()), MaskToIPAddr(p.Bits()), idx, &nte, &inst), windows.ERROR_DUP_DOMAINNAME)
	wantErrno(t, "AddIPAddress on interface 9999", AddIPAddress(IPv4ToIPAddr(p.Addr()), MaskToIPAddr(p.Bits()), 9999, &nte, &inst), windows.ERROR_DEV_NOT_EXIST)
	wantErrno(t, "AddIPAddress without an NTE context", AddIPAddress(IPv4ToIPAddr(p.Addr()), MaskToIPAddr(p.Bits()), idx, nil, &inst), windows.ERROR_INVALID_PARAMETER)
	if err := DeleteIPAddress(nte); err != nil {
		t.Fatalf("DeleteIPAddress(%d): %v", nte, err)
	}
	if hasAddress(t, luid, p) {
		t.Errorf("after DeleteIPAddress, Wine's GetUnicastIpAddressTable still has %s", p)
	}
	wantErrno(t, "DeleteIPAddress of a stale NTE context", DeleteIPAddress(nte), windows.ERROR_INVALID_PARAMETER)
}

// TestAddIPAddressOfAnAddressAnotherHostHolds: Vista and later add an
// address another host on the link already holds, in DAD state
// Duplicate, and AddIPAddress answers NO_ERROR. The lab's gateway holds
// 192.0.2.1. Wine's GetUnicastIpAddressTable reports every address as
// Preferred, so the state is read where Windows also shows it:
// Get-NetIPAddress's AddressState (the PowerShell stand-in).
func TestAddIPAddressOfAnAddressAnotherHostHolds(t *testing.T) {
	idx, luid := requireStandIn(t)
	p := netip.MustParsePrefix("192.0.2.1/24")
	var nte, inst uint32
	if err := AddIPAddress(IPv4ToIPAddr(p.Addr()), MaskToIPAddr(p.Bits()), idx, &nte, &inst); err != nil {
		t.Fatalf("AddIPAddress of %s, which the gateway holds: %v, want NO_ERROR", p, err)
	}
	t.Cleanup(func() { _ = DeleteIPAddress(nte) })
	if !hasAddress(t, luid, p) {
		t.Errorf("after AddIPAddress, Wine's GetUnicastIpAddressTable lacks %s", p)
	}
	argv := pwsh.EncodedArgv(pwsh.GetNetIPAddressJSON(pwsh.BothStores))
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		t.Fatalf("Get-NetIPAddress: %v", err)
	}
	addrs, err := pwsh.ParseAddressesJSON(string(out), netcfg.StoreActive)
	if err != nil {
		t.Fatal(err)
	}
	state := "missing"
	for _, a := range addrs {
		if a.Prefix == p {
			state = a.AddressState
		}
	}
	if state != "Duplicate" {
		t.Errorf("%s: AddressState %s, want Duplicate", p, state)
	}
	if err := DeleteIPAddress(nte); err != nil {
		t.Fatalf("DeleteIPAddress: %v", err)
	}
}

// TestNotElevated: on a thread impersonating the process's linked
// (filtered, not elevated) token, AddIPAddress answers
// ERROR_INVALID_HANDLE and the others ERROR_ACCESS_DENIED, as their pages
// document, and nothing changes.
func TestNotElevated(t *testing.T) {
	idx, luid := requireStandIn(t)
	tok := windows.GetCurrentProcessToken()
	if !tok.IsElevated() {
		t.Fatal("the test process itself is not elevated")
	}
	var self windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_QUERY, &self); err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	limited, err := self.GetLinkedToken()
	if err != nil {
		t.Fatalf("the linked token: %v", err)
	}
	defer limited.Close()
	if limited.IsElevated() {
		t.Fatal("the linked token is elevated too")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := windows.SetThreadToken(nil, limited); err != nil {
		t.Fatal(err)
	}
	defer windows.RevertToSelf()
	p := netip.MustParsePrefix("192.0.2.204/24")
	var nte, inst uint32
	wantErrno(t, "AddIPAddress", AddIPAddress(IPv4ToIPAddr(p.Addr()), MaskToIPAddr(p.Bits()), idx, &nte, &inst), windows.ERROR_INVALID_HANDLE)
	wantErrno(t, "DeleteIPAddress", DeleteIPAddress(1), windows.ERROR_ACCESS_DENIED)
	wantErrno(t, "CreateUnicastIpAddressEntry", CreateUnicastIpAddressEntry(unicastRow(luid, p)), windows.ERROR_ACCESS_DENIED)
	wantErrno(t, "DeleteUnicastIpAddressEntry", DeleteUnicastIpAddressEntry(unicastRow(luid, p)), windows.ERROR_ACCESS_DENIED)
	route := forwardRow(luid, netip.MustParsePrefix("203.0.113.0/25"), netip.MustParseAddr("192.0.2.1"))
	wantErrno(t, "CreateIpForwardEntry2", CreateIpForwardEntry2(route), windows.ERROR_ACCESS_DENIED)
	wantErrno(t, "DeleteIpForwardEntry2", DeleteIpForwardEntry2(route), windows.ERROR_ACCESS_DENIED)
	if hasAddress(t, luid, p) {
		t.Errorf("%s was added without elevation", p)
	}
}
