// Package pwsh builds PowerShell NetTCPIP scripts (New-NetRoute,
// Remove-NetRoute, New-NetIPAddress, Remove-NetIPAddress, Get-NetRoute and
// Get-NetIPAddress piped to ConvertTo-Json) with the powershell.exe argv that
// runs them, and parses their JSON, Format-List and Format-Table output.
//
// It is pure: it runs nothing, so it builds and is tested on every OS. The
// NetTCPIP cmdlets exist on Windows 8 / Server 2012 and later.
package pwsh

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/kbharness/kbharness/netcfg"
)

// PolicyStore is the -PolicyStore argument of the NetTCPIP cmdlets.
type PolicyStore string

const (
	// BothStores leaves out -PolicyStore: New-NetRoute and New-NetIPAddress
	// then write the active and the persistent store (like `route -p add`).
	BothStores      PolicyStore = ""
	ActiveStore     PolicyStore = "ActiveStore"
	PersistentStore PolicyStore = "PersistentStore"
)

// StoreFor is the policy store matching a spec: both stores for a
// persistent spec (what `route -p add` and netsh store=persistent do), the
// active store otherwise.
func StoreFor(persistent bool) PolicyStore {
	if persistent {
		return BothStores
	}
	return ActiveStore
}

// Quote renders s as a PowerShell single-quoted string literal. PowerShell
// also takes the typographic quotes U+2018..U+201B as single quotes, so every
// one of them is doubled too; nothing else is special inside single quotes.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		b.WriteRune(r)
		if isSingleQuote(r) {
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func isSingleQuote(r rune) bool {
	return r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201a' || r == '\u201b'
}

// Argv returns `powershell.exe -NoProfile -NonInteractive -Command SCRIPT`.
func Argv(script string) []string {
	return []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script}
}

// EncodedArgv returns `powershell.exe -NoProfile -NonInteractive
// -EncodedCommand BASE64` (UTF-16LE): immune to the Windows command-line
// quoting of double quotes that a name may contain.
func EncodedArgv(script string) []string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-EncodedCommand", base64.StdEncoding.EncodeToString(b)}
}

// stop makes the first error terminate the script with a non-zero exit.
const stop = "$ErrorActionPreference = 'Stop'; "

// NewNetRoute returns the script that adds a route with New-NetRoute:
//
//	New-NetRoute -DestinationPrefix '198.51.100.0/24' -InterfaceAlias 'Ethernet 2'
//	  -NextHop '192.0.2.1' -RouteMetric 5 -PolicyStore ActiveStore -Confirm:$false
//
// An on-link spec leaves out -NextHop; metric 0 leaves out -RouteMetric
// (New-NetRoute then uses 256). -RouteMetric is a UInt16 (New-NetRoute
// syntax, learn.microsoft.com/powershell/module/nettcpip/new-netroute), so a
// metric outside 0..65535 is an error naming it.
func NewNetRoute(r netcfg.RouteSpec, store PolicyStore) (string, error) {
	args, err := routeArgs(r)
	if err != nil {
		return "", err
	}
	if r.Metric < 0 || r.Metric > MaxRouteMetric {
		return "", fmt.Errorf("powershell route %s: metric %d: -RouteMetric is a UInt16 (0..%d)", r.Dst, r.Metric, MaxRouteMetric)
	}
	if r.Metric > 0 {
		args += " -RouteMetric " + strconv.Itoa(r.Metric)
	}
	return stop + "New-NetRoute" + args + storeArg(store) + " -Confirm:$false | Out-Null", nil
}

// MaxRouteMetric is the largest -RouteMetric (UInt16) New-NetRoute takes.
const MaxRouteMetric = 65535

// RemoveNetRoute returns the script that removes a route with
// Remove-NetRoute from the store named (BothStores: from both).
func RemoveNetRoute(r netcfg.RouteSpec, store PolicyStore) (string, error) {
	args, err := routeArgs(r)
	if err != nil {
		return "", err
	}
	return stop + "Remove-NetRoute" + args + storeArg(store) + " -Confirm:$false", nil
}

func routeArgs(r netcfg.RouteSpec) (string, error) {
	if !r.Dst.IsValid() {
		return "", errors.New("powershell route: Dst: invalid prefix")
	}
	if r.Interface == "" {
		return "", fmt.Errorf("powershell route %s: Interface: -InterfaceAlias needs a name", r.Dst)
	}
	s := " -DestinationPrefix " + Quote(r.Dst.Masked().String()) + " -InterfaceAlias " + Quote(r.Interface)
	if r.Gateway.IsValid() {
		s += " -NextHop " + Quote(r.Gateway.String())
	}
	return s, nil
}

// NewNetIPAddress returns the script that adds an address with
// New-NetIPAddress -IPAddress ... -PrefixLength ... .
func NewNetIPAddress(a netcfg.AddressSpec, store PolicyStore) (string, error) {
	args, err := addressArgs(a)
	if err != nil {
		return "", err
	}
	return stop + "New-NetIPAddress" + args + " -PrefixLength " + strconv.Itoa(a.Prefix.Bits()) +
		storeArg(store) + " -Confirm:$false | Out-Null", nil
}

// RemoveNetIPAddress returns the script that removes an address with
// Remove-NetIPAddress.
func RemoveNetIPAddress(a netcfg.AddressSpec, store PolicyStore) (string, error) {
	args, err := addressArgs(a)
	if err != nil {
		return "", err
	}
	return stop + "Remove-NetIPAddress" + args + storeArg(store) + " -Confirm:$false", nil
}

func addressArgs(a netcfg.AddressSpec) (string, error) {
	if !a.Prefix.IsValid() {
		return "", errors.New("powershell address: Prefix: invalid prefix")
	}
	if a.Interface == "" {
		return "", fmt.Errorf("powershell address %s: Interface: -InterfaceAlias needs a name", a.Prefix)
	}
	return " -InterfaceAlias " + Quote(a.Interface) + " -IPAddress " + Quote(a.Prefix.Addr().String()), nil
}

func storeArg(s PolicyStore) string {
	if s == BothStores {
		return ""
	}
	return " -PolicyStore " + string(s)
}

// RouteProjection is the Select-Object projection GetNetRouteJSON emits and
// ParseRoutesJSON reads. Enums are cast explicitly so PowerShell 5.1 and 7
// print the same: AddressFamily as its integer (2 IPv4, 23 IPv6), Protocol
// as its name ("NetMgmt", "Local", ...).
const RouteProjection = "DestinationPrefix, NextHop, InterfaceIndex, InterfaceAlias, RouteMetric, " +
	"@{n='AddressFamily';e={[int]$_.AddressFamily}}, @{n='Protocol';e={[string]$_.Protocol}}"

// AddressProjection is the Select-Object projection GetNetIPAddressJSON
// emits and ParseAddressesJSON reads.
const AddressProjection = "IPAddress, InterfaceIndex, InterfaceAlias, PrefixLength, " +
	"@{n='AddressFamily';e={[int]$_.AddressFamily}}, @{n='PrefixOrigin';e={[string]$_.PrefixOrigin}}, " +
	"@{n='AddressState';e={[string]$_.AddressState}}"

// GetNetRouteJSON returns the script that prints the routes of one store as
// a JSON array (always an array, also for zero or one route):
//
//	ConvertTo-Json -InputObject @(Get-NetRoute -PolicyStore PersistentStore
//	  -ErrorAction SilentlyContinue | Select-Object <RouteProjection>)
//
// BothStores leaves out -PolicyStore (Get-NetRoute then reads the active store).
func GetNetRouteJSON(store PolicyStore) string {
	return getJSON("Get-NetRoute", store, RouteProjection)
}

// GetNetIPAddressJSON is GetNetRouteJSON for Get-NetIPAddress with
// AddressProjection.
func GetNetIPAddressJSON(store PolicyStore) string {
	return getJSON("Get-NetIPAddress", store, AddressProjection)
}

func getJSON(cmdlet string, store PolicyStore, projection string) string {
	return stop + "ConvertTo-Json -Compress -InputObject @(" + cmdlet + storeArg(store) +
		" -ErrorAction SilentlyContinue | Select-Object " + projection + ")"
}
