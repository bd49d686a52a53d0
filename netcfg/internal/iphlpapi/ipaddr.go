package iphlpapi

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// IPv4ToIPAddr converts an IPv4 address to the IPAddr DWORD that
// AddIPAddress takes: the address bytes in network order as they lie in
// memory, read as a little-endian integer (Windows runs little-endian only).
func IPv4ToIPAddr(a netip.Addr) uint32 {
	b := a.As4()
	return binary.LittleEndian.Uint32(b[:])
}

// MaskToIPAddr returns the IPAddr form of the netmask of a prefix length
// (24 -> 255.255.255.0).
func MaskToIPAddr(bits int) uint32 {
	return binary.LittleEndian.Uint32(net.CIDRMask(bits, 32))
}
