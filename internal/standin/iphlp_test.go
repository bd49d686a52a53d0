package standin

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/internal/standin/wire"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/winreg"
)

// TestLegacyIPHelper runs kbharness's P/Invoke scripts: AddIPAddress adds
// to the kernel and hands out an NTE context, DeleteIPAddress takes it
// back, and the errors read as PowerShell prints a Win32Exception.
func TestLegacyIPHelper(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	if out := strings.TrimSpace(c.ok(pwsh.LegacyProbeArgv()...)); out != "3" {
		t.Errorf("GetNumberOfInterfaces printed %q, want 3", out)
	}
	add := must(pwsh.LegacyAddArgv(netip.MustParsePrefix("192.0.2.21/24"), 2))
	nte, _, err := pwsh.ParseLegacyAdd(c.ok(add...))
	if err != nil {
		t.Fatal(err)
	}
	if !k.hasAddr("192.0.2.21/24", 2) {
		t.Fatal("AddIPAddress: the kernel lacks 192.0.2.21/24 on lan0")
	}
	if len(c.registry) != 0 {
		t.Errorf("AddIPAddress wrote the persistent store: %q", c.registry)
	}
	if r := c.run(add...); r.exit != 1 || !strings.Contains(r.stderr, `Exception calling "Add" with "3" argument(s): "The workgroup or domain name is already in use by another computer on the network"`) {
		t.Errorf("adding it twice: exit %d, stderr %q", r.exit, r.stderr)
	}
	if r := c.run(must(pwsh.LegacyAddArgv(netip.MustParsePrefix("192.0.2.22/24"), 99))...); r.exit != 1 || !strings.Contains(r.stderr, "The specified network resource or device is no longer available") {
		t.Errorf("adding to interface 99: exit %d, stderr %q", r.exit, r.stderr)
	}
	c.ok(pwsh.LegacyDeleteArgv(nte)...)
	if k.hasAddr("192.0.2.21/24", 2) {
		t.Fatal("DeleteIPAddress: 192.0.2.21/24 still there")
	}
	if r := c.run(pwsh.LegacyDeleteArgv(nte)...); r.exit != 1 {
		t.Errorf("deleting a stale NTE context: exit %d, want 1", r.exit)
	}
	if r := c.run(pwsh.EncodedArgv("[KbhIpHlp]::Add('192.0.2.23', '255.255.255.0', 2)")...); r.exit != 1 || !strings.Contains(r.stderr, "unsupported") {
		t.Errorf("a script without kbharness's class: exit %d, stderr %q", r.exit, r.stderr)
	}
}

// TestCmdAndOS: cmd /c runs the stand-ins and answers ver; the 2008 R2
// persona has PowerShell 2.0 and no NetTCPIP cmdlets.
func TestCmdAndOS(t *testing.T) {
	for _, tc := range []struct {
		os, ver, ps string
		netTCPIP    bool
	}{{"2019", "10.0.17763.1", "5.1.17763.1", true}, {"2008r2", "6.1.7601", "2.0", false}} {
		s, err := NewServer(newFakeKernel(), Options{OS: tc.os})
		if err != nil {
			t.Fatal(err)
		}
		c := &client{t: t, s: s}
		if out := c.ok("cmd", "/c", "ver"); !strings.Contains(out, "Microsoft Windows [Version "+tc.ver+"]") {
			t.Errorf("%s: ver printed %q", tc.os, out)
		}
		if out := c.ok("cmd", "/c", "route", "print", "-4"); !strings.Contains(out, "IPv4 Route Table") {
			t.Errorf("%s: cmd /c route print printed %q", tc.os, out)
		}
		if r := c.run("cmd", "/c", "uname", "-sr"); r.exit == 0 || !strings.Contains(r.stderr, "'uname' is not recognized") {
			t.Errorf("%s: cmd /c uname: exit %d, stderr %q", tc.os, r.exit, r.stderr)
		}
		if out := strings.TrimSpace(c.ok(pwsh.EncodedArgv("$PSVersionTable.PSVersion.ToString()")...)); out != tc.ps {
			t.Errorf("%s: PowerShell version %q, want %q", tc.os, out, tc.ps)
		}
		r := c.run(pwsh.Argv("(Get-Command Get-NetRoute -ErrorAction Stop).Name")...)
		if got := r.exit == 0 && strings.Contains(r.stdout, "Get-NetRoute"); got != tc.netTCPIP {
			t.Errorf("%s: Get-Command Get-NetRoute: exit %d, stdout %q, stderr %q", tc.os, r.exit, r.stdout, r.stderr)
		}
		if !tc.netTCPIP && !strings.Contains(r.stderr, "The term 'Get-NetRoute' is not recognized") {
			t.Errorf("%s: Get-Command Get-NetRoute stderr %q", tc.os, r.stderr)
		}
	}
	if _, err := NewServer(newFakeKernel(), Options{OS: "nt4"}); err == nil || !strings.Contains(err.Error(), `unknown OS "nt4"`) {
		t.Errorf("NewServer with OS nt4: %v", err)
	}
}

// hasAddr reports whether link idx holds prefix p.
func (k *fakeKernel) hasAddr(p string, idx int) bool {
	for _, a := range k.addrs {
		if a.Prefix == netip.MustParsePrefix(p) && a.Index == idx {
			return true
		}
	}
	return false
}

// TestRegQuery: the store's IPv4 persistent routes read back by reg query
// and parsed by winreg, as route print shows them.
func TestRegQuery(t *testing.T) {
	c := newClient(t, newFakeKernel())
	c.ok("route", "-p", "add", "198.51.100.0", "mask", "255.255.255.0", "192.0.2.1", "metric", "5")
	c.ok("route", "-p", "add", "0.0.0.0", "mask", "0.0.0.0", "192.0.2.1")
	names, err := winreg.ParseQuery(c.ok(winreg.QueryArgv()...))
	if want := []string{"0.0.0.0,0.0.0.0,192.0.2.1,-1", "198.51.100.0,255.255.255.0,192.0.2.1,5"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("reg query: %q, %v; want %q", names, err, want)
	}
	if r := c.run("reg", "add", `HKLM\Software\x`); r.exit == 0 {
		t.Error("reg add: exit 0, want unsupported")
	}
}

// TestIPHlpAPIWire is what agent/iphlpapi (the stand-in DLL) sends: the
// exit status is the Win32 error code the DLL returns.
func TestIPHlpAPIWire(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	r := c.run("iphlpapi", "AddIPAddress", "192.0.2.21", "255.255.255.0", "2")
	nte, _, err := pwsh.ParseLegacyAdd(r.stdout)
	if r.exit != 0 || err != nil || !k.hasAddr("192.0.2.21/24", 2) {
		t.Fatalf("AddIPAddress: exit %d, %q, %v", r.exit, r.stdout, err)
	}
	for _, tc := range []struct {
		argv []string
		want int
	}{
		{[]string{"iphlpapi", "AddIPAddress", "192.0.2.21", "255.255.255.0", "2"}, 1221}, // ERROR_DUP_DOMAINNAME: the address exists
		{[]string{"iphlpapi", "AddIPAddress", "192.0.2.22", "255.255.255.0", "99"}, 55},  // ERROR_DEV_NOT_EXIST: no interface 99
		{[]string{"iphlpapi", "AddIPAddress", "192.0.2.22", "255.0.255.0", "2"}, 87},     // ERROR_INVALID_PARAMETER: not a mask
		{[]string{"iphlpapi", "AddIPAddress", "127.0.0.9", "255.0.0.0", "2"}, 87},        // a loopback address on a non-loopback interface
		{[]string{"iphlpapi", "AddIPAddress", "192.0.2.255", "255.255.255.0", "2"}, 31},  // ERROR_GEN_FAILURE: the subnet broadcast
		{[]string{"iphlpapi", "DeleteIPAddress", fmt.Sprint(nte)}, 0},
		{[]string{"iphlpapi", "DeleteIPAddress", fmt.Sprint(nte)}, 87}, // ERROR_INVALID_PARAMETER: no such NTE context
	} {
		if r := c.run(tc.argv...); r.exit != tc.want {
			t.Errorf("%q: exit %d, want %d", tc.argv, r.exit, tc.want)
		}
	}
	if k.hasAddr("192.0.2.21/24", 2) {
		t.Error("DeleteIPAddress left the address")
	}
}

// TestIPHlpAPIWireVistaWrites: the winipcfg procedures as the DLL sends
// them, each with the Win32 code Windows documents for the case.
func TestIPHlpAPIWireVistaWrites(t *testing.T) {
	k := newFakeKernel()
	c := newClient(t, k)
	route := func() bool {
		for _, r := range k.routes {
			if r.Dst == netip.MustParsePrefix("203.0.113.0/24") && r.Gateway == netip.MustParseAddr("192.0.2.1") && r.Index == 2 && r.Metric == 7 {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		argv []string
		want int
		then func() bool
	}{
		{[]string{"CreateUnicastIpAddressEntry", "192.0.2.31/24", "2"}, 0, func() bool { return k.hasAddr("192.0.2.31/24", 2) }},
		{[]string{"CreateUnicastIpAddressEntry", "192.0.2.31/24", "2"}, 5010, nil},  // ERROR_OBJECT_ALREADY_EXISTS
		{[]string{"CreateUnicastIpAddressEntry", "192.0.2.32/24", "99"}, 1168, nil}, // ERROR_NOT_FOUND: no interface 99
		{[]string{"CreateUnicastIpAddressEntry", "192.0.2.32/99", "2"}, 87, nil},    // ERROR_INVALID_PARAMETER
		{[]string{"CreateUnicastIpAddressEntry", "2001:db8::31/64", "2"}, 0, func() bool { return k.hasAddr("2001:db8::31/64", 2) }},
		{[]string{"CreateIpForwardEntry2", "203.0.113.0/24", "192.0.2.1", "2", "7"}, 0, route},
		{[]string{"CreateIpForwardEntry2", "203.0.113.0/24", "192.0.2.1", "2", "7"}, 5010, nil},
		{[]string{"CreateIpForwardEntry2", "203.0.113.1/24", "192.0.2.1", "2", "7"}, 87, nil},   // host bits set
		{[]string{"CreateIpForwardEntry2", "203.0.113.0/24", "2001:db8::1", "2", "7"}, 87, nil}, // next hop of another family
		{[]string{"CreateIpForwardEntry2", "203.0.113.0/24", "192.0.2.1", "99", "7"}, 1168, nil},
		{[]string{"DeleteIpForwardEntry2", "203.0.113.0/24", "192.0.2.1", "2"}, 0, func() bool { return !route() }},
		{[]string{"DeleteIpForwardEntry2", "203.0.113.0/24", "192.0.2.1", "2"}, 1168, nil},
		{[]string{"DeleteUnicastIpAddressEntry", "192.0.2.31", "2"}, 0, func() bool { return !k.hasAddr("192.0.2.31/24", 2) }},
		{[]string{"DeleteUnicastIpAddressEntry", "192.0.2.31", "2"}, 1168, nil},
		{[]string{"DeleteUnicastIpAddressEntry", "2001:db8::31", "2"}, 0, func() bool { return !k.hasAddr("2001:db8::31/64", 2) }},
	} {
		if r := c.run(append([]string{"iphlpapi"}, tc.argv...)...); r.exit != tc.want {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.argv, r.exit, tc.want, r.stderr)
		} else if tc.then != nil && !tc.then() {
			t.Errorf("%q: the kernel does not show the change", tc.argv)
		}
	}
	if len(c.registry) != 0 {
		t.Errorf("the Vista+ writes touched the persistent store: %q", c.registry)
	}
}

// TestNoRegistryClient: a request of the stand-in DLL (NoRegistry) neither
// seeds the persistent store nor gets registry operations back; the next
// client that reads the registry still seeds it.
func TestNoRegistryClient(t *testing.T) {
	s, err := NewServer(newFakeKernel(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Handle(wire.Request{Command: "iphlpapi", Args: []string{"DeleteIPAddress", "7"}, NoRegistry: true})
	if r.Exit != win32InvalidParameter || len(r.Registry) != 0 {
		t.Errorf("DLL request: exit %d, registry ops %v; want %d and none", r.Exit, r.Registry, win32InvalidParameter)
	}
	seeded := "198.51.100.0,255.255.255.0,192.0.2.1,5"
	r = s.Handle(wire.Request{Command: "reg", Args: winreg.QueryArgv()[1:], Registry: []string{seeded}})
	if names, err := winreg.ParseQuery(r.Stdout); err != nil || !slices.Equal(names, []string{seeded}) {
		t.Errorf("after the DLL's request, reg query shows %q (%v); want the seeded %q", names, err, seeded)
	}
}
