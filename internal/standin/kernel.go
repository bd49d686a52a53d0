package standin

import (
	"errors"
	"net"
	"net/netip"
)

// Sentinel errors a Kernel returns (wrapped); the commands turn them into
// the Windows error text.
var (
	// ErrExists: the address or route to add is already there (EEXIST).
	ErrExists = errors.New("already exists")
	// ErrNotFound: the address, route or interface does not exist (ESRCH,
	// EADDRNOTAVAIL, ENODEV).
	ErrNotFound = errors.New("not found")
)

// Link is a network interface. Wine's iphlpapi names and numbers interfaces
// after the Linux ones (GetAdaptersAddresses: IfIndex is the ifindex,
// FriendlyName and Description are the Linux name), so the stand-ins do the
// same: a Windows alias is a Linux interface name, an IfIndex an ifindex.
type Link struct {
	Index    int
	Name     string
	MAC      net.HardwareAddr // nil or empty when the link has none (loopback)
	MTU      int
	Up       bool // operationally up (netsh "connected")
	Loopback bool
}

// Addr is a unicast address on a link.
type Addr struct {
	Prefix     netip.Prefix // the address with its on-link prefix length
	Index      int          // the link's ifindex
	Permanent  bool         // IFA_F_PERMANENT: configured, not learned (DHCP, SLAAC)
	Tentative  bool         // IFA_F_TENTATIVE: DAD in progress
	Duplicate  bool         // IFA_F_DADFAILED
	Deprecated bool         // IFA_F_DEPRECATED: preferred lifetime over
	Secondary  bool         // IFA_F_SECONDARY
	ValidLft   uint32       // seconds; Infinite for none
	PrefLft    uint32       // seconds; Infinite for none
}

// Infinite is the lifetime of an address that does not expire.
const Infinite = ^uint32(0)

// RouteKind is the kernel route type the stand-ins show.
type RouteKind int

const (
	Unicast   RouteKind = iota // RTN_UNICAST (table main)
	Local                      // RTN_LOCAL (table local): an address of this host
	Broadcast                  // RTN_BROADCAST (table local)
	Multicast                  // RTN_MULTICAST (table local, IPv6 ff00::/8)
)

// Kernel route protocols (RTPROT_*) the stand-ins tell apart.
const (
	ProtoKernel = 2  // routes the kernel made (subnet routes of addresses)
	ProtoBoot   = 3  // `ip route add` without proto
	ProtoStatic = 4  // administrator routes; what the stand-ins write
	ProtoRA     = 9  // IPv6 router advertisements
	ProtoDHCP   = 16 // DHCP clients
)

// Route is a kernel route as the Windows commands show it.
type Route struct {
	Dst     netip.Prefix // masked
	Gateway netip.Addr   // invalid: on-link
	Index   int          // outgoing ifindex
	Metric  int          // RTA_PRIORITY
	Proto   int          // RTPROT_*
	Kind    RouteKind
	Src     netip.Addr // RTA_PREFSRC; invalid if none
}

// Kernel is the network configuration of the namespace the server runs in:
// what the stand-ins read and change. The Linux implementation
// (OpenKernel) talks netlink and /proc/sys; tests use a fake.
type Kernel interface {
	// Links lists the interfaces by index.
	Links() ([]Link, error)
	// Addrs lists the unicast addresses of every link, both families.
	Addrs() ([]Addr, error)
	// Routes lists the unicast routes of table main and the local,
	// broadcast and multicast routes of table local, both families.
	Routes() ([]Route, error)
	// AddAddr adds a.Prefix to link a.Index (RTM_NEWADDR, permanent).
	AddAddr(a Addr) error
	// Held reports whether another host on link idx holds IPv4 address a
	// (it answers an ARP probe).
	Held(idx int, a netip.Addr) (bool, error)
	// DelAddr deletes a.Prefix from link a.Index (RTM_DELADDR).
	DelAddr(a Addr) error
	// AddRoute adds a unicast route to table main (RTM_NEWROUTE, proto
	// static; Metric 0 leaves the kernel's default).
	AddRoute(r Route) error
	// DelRoute deletes the route of table main matching r's destination,
	// gateway, interface and metric (RTM_DELROUTE).
	DelRoute(r Route) error
	// Sysctl reads /proc/sys/net/<path>, trimmed.
	Sysctl(path string) (string, error)
	// SetSysctl writes /proc/sys/net/<path>.
	SetSysctl(path, value string) error
}
