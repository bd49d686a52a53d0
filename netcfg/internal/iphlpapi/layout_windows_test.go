package iphlpapi

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"
)

// TestGoMirrorsHaveTheSDKLayout: the Go types the write procedures are
// handed (winipcfg's rows; x/sys/windows' socket addresses, which
// winipcfg's RawSockaddrInet is read as) lie as sdkLayout says. 64-bit
// only: the table is the SDK's x64 layout.
func TestGoMirrorsHaveTheSDKLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sdkLayout is the x64 layout")
	}
	var (
		u   winipcfg.MibUnicastIPAddressRow
		f   winipcfg.MibIPforwardRow2
		p   winipcfg.IPAddressPrefix
		sa  winipcfg.RawSockaddrInet
		sa4 windows.RawSockaddrInet4
		sa6 windows.RawSockaddrInet6
	)
	goLayout := map[[2]string]uintptr{
		{"NET_LUID", "sizeof"}:                             unsafe.Sizeof(winipcfg.LUID(0)),
		{"SOCKADDR_INET", "sizeof"}:                        unsafe.Sizeof(sa),
		{"SOCKADDR_INET", "si_family"}:                     unsafe.Offsetof(sa.Family),
		{"SOCKADDR_INET", "Ipv4.sin_port"}:                 unsafe.Offsetof(sa4.Port),
		{"SOCKADDR_INET", "Ipv4.sin_addr"}:                 unsafe.Offsetof(sa4.Addr),
		{"SOCKADDR_INET", "Ipv6.sin6_port"}:                unsafe.Offsetof(sa6.Port),
		{"SOCKADDR_INET", "Ipv6.sin6_flowinfo"}:            unsafe.Offsetof(sa6.Flowinfo),
		{"SOCKADDR_INET", "Ipv6.sin6_addr"}:                unsafe.Offsetof(sa6.Addr),
		{"SOCKADDR_INET", "Ipv6.sin6_scope_id"}:            unsafe.Offsetof(sa6.Scope_id),
		{"IP_ADDRESS_PREFIX", "sizeof"}:                    unsafe.Sizeof(p),
		{"IP_ADDRESS_PREFIX", "Prefix"}:                    unsafe.Offsetof(p.RawPrefix),
		{"IP_ADDRESS_PREFIX", "PrefixLength"}:              unsafe.Offsetof(p.PrefixLength),
		{"MIB_UNICASTIPADDRESS_ROW", "sizeof"}:             unsafe.Sizeof(u),
		{"MIB_UNICASTIPADDRESS_ROW", "Address"}:            unsafe.Offsetof(u.Address),
		{"MIB_UNICASTIPADDRESS_ROW", "InterfaceLuid"}:      unsafe.Offsetof(u.InterfaceLUID),
		{"MIB_UNICASTIPADDRESS_ROW", "InterfaceIndex"}:     unsafe.Offsetof(u.InterfaceIndex),
		{"MIB_UNICASTIPADDRESS_ROW", "PrefixOrigin"}:       unsafe.Offsetof(u.PrefixOrigin),
		{"MIB_UNICASTIPADDRESS_ROW", "SuffixOrigin"}:       unsafe.Offsetof(u.SuffixOrigin),
		{"MIB_UNICASTIPADDRESS_ROW", "ValidLifetime"}:      unsafe.Offsetof(u.ValidLifetime),
		{"MIB_UNICASTIPADDRESS_ROW", "PreferredLifetime"}:  unsafe.Offsetof(u.PreferredLifetime),
		{"MIB_UNICASTIPADDRESS_ROW", "OnLinkPrefixLength"}: unsafe.Offsetof(u.OnLinkPrefixLength),
		{"MIB_UNICASTIPADDRESS_ROW", "SkipAsSource"}:       unsafe.Offsetof(u.SkipAsSource),
		{"MIB_UNICASTIPADDRESS_ROW", "DadState"}:           unsafe.Offsetof(u.DadState),
		{"MIB_UNICASTIPADDRESS_ROW", "ScopeId"}:            unsafe.Offsetof(u.ScopeID),
		{"MIB_UNICASTIPADDRESS_ROW", "CreationTimeStamp"}:  unsafe.Offsetof(u.CreationTimeStamp),
		{"MIB_IPFORWARD_ROW2", "sizeof"}:                   unsafe.Sizeof(f),
		{"MIB_IPFORWARD_ROW2", "InterfaceLuid"}:            unsafe.Offsetof(f.InterfaceLUID),
		{"MIB_IPFORWARD_ROW2", "InterfaceIndex"}:           unsafe.Offsetof(f.InterfaceIndex),
		{"MIB_IPFORWARD_ROW2", "DestinationPrefix"}:        unsafe.Offsetof(f.DestinationPrefix),
		{"MIB_IPFORWARD_ROW2", "NextHop"}:                  unsafe.Offsetof(f.NextHop),
		{"MIB_IPFORWARD_ROW2", "SitePrefixLength"}:         unsafe.Offsetof(f.SitePrefixLength),
		{"MIB_IPFORWARD_ROW2", "ValidLifetime"}:            unsafe.Offsetof(f.ValidLifetime),
		{"MIB_IPFORWARD_ROW2", "PreferredLifetime"}:        unsafe.Offsetof(f.PreferredLifetime),
		{"MIB_IPFORWARD_ROW2", "Metric"}:                   unsafe.Offsetof(f.Metric),
		{"MIB_IPFORWARD_ROW2", "Protocol"}:                 unsafe.Offsetof(f.Protocol),
		{"MIB_IPFORWARD_ROW2", "Loopback"}:                 unsafe.Offsetof(f.Loopback),
		{"MIB_IPFORWARD_ROW2", "AutoconfigureAddress"}:     unsafe.Offsetof(f.AutoconfigureAddress),
		{"MIB_IPFORWARD_ROW2", "Publish"}:                  unsafe.Offsetof(f.Publish),
		{"MIB_IPFORWARD_ROW2", "Immortal"}:                 unsafe.Offsetof(f.Immortal),
		{"MIB_IPFORWARD_ROW2", "Age"}:                      unsafe.Offsetof(f.Age),
		{"MIB_IPFORWARD_ROW2", "Origin"}:                   unsafe.Offsetof(f.Origin),
	}
	for _, m := range sdkLayout {
		got, ok := goLayout[[2]string{m.Struct, m.Member}]
		switch {
		case !ok:
			t.Errorf("no Go mirror of %s.%s", m.Struct, m.Member)
		case got != m.Value:
			t.Errorf("%s.%s: Go has %d, the SDK %d", m.Struct, m.Member, got, m.Value)
		}
	}
	if len(goLayout) != len(sdkLayout) {
		t.Errorf("goLayout has %d members, sdkLayout %d", len(goLayout), len(sdkLayout))
	}
}
