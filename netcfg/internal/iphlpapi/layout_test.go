package iphlpapi

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// member is one line of the Windows SDK's x64 layout of a structure the
// write procedures take: an offset, or the size when Member is "sizeof".
type member struct {
	Struct, Member string
	Value          uintptr
}

// sdkLayout is the layout both sides are pinned to: Go's mirrors
// (winipcfg's types, layout_windows_test.go) and the stand-in DLL's C
// (agent/iphlpapi, whose _Static_assert lines must say the same).
var sdkLayout = []member{
	{"NET_LUID", "sizeof", 8},
	{"SOCKADDR_INET", "sizeof", 28},
	{"SOCKADDR_INET", "si_family", 0},
	{"SOCKADDR_INET", "Ipv4.sin_port", 2},
	{"SOCKADDR_INET", "Ipv4.sin_addr", 4},
	{"SOCKADDR_INET", "Ipv6.sin6_port", 2},
	{"SOCKADDR_INET", "Ipv6.sin6_flowinfo", 4},
	{"SOCKADDR_INET", "Ipv6.sin6_addr", 8},
	{"SOCKADDR_INET", "Ipv6.sin6_scope_id", 24},
	{"IP_ADDRESS_PREFIX", "sizeof", 32},
	{"IP_ADDRESS_PREFIX", "Prefix", 0},
	{"IP_ADDRESS_PREFIX", "PrefixLength", 28},
	{"MIB_UNICASTIPADDRESS_ROW", "sizeof", 80},
	{"MIB_UNICASTIPADDRESS_ROW", "Address", 0},
	{"MIB_UNICASTIPADDRESS_ROW", "InterfaceLuid", 32},
	{"MIB_UNICASTIPADDRESS_ROW", "InterfaceIndex", 40},
	{"MIB_UNICASTIPADDRESS_ROW", "PrefixOrigin", 44},
	{"MIB_UNICASTIPADDRESS_ROW", "SuffixOrigin", 48},
	{"MIB_UNICASTIPADDRESS_ROW", "ValidLifetime", 52},
	{"MIB_UNICASTIPADDRESS_ROW", "PreferredLifetime", 56},
	{"MIB_UNICASTIPADDRESS_ROW", "OnLinkPrefixLength", 60},
	{"MIB_UNICASTIPADDRESS_ROW", "SkipAsSource", 61},
	{"MIB_UNICASTIPADDRESS_ROW", "DadState", 64},
	{"MIB_UNICASTIPADDRESS_ROW", "ScopeId", 68},
	{"MIB_UNICASTIPADDRESS_ROW", "CreationTimeStamp", 72},
	{"MIB_IPFORWARD_ROW2", "sizeof", 104},
	{"MIB_IPFORWARD_ROW2", "InterfaceLuid", 0},
	{"MIB_IPFORWARD_ROW2", "InterfaceIndex", 8},
	{"MIB_IPFORWARD_ROW2", "DestinationPrefix", 12},
	{"MIB_IPFORWARD_ROW2", "NextHop", 44},
	{"MIB_IPFORWARD_ROW2", "SitePrefixLength", 72},
	{"MIB_IPFORWARD_ROW2", "ValidLifetime", 76},
	{"MIB_IPFORWARD_ROW2", "PreferredLifetime", 80},
	{"MIB_IPFORWARD_ROW2", "Metric", 84},
	{"MIB_IPFORWARD_ROW2", "Protocol", 88},
	{"MIB_IPFORWARD_ROW2", "Loopback", 92},
	{"MIB_IPFORWARD_ROW2", "AutoconfigureAddress", 93},
	{"MIB_IPFORWARD_ROW2", "Publish", 94},
	{"MIB_IPFORWARD_ROW2", "Immortal", 95},
	{"MIB_IPFORWARD_ROW2", "Age", 96},
	{"MIB_IPFORWARD_ROW2", "Origin", 100},
}

var staticAssert = regexp.MustCompile(`_Static_assert\((?:offsetof\((\w+), ([\w.]+)\)|sizeof\((\w+)\)) == (\d+),`)

// TestDLLAssertsTheSDKLayout: the stand-in DLL's _Static_assert lines, which
// mingw-w64 checks against its SDK headers at every build, state exactly
// sdkLayout: no member missing, none extra, no number different.
func TestDLLAssertsTheSDKLayout(t *testing.T) {
	src, err := os.ReadFile("../../../agent/iphlpapi/kbh-iphlpapi.c")
	if err != nil {
		t.Fatal(err)
	}
	got := map[member]bool{}
	for _, m := range staticAssert.FindAllStringSubmatch(string(src), -1) {
		v, _ := strconv.ParseUint(m[4], 10, 64)
		x := member{m[1], m[2], uintptr(v)}
		if m[3] != "" {
			x = member{m[3], "sizeof", uintptr(v)}
		}
		got[x] = true
	}
	for _, m := range sdkLayout {
		if !got[m] {
			t.Errorf("kbh-iphlpapi.c does not assert %s.%s == %d", m.Struct, m.Member, m.Value)
		}
		delete(got, m)
	}
	for m := range got {
		t.Errorf("kbh-iphlpapi.c asserts %s.%s == %d, which sdkLayout lacks or states otherwise", m.Struct, m.Member, m.Value)
	}
}
