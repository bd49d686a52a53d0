package pwsh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// Route is a route from Get-NetRoute.
type Route struct {
	netcfg.Route     // Interface is InterfaceAlias; Protocol lower-cased ("netmgmt")
	IfIndex      int // InterfaceIndex
}

// Address is an address from Get-NetIPAddress or New-NetIPAddress.
type Address struct {
	netcfg.Address        // Interface is InterfaceAlias; Origin is PrefixOrigin lower-cased
	IfIndex        int    // InterfaceIndex
	AddressState   string // "Preferred", "Tentative", "Invalid", ... as printed
	Store          netcfg.Store
}

// addressFamily decodes AddressFamily as PowerShell serialises it: the enum's
// integer (2, 23) by default, its name ("IPv4") with -EnumsAsStrings.
type addressFamily netcfg.Family

func (f *addressFamily) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	switch s {
	case "2", "IPv4":
		*f = addressFamily(netcfg.IPv4)
	case "23", "IPv6":
		*f = addressFamily(netcfg.IPv6)
	case "null":
	default:
		return fmt.Errorf("AddressFamily %s: want 2/23 or IPv4/IPv6", b)
	}
	return nil
}

// The numeric properties decode as the CIM types' unsigned widths
// (InterfaceIndex uint32, RouteMetric uint16 kept as uint32) and are
// converted to the int fields with a range check: decoding 4294967295 into
// an int fails on 32-bit builds with a message naming no value.
type jsonRoute struct {
	DestinationPrefix string
	NextHop           string
	InterfaceIndex    uint32
	InterfaceAlias    string
	RouteMetric       uint32
	AddressFamily     addressFamily
	Protocol          string
}

type jsonAddress struct {
	IPAddress      string
	InterfaceIndex uint32
	InterfaceAlias string
	PrefixLength   *int
	AddressFamily  addressFamily
	PrefixOrigin   string
	AddressState   string
}

// ParseRoutesJSON parses the output of GetNetRouteJSON, and any
// ConvertTo-Json of Get-NetRoute objects carrying at least
// DestinationPrefix and NextHop (other properties are ignored). It takes an
// array, a single object (ConvertTo-Json without -InputObject @(...)), or
// nothing (no routes). store is the store the script asked for. A NextHop of
// 0.0.0.0 or :: is on-link (invalid Gateway).
func ParseRoutesJSON(text string, store netcfg.Store) ([]Route, error) {
	var raw []jsonRoute
	if err := decodeList(text, &raw); err != nil {
		return nil, fmt.Errorf("parsing Get-NetRoute JSON: %w", err)
	}
	out := make([]Route, 0, len(raw))
	for i, j := range raw {
		r, err := j.route(store)
		if err != nil {
			return nil, fmt.Errorf("parsing Get-NetRoute JSON: object %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (j jsonRoute) route(store netcfg.Store) (Route, error) {
	dst, err := netip.ParsePrefix(j.DestinationPrefix)
	if err != nil {
		return Route{}, fmt.Errorf("DestinationPrefix: %w", err)
	}
	gw, err := netip.ParseAddr(j.NextHop)
	if err != nil {
		return Route{}, fmt.Errorf("NextHop: %w", err)
	}
	if gw.Is4() != dst.Addr().Is4() {
		return Route{}, fmt.Errorf("NextHop %s: family differs from DestinationPrefix %s", gw, dst)
	}
	if j.AddressFamily != 0 && netcfg.Family(j.AddressFamily) != netcfg.FamilyOf(dst) {
		return Route{}, fmt.Errorf("AddressFamily %d: does not match DestinationPrefix %s", j.AddressFamily, dst)
	}
	idx, err := wintext.Int("InterfaceIndex", j.InterfaceIndex)
	if err != nil {
		return Route{}, err
	}
	metric, err := wintext.Int("RouteMetric", j.RouteMetric)
	if err != nil {
		return Route{}, err
	}
	r := Route{IfIndex: idx, Route: netcfg.Route{
		Dst: dst, Interface: j.InterfaceAlias, Metric: metric,
		Protocol: strings.ToLower(j.Protocol), Store: store,
	}}
	if !gw.IsUnspecified() {
		r.Gateway = gw
	}
	return r, nil
}

// ParseAddressesJSON parses the output of GetNetIPAddressJSON (array, single
// object or nothing). store is the store the script asked for.
func ParseAddressesJSON(text string, store netcfg.Store) ([]Address, error) {
	var raw []jsonAddress
	if err := decodeList(text, &raw); err != nil {
		return nil, fmt.Errorf("parsing Get-NetIPAddress JSON: %w", err)
	}
	out := make([]Address, 0, len(raw))
	for i, j := range raw {
		bits := "" // missing: an error naming PrefixLength
		if j.PrefixLength != nil {
			bits = strconv.Itoa(*j.PrefixLength)
		}
		a, err := newAddress(j.IPAddress, bits, j.InterfaceAlias, j.PrefixOrigin, j.AddressState)
		if err != nil {
			return nil, fmt.Errorf("parsing Get-NetIPAddress JSON: object %d: %w", i, err)
		}
		if j.AddressFamily != 0 && netcfg.Family(j.AddressFamily) != netcfg.FamilyOf(a.Prefix) {
			return nil, fmt.Errorf("parsing Get-NetIPAddress JSON: object %d: AddressFamily %d does not match %s", i, j.AddressFamily, a.Prefix)
		}
		if a.IfIndex, err = wintext.Int("InterfaceIndex", j.InterfaceIndex); err != nil {
			return nil, fmt.Errorf("parsing Get-NetIPAddress JSON: object %d: %w", i, err)
		}
		a.Store = store
		out = append(out, a)
	}
	return out, nil
}

// newAddress builds an Address from the printed properties.
func newAddress(ip, prefixLen, alias, origin, state string) (Address, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return Address{}, fmt.Errorf("IPAddress: %w", err)
	}
	bits, err := strconv.Atoi(prefixLen)
	if err != nil || bits < 0 || bits > a.BitLen() {
		return Address{}, fmt.Errorf("PrefixLength %q: not a length for %s", prefixLen, a)
	}
	out := Address{AddressState: state, Address: netcfg.Address{
		Prefix: netip.PrefixFrom(a.WithZone(""), bits), Interface: alias, Origin: strings.ToLower(origin),
	}}
	switch strings.ToLower(state) {
	case "tentative":
		out.Flags |= netcfg.AddrTentative
	case "duplicate":
		out.Flags |= netcfg.AddrDuplicate
	case "deprecated":
		out.Flags |= netcfg.AddrDeprecated
	}
	return out, nil
}

// decodeList decodes a JSON array, a single object, or empty output into a
// slice. A UTF-8 BOM is skipped.
func decodeList[T any](text string, out *[]T) error {
	b := bytes.TrimSpace(bytes.TrimPrefix([]byte(text), []byte("\ufeff")))
	switch {
	case len(b) == 0:
		*out = nil
		return nil
	case b[0] == '{':
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*out = []T{one}
		return nil
	}
	return json.Unmarshal(b, out)
}
