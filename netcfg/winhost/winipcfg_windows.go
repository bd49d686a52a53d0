package winhost

import (
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net/netip"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"
)

// The winipcfg mechanism: CreateUnicastIpAddressEntry,
// DeleteUnicastIpAddressEntry, CreateIpForwardEntry2 and
// DeleteIpForwardEntry2 through golang.zx2c4.com/wireguard/windows/tunnel/winipcfg.
// They change the active store only. Callers have checked winipcfgProcs.

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

// winipcfgAddAddress corresponds to CreateUnicastIpAddressEntry.
func winipcfgAddAddress(a netcfg.AddressSpec) error {
	luid, err := luidOf(a.Interface)
	if err != nil {
		return err
	}
	if err := luid.AddIPAddress(a.Prefix); err != nil {
		return fmt.Errorf("CreateUnicastIpAddressEntry: %w", errnoSentinel(err))
	}
	return nil
}

// winipcfgDeleteAddress corresponds to DeleteUnicastIpAddressEntry.
func winipcfgDeleteAddress(a netcfg.AddressSpec) error {
	luid, err := luidOf(a.Interface)
	if err != nil {
		return err
	}
	if err := luid.DeleteIPAddress(a.Prefix); err != nil {
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
	if err := luid.AddRoute(r.Dst, nextHop(r), uint32(r.Metric)); err != nil {
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
		if err := row.Delete(); err != nil {
			return fmt.Errorf("DeleteIpForwardEntry2 on interface %d: %w", row.InterfaceIndex, errnoSentinel(err))
		}
		deleted++
	}
	if deleted == 0 {
		return fmt.Errorf("no active route matches: %w", netcfg.ErrNotFound)
	}
	return nil
}
