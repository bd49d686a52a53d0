package iproute2

import "strconv"

// Linux rtnetlink constants (linux/rtnetlink.h), kept here so the package
// builds on every OS.
const (
	TableMain  = 254 // RT_TABLE_MAIN
	TableLocal = 255 // RT_TABLE_LOCAL

	ProtoBoot   = 3 // RTPROT_BOOT: ip's default
	ProtoStatic = 4 // RTPROT_STATIC: what `proto static` writes; netcfg's persistent view

	TypeUnicast = 1 // RTN_UNICAST
)

// protocolNames is /etc/iproute2/rt_protos (iproute2 6.1).
var protocolNames = map[uint8]string{
	0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static",
	8: "gated", 9: "ra", 10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted",
	14: "xorp", 15: "ntk", 16: "dhcp", 18: "keepalived", 42: "babel",
	99: "openr", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip", 192: "eigrp",
}

// ProtocolName names an rtm_protocol the way `ip route` prints it: "kernel",
// "boot", "static", "ra", "dhcp", ..., else the number.
func ProtocolName(p uint8) string {
	if n, ok := protocolNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

var typeNames = [...]string{
	0: "unspec", 1: "", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast",
	6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat", 11: "xresolve",
}

// TypeName names an rtm_type: "" for RTN_UNICAST, "local", "broadcast",
// "unreachable", ..., else the number.
func TypeName(t uint8) string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return strconv.Itoa(int(t))
}

// TableName names a routing table the netcfg way: "" for main (254), "local"
// for 255, else the number (so "default" is "253").
func TableName(t uint32) string {
	switch t {
	case TableMain:
		return ""
	case TableLocal:
		return "local"
	}
	return strconv.FormatUint(uint64(t), 10)
}

// IsPersistent is netcfg's persistent-view rule on Linux: a main-table
// route with protocol "static" (table and protocol as named above).
func IsPersistent(table, protocol string) bool {
	return table == "" && protocol == "static"
}

// AddrProtoName names an IFA_PROTO value like iproute2's rt_addrprotos:
// "kernel_lo", "kernel_ra", "kernel_ll", else the number; "" for unset (0).
func AddrProtoName(p uint8) string {
	switch p {
	case 0:
		return ""
	case 1:
		return "kernel_lo"
	case 2:
		return "kernel_ra"
	case 3:
		return "kernel_ll"
	}
	return strconv.Itoa(int(p))
}
