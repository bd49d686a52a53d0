package winhost

import (
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net"
	"net/netip"

	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"
)

// routeFromRow converts a MIB_IPFORWARD_ROW2 of the active table. Metric is
// the route's own metric; Windows adds the interface metric to it when it
// chooses a route (the sum is what `route print` shows).
func routeFromRow(row *winipcfg.MibIPforwardRow2, names map[uint32]string) netcfg.Route {
	r := netcfg.Route{
		Dst:       row.DestinationPrefix.Prefix(),
		Interface: names[row.InterfaceIndex],
		Metric:    int(row.Metric),
		Protocol:  protocolName(row.Protocol),
		Store:     netcfg.StoreActive,
	}
	if gw := row.NextHop.Addr(); gw.IsValid() && !gw.IsUnspecified() {
		r.Gateway = gw
	}
	return r
}

// protocolName names NL_ROUTE_PROTOCOL values like the Protocol column of
// Get-NetRoute, lower-cased: CreateIpForwardEntry2 and route.exe write
// "netmgmt", the stack's own subnet and host routes are "local".
func protocolName(p winipcfg.RouteProtocol) string {
	switch p {
	case winipcfg.RouteProtocolOther:
		return "other"
	case winipcfg.RouteProtocolLocal:
		return "local"
	case winipcfg.RouteProtocolNetMgmt:
		return "netmgmt"
	case winipcfg.RouteProtocolIcmp:
		return "icmp"
	case winipcfg.RouteProtocolRip:
		return "rip"
	case winipcfg.RouteProtocolOspf:
		return "ospf"
	case winipcfg.RouteProtocolBgp:
		return "bgp"
	case winipcfg.RouteProtocolDHCP:
		return "dhcp"
	case winipcfg.RouteProtocolNTAutostatic:
		return "autostatic"
	case winipcfg.RouteProtocolNTStatic:
		return "static"
	case winipcfg.RouteProtocolNTStaticNonDOD:
		return "static-non-dod"
	}
	return fmt.Sprintf("proto-%d", p)
}

// addressFromRow converts a MIB_UNICASTIPADDRESS_ROW.
func addressFromRow(row *winipcfg.MibUnicastIPAddressRow, names map[uint32]string) netcfg.Address {
	a := netcfg.Address{
		Prefix:    netip.PrefixFrom(row.Address.Addr().WithZone(""), int(row.OnLinkPrefixLength)),
		Interface: names[row.InterfaceIndex],
		Origin:    originName(row.PrefixOrigin, row.SuffixOrigin),
	}
	switch row.DadState {
	case winipcfg.DadStateTentative:
		a.Flags |= netcfg.AddrTentative
	case winipcfg.DadStateDuplicate:
		a.Flags |= netcfg.AddrDuplicate
	case winipcfg.DadStateDeprecated:
		a.Flags |= netcfg.AddrDeprecated
	}
	return a
}

// originName names an address's origin like Get-NetIPAddress's
// PrefixOrigin, with the suffix origin where it says more (link-layer,
// random).
func originName(prefix winipcfg.PrefixOrigin, suffix winipcfg.SuffixOrigin) string {
	switch suffix {
	case winipcfg.SuffixOriginLinkLayerAddress:
		return "link-layer"
	case winipcfg.SuffixOriginRandom:
		return "random"
	}
	switch prefix {
	case winipcfg.PrefixOriginManual:
		return "manual"
	case winipcfg.PrefixOriginWellKnown:
		return "well-known"
	case winipcfg.PrefixOriginDHCP:
		return "dhcp"
	case winipcfg.PrefixOriginRouterAdvertisement:
		return "router-advertisement"
	}
	return "other"
}

// interfaceFromAdapter converts an IP_ADAPTER_ADDRESSES entry; its alias
// (FriendlyName, "Ethernet 2") is the interface name everywhere in netcfg.
func interfaceFromAdapter(a *winipcfg.IPAdapterAddresses) netcfg.Interface {
	i := netcfg.Interface{
		Index: int(adapterIndex(a)),
		Name:  a.FriendlyName(),
		Up:    a.OperStatus == winipcfg.IfOperStatusUp,
		MTU:   int(a.MTU),
	}
	if mac := a.PhysicalAddress(); len(mac) > 0 {
		i.MAC = net.HardwareAddr(mac).String()
	}
	return i
}

// adapterIndex is the adapter's interface index: IfIndex, or Ipv6IfIndex
// for an adapter without IPv4.
func adapterIndex(a *winipcfg.IPAdapterAddresses) uint32 {
	if a.IfIndex != 0 {
		return a.IfIndex
	}
	return a.IPv6IfIndex
}
