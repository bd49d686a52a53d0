// Package netcfg is one small interface over a host's network configuration:
// interfaces, addresses and routes (active table and persistent store),
// snapshots, normalised diffs and change events.
//
// The operating-system code lives in files chosen by suffix: host_linux.go (a
// netlink handle bound to a network namespace), host_windows.go (winipcfg and
// the legacy iphlpapi calls) and host_other.go (ErrUnsupported). Argv builders
// and output parsers for the command mechanisms (ip, route.exe, netsh,
// PowerShell) are pure and live in subpackages so they are tested everywhere.
package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrUnsupported: the capability or mechanism does not exist on this host.
	// Suites skip with the wrapped reason.
	ErrUnsupported = errors.New("unsupported on this host")
	// ErrNotFound: the address, route or interface named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: the address or route to add is already there.
	ErrExists = errors.New("already exists")
)

// UnsupportedError says which capability is missing and why. It matches
// ErrUnsupported with errors.Is.
type UnsupportedError struct {
	What   string // e.g. "mechanism netsh", "persistent store"
	Reason string // e.g. "route.exe exists only on Windows"
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s unsupported on this host: %s", e.What, e.Reason)
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Unsupported returns an *UnsupportedError.
func Unsupported(what, reason string) error { return &UnsupportedError{What: what, Reason: reason} }

// Mechanism names how a change is made. The KB bugs depend on it, so every
// mutation names one.
type Mechanism string

const (
	// Linux.
	Netlink  Mechanism = "netlink"  // RTM_NEWROUTE/RTM_NEWADDR through vishvananda/netlink
	IPRoute2 Mechanism = "iproute2" // exec `ip ...` inside the namespace

	// Windows.
	WinIPCfg       Mechanism = "winipcfg"        // CreateIpForwardEntry2 / CreateUnicastIpAddressEntry (active store)
	IPHlpAPILegacy Mechanism = "iphlpapi-legacy" // AddIPAddress / DeleteIPAddress (NTE context)
	RouteExe       Mechanism = "route.exe"       // route -p add / route delete
	Netsh          Mechanism = "netsh"           // netsh interface ipv4|ipv6 add|delete address|route
	PowerShell     Mechanism = "powershell"      // New-/Remove-NetRoute, New-/Remove-NetIPAddress
)

// Dialect is a host's family of tools and semantics: which mechanisms it
// has, whether it keeps a persistent store beside the active table. The
// target, never the controller's OS, decides it.
type Dialect string

const (
	DialectLinux   Dialect = "linux"
	DialectWindows Dialect = "windows"
)

// Dialects are every dialect kbharness knows, in a stable order.
var Dialects = []Dialect{DialectLinux, DialectWindows}

// RouteMechanisms are the dialect's mechanisms that write persistent
// routes, the ones a suite's tables run across.
func (d Dialect) RouteMechanisms() []Mechanism {
	if d == DialectWindows {
		return []Mechanism{RouteExe, Netsh, PowerShell}
	}
	return []Mechanism{Netlink, IPRoute2}
}

// AddressMechanisms are the dialect's mechanisms that add and delete
// addresses.
func (d Dialect) AddressMechanisms() []Mechanism {
	if d == DialectWindows {
		return []Mechanism{Netsh, IPHlpAPILegacy, WinIPCfg, PowerShell}
	}
	return []Mechanism{Netlink, IPRoute2}
}

// Store says where a route lives. Windows keeps a persistent store beside
// the active table. Linux has no separate store: its persistent view is the
// active routes with protocol "static" (what `ip route add ... proto static`
// writes), so a route deleted from the kernel leaves both views at once.
type Store string

const (
	StoreActive     Store = "active"
	StorePersistent Store = "persistent"
)

// Family is an address family.
type Family int

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// FamilyOf returns the family of a prefix.
func FamilyOf(p netip.Prefix) Family {
	if p.Addr().Is4() {
		return IPv4
	}
	return IPv6
}

// Interface is a network interface as the host reports it.
type Interface struct {
	Index int    // OS interface index (ifindex on Linux, IfIndex on Windows)
	Name  string // kernel name on Linux, alias ("Ethernet 2") on Windows
	MAC   string // lower-case colon form, "" if none
	Up    bool   // administratively and operationally up
	MTU   int
}

// AddrFlags are the address states the KB scenarios care about.
type AddrFlags uint8

const (
	AddrSecondary  AddrFlags = 1 << iota // IFA_F_SECONDARY; an additional address
	AddrTentative                        // DAD in progress
	AddrDuplicate                        // DAD failed (Windows IpDadStateDuplicate)
	AddrDeprecated                       // preferred lifetime over
)

func (f AddrFlags) String() string {
	var parts []string
	for _, n := range []struct {
		bit  AddrFlags
		name string
	}{{AddrSecondary, "secondary"}, {AddrTentative, "tentative"}, {AddrDuplicate, "duplicate"}, {AddrDeprecated, "deprecated"}} {
		if f&n.bit != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, " ")
}

// Address is an IP address assigned to an interface.
type Address struct {
	Prefix    netip.Prefix // address with its on-link prefix length
	Interface string       // interface name
	Flags     AddrFlags
	Origin    string // "manual", "dhcp", "link-layer", "kernel", ... as the OS says; "" if unknown
}

// Route is one routing entry.
type Route struct {
	Dst       netip.Prefix
	Gateway   netip.Addr // invalid (zero) for an on-link route
	Interface string     // interface name; "" if the OS did not say
	Metric    int
	Protocol  string // origin: "static", "kernel", "boot", "netmgmt", "local", ...; "" if unknown
	Type      string // "" for unicast; "local", "broadcast", "unreachable", "blackhole", ...
	Table     string // "main", "local", ...; "" for the main/only table
	Store     Store
}

// Snapshot is a host's whole configuration, both families, at one time.
type Snapshot struct {
	Taken      time.Time
	Interfaces []Interface
	Addresses  []Address
	Routes     []Route
}

// AddressSpec names an address to add or delete.
type AddressSpec struct {
	Prefix    netip.Prefix // e.g. 192.0.2.21/24
	Interface string       // interface name (alias on Windows)
}

// RouteSpec names a route to add or delete.
type RouteSpec struct {
	Dst     netip.Prefix
	Gateway netip.Addr // zero for on-link
	// Interface pins the route to an interface (`route add ... IF n`,
	// `ip route add ... dev X`). Empty lets the OS choose from the gateway:
	// the KB article's variant without IF.
	Interface  string
	Metric     int  // 0: the mechanism's default
	Persistent bool // route -p / store=persistent / proto static on Linux
}

// Capabilities says what a host supports. Suites probe it and skip with the
// reason instead of assuming.
type Capabilities struct {
	Dialect    Dialect
	Mechanisms []Mechanism // mechanisms that work here, in preference order
	// Missing says why each known mechanism that is not in Mechanisms is
	// unusable here, e.g. "procedure CreateIpForwardEntry2 not found in
	// iphlpapi.dll" or "ip not found on PATH".
	Missing         map[Mechanism]string
	PersistentStore bool // a persistent store distinct from the active table
	Events          bool // Subscribe delivers change notifications
	IPv6            bool
}

// Why says why m is unusable here, or "" if it is supported.
func (c Capabilities) Why(m Mechanism) string {
	if c.Has(m) {
		return ""
	}
	if reason := c.Missing[m]; reason != "" {
		return reason
	}
	return "not a mechanism of this host"
}

// Has reports whether m is among the supported mechanisms.
func (c Capabilities) Has(m Mechanism) bool {
	for _, x := range c.Mechanisms {
		if x == m {
			return true
		}
	}
	return false
}

// Host is a host's network configuration: observe it, subscribe to its
// changes, and change it by a named mechanism.
type Host interface {
	// Name is a short human name: the namespace, or the computer name.
	Name() string
	Capabilities() Capabilities
	Snapshot(ctx context.Context) (*Snapshot, error)
	// Subscribe delivers route and address change events to fn, in order,
	// from one goroutine, until ctx is done or the returned stop is called.
	Subscribe(ctx context.Context, fn func(Event)) (stop func(), err error)

	AddAddress(ctx context.Context, m Mechanism, a AddressSpec) error
	DeleteAddress(ctx context.Context, m Mechanism, a AddressSpec) error
	AddRoute(ctx context.Context, m Mechanism, r RouteSpec) error
	DeleteRoute(ctx context.Context, m Mechanism, r RouteSpec) error

	Close() error
}
