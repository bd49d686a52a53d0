package winhost

import (
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net/netip"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"

	"github.com/kbharness/kbharness/netcfg/internal/iphlpapi"
)

// The winipcfg mechanism: CreateUnicastIpAddressEntry,
// DeleteUnicastIpAddressEntry, CreateIpForwardEntry2 and
// DeleteIpForwardEntry2 on golang.zx2c4.com/wireguard/windows/tunnel/winipcfg's
// rows, LUIDs and route table, called through netcfg/internal/iphlpapi (the
// seam the stand-in DLL plugs into under Wine) the way winipcfg's own
// LUID.AddIPAddress, DeleteIPAddress and AddRoute call them. They change
// the active store only. Callers have checked winipcfgProcs.

// luidOf resolves an interface alias to its LUID
// (ConvertInterfaceIndexToLuid).
func luidOf(alias string) (winipcfg.LUID, error) {
	idx, err := interfaceIndex(alias)
	if err != nil {
		return 0, err
	}
	return luidOfIndex(idx)
}

func luidOfIndex(idx uint32) (winipcfg.LUID, error) {
	luid, err := winipcfg.LUIDFromIndex(idx)
	if err != nil {
		return 0, fmt.Errorf("converting interface index %d to a LUID: ConvertInterfaceIndexToLuid: %w", idx, err)
	}
	return luid, nil
}

// addressRow is the MIB_UNICASTIPADDRESS_ROW of a spec: initialized by
// InitializeUnicastIpAddressEntry, then the interface's LUID, the address
// and its on-link prefix length, preferred and never expiring.
func addressRow(a netcfg.AddressSpec) (*winipcfg.MibUnicastIPAddressRow, error) {
	luid, err := luidOf(a.Interface)
	if err != nil {
		return nil, err
	}
	row := &winipcfg.MibUnicastIPAddressRow{}
	if err := iphlpapi.InitializeUnicastIpAddressEntry(row); err != nil {
		return nil, fmt.Errorf("InitializeUnicastIpAddressEntry: %w", err)
	}
	row.InterfaceLUID = luid
	row.DadState = winipcfg.DadStatePreferred
	row.ValidLifetime, row.PreferredLifetime = 0xffffffff, 0xffffffff
	if err := row.Address.SetAddr(a.Prefix.Addr()); err != nil {
		return nil, err
	}
	row.OnLinkPrefixLength = uint8(a.Prefix.Bits())
	return row, nil
}

// winipcfgAddAddress corresponds to CreateUnicastIpAddressEntry.
func winipcfgAddAddress(a netcfg.AddressSpec) error {
	row, err := addressRow(a)
	if err != nil {
		return err
	}
	if err := iphlpapi.CreateUnicastIpAddressEntry(row); err != nil {
		return fmt.Errorf("CreateUnicastIpAddressEntry: %w", errnoSentinel(err))
	}
	return nil
}

// winipcfgDeleteAddress corresponds to DeleteUnicastIpAddressEntry.
func winipcfgDeleteAddress(a netcfg.AddressSpec) error {
	row, err := addressRow(a)
	if err != nil {
		return err
	}
	if err := iphlpapi.DeleteUnicastIpAddressEntry(row); err != nil {
		return fmt.Errorf("DeleteUnicastIpAddressEntry: %w", errnoSentinel(err))
	}
	return nil
}

// nextHop is the MIB next hop of a spec: the gateway, or the unspecified
// address of the destination's family for an on-link route.
func nextHop(r netcfg.RouteSpec) netip.Addr {
	if r.Gateway.IsValid() {
		return r.Gateway
	}
	if r.Dst.Addr().Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// winipcfgAddRoute corresponds to CreateIpForwardEntry2. Without an
// interface it uses the one GetBestInterfaceEx picks toward the gateway.
func winipcfgAddRoute(r netcfg.RouteSpec) error {
	if r.Persistent {
		return netcfg.Unsupported("winipcfg persistent route", "CreateIpForwardEntry2 writes the active store only; add persistent routes by route.exe, netsh or powershell")
	}
	var luid winipcfg.LUID
	var err error
	switch {
	case r.Interface != "":
		luid, err = luidOf(r.Interface)
	case r.Gateway.IsValid():
		var idx uint32
		if idx, err = bestInterface(r.Gateway); err == nil {
			luid, err = luidOfIndex(idx)
		}
	default:
		err = fmt.Errorf("an on-link route needs an interface")
	}
	if err != nil {
		return err
	}
	row := &winipcfg.MibIPforwardRow2{}
	if err := iphlpapi.InitializeIpForwardEntry(row); err != nil {
		return fmt.Errorf("InitializeIpForwardEntry: %w", err)
	}
	row.InterfaceLUID = luid
	if err := row.DestinationPrefix.SetPrefix(r.Dst); err != nil {
		return err
	}
	if err := row.NextHop.SetAddr(nextHop(r)); err != nil {
		return err
	}
	row.Metric = uint32(r.Metric)
	if err := iphlpapi.CreateIpForwardEntry2(row); err != nil {
		return fmt.Errorf("CreateIpForwardEntry2: %w", errnoSentinel(err))
	}
	return nil
}

// winipcfgDeleteRoute deletes, by DeleteIpForwardEntry2, every active route
// with the spec's destination and next hop, on its interface if it names
// one. None is ErrNotFound.
func winipcfgDeleteRoute(r netcfg.RouteSpec) error {
	var onIndex uint32
	if r.Interface != "" {
		var err error
		if onIndex, err = interfaceIndex(r.Interface); err != nil {
			return err
		}
	}
	family := winipcfg.AddressFamily(windows.AF_INET)
	if r.Dst.Addr().Is6() {
		family = windows.AF_INET6
	}
	rows, err := winipcfg.GetIPForwardTable2(family)
	if err != nil {
		return fmt.Errorf("GetIpForwardTable2: %w", err)
	}
	hop, deleted := nextHop(r), 0
	for i := range rows {
		row := &rows[i]
		if row.DestinationPrefix.Prefix() != r.Dst || row.NextHop.Addr() != hop || (onIndex != 0 && row.InterfaceIndex != onIndex) {
			continue
		}
		if err := iphlpapi.DeleteIpForwardEntry2(row); err != nil {
			return fmt.Errorf("DeleteIpForwardEntry2 on interface %d: %w", row.InterfaceIndex, errnoSentinel(err))
		}
		deleted++
	}
	if deleted == 0 {
		return fmt.Errorf("no active route matches: %w", netcfg.ErrNotFound)
	}
	return nil
}
