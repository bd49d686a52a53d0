//go:build linux

package linuxhost

import (
	"encoding/binary"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/kbharness/kbharness/netcfg/iproute2"
)

// This file decodes rtnetlink route and address messages (the payload after
// the nlmsghdr) into netcfg's normalised types. Snapshot dumps and Subscribe
// events share it, so both render the same lines.

const (
	sizeofRtMsg     = 12 // struct rtmsg
	sizeofIfAddrmsg = 8  // struct ifaddrmsg
	sizeofRtNexthop = 8  // struct rtnexthop
	ifaProto        = 11 // IFA_PROTO (Linux 5.18)
	nlaTypeMask     = ^uint16(unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
)

// eachAttr calls f for every rtattr in b, in order.
func eachAttr(b []byte, f func(typ uint16, val []byte) error) error {
	for len(b) > 0 {
		if len(b) < unix.SizeofRtAttr {
			return fmt.Errorf("truncated rtattr header (%d bytes)", len(b))
		}
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		if l < unix.SizeofRtAttr || l > len(b) {
			return fmt.Errorf("rtattr length %d out of range (%d bytes left)", l, len(b))
		}
		if err := f(binary.NativeEndian.Uint16(b[2:4])&nlaTypeMask, b[unix.SizeofRtAttr:l]); err != nil {
			return err
		}
		l = (l + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
		if l > len(b) {
			l = len(b)
		}
		b = b[l:]
	}
	return nil
}

func addrFromBytes(b []byte) (netip.Addr, error) {
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		return netip.Addr{}, fmt.Errorf("address of %d bytes", len(b))
	}
	return a, nil
}

func zeroAddr(family uint8) netip.Addr {
	if family == unix.AF_INET6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// decodeRoute appends to out the routes an RTM_NEWROUTE/RTM_DELROUTE payload
// describes: one per nexthop (RTA_MULTIPATH), in the active store. Families
// other than IPv4/IPv6 (ipmr, mpls, ...) yield none. ifname resolves
// RTA_OIF.
func decodeRoute(b []byte, ifname func(int) string, out []netcfg.Route) ([]netcfg.Route, error) {
	if len(b) < sizeofRtMsg {
		return out, fmt.Errorf("decoding route: rtmsg of %d bytes", len(b))
	}
	family := b[0]
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return out, nil
	}
	r := netcfg.Route{
		Protocol: iproute2.ProtocolName(b[5]),
		Type:     iproute2.TypeName(b[7]),
		Store:    netcfg.StoreActive,
	}
	dstLen, table := int(b[1]), uint32(b[4])
	dst := zeroAddr(family)
	oif := 0
	var multipath []byte
	err := eachAttr(b[sizeofRtMsg:], func(typ uint16, v []byte) error {
		var err error
		switch typ {
		case unix.RTA_DST:
			dst, err = addrFromBytes(v)
		case unix.RTA_GATEWAY:
			r.Gateway, err = addrFromBytes(v)
		case unix.RTA_VIA: // IPv4 route via an IPv6 gateway: u16 family, address
			if len(v) < 2 {
				return fmt.Errorf("RTA_VIA of %d bytes", len(v))
			}
			r.Gateway, err = addrFromBytes(v[2:])
		case unix.RTA_OIF:
			if len(v) < 4 {
				return fmt.Errorf("RTA_OIF of %d bytes", len(v))
			}
			oif = int(binary.NativeEndian.Uint32(v))
		case unix.RTA_PRIORITY:
			if len(v) < 4 {
				return fmt.Errorf("RTA_PRIORITY of %d bytes", len(v))
			}
			r.Metric = int(binary.NativeEndian.Uint32(v))
		case unix.RTA_TABLE:
			if len(v) < 4 {
				return fmt.Errorf("RTA_TABLE of %d bytes", len(v))
			}
			table = binary.NativeEndian.Uint32(v)
		case unix.RTA_MULTIPATH:
			multipath = v
		}
		return err
	})
	if err != nil {
		return out, fmt.Errorf("decoding route: %w", err)
	}
	if r.Dst, err = dst.Prefix(dstLen); err != nil {
		return out, fmt.Errorf("decoding route: destination %s/%d", dst, dstLen)
	}
	r.Table = iproute2.TableName(table)
	if oif != 0 {
		r.Interface = ifname(oif)
	}
	if multipath == nil {
		return append(out, r), nil
	}
	for len(multipath) >= sizeofRtNexthop {
		l := int(binary.NativeEndian.Uint16(multipath[0:2]))
		if l < sizeofRtNexthop || l > len(multipath) {
			return out, fmt.Errorf("decoding route %s: rtnexthop length %d", r.Dst, l)
		}
		hop := r
		hop.Gateway = netip.Addr{}
		hop.Interface = ifname(int(int32(binary.NativeEndian.Uint32(multipath[4:8]))))
		err := eachAttr(multipath[sizeofRtNexthop:l], func(typ uint16, v []byte) error {
			var err error
			switch typ {
			case unix.RTA_GATEWAY:
				hop.Gateway, err = addrFromBytes(v)
			case unix.RTA_VIA:
				if len(v) < 2 {
					return fmt.Errorf("RTA_VIA of %d bytes", len(v))
				}
				hop.Gateway, err = addrFromBytes(v[2:])
			}
			return err
		})
		if err != nil {
			return out, fmt.Errorf("decoding route %s nexthop: %w", r.Dst, err)
		}
		out = append(out, hop)
		l = (l + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1)
		if l > len(multipath) {
			l = len(multipath)
		}
		multipath = multipath[l:]
	}
	return out, nil
}

// decodeAddr decodes an RTM_NEWADDR/RTM_DELADDR payload. ok is false for
// families other than IPv4/IPv6.
func decodeAddr(b []byte, ifname func(int) string) (a netcfg.Address, ok bool, err error) {
	if len(b) < sizeofIfAddrmsg {
		return a, false, fmt.Errorf("decoding address: ifaddrmsg of %d bytes", len(b))
	}
	family := b[0]
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return a, false, nil
	}
	prefixLen := int(b[1])
	flags := uint32(b[2])
	var local, address netip.Addr
	err = eachAttr(b[sizeofIfAddrmsg:], func(typ uint16, v []byte) error {
		var err error
		switch typ {
		case unix.IFA_LOCAL:
			local, err = addrFromBytes(v)
		case unix.IFA_ADDRESS:
			address, err = addrFromBytes(v)
		case unix.IFA_FLAGS:
			if len(v) < 4 {
				return fmt.Errorf("IFA_FLAGS of %d bytes", len(v))
			}
			flags = binary.NativeEndian.Uint32(v)
		case ifaProto:
			if len(v) < 1 {
				return fmt.Errorf("IFA_PROTO of %d bytes", len(v))
			}
			a.Origin = iproute2.AddrProtoName(v[0])
		}
		return err
	})
	if err != nil {
		return a, false, fmt.Errorf("decoding address: %w", err)
	}
	ip := local // IPv4: IFA_LOCAL is ours, IFA_ADDRESS the peer
	if !ip.IsValid() {
		ip = address
	}
	if !ip.IsValid() {
		return a, false, fmt.Errorf("decoding address: neither IFA_LOCAL nor IFA_ADDRESS")
	}
	if prefixLen > ip.BitLen() {
		return a, false, fmt.Errorf("decoding address: prefix length %d for %s", prefixLen, ip)
	}
	a.Prefix = netip.PrefixFrom(ip, prefixLen) // keeps the host bits
	a.Interface = ifname(int(binary.NativeEndian.Uint32(b[4:8])))
	a.Flags = addrFlags(flags)
	return a, true, nil
}

// addrFlags maps IFA_F_* bits. IFA_F_SECONDARY shares its bit with IPv6's
// IFA_F_TEMPORARY; both become AddrSecondary.
func addrFlags(f uint32) netcfg.AddrFlags {
	var out netcfg.AddrFlags
	if f&unix.IFA_F_SECONDARY != 0 {
		out |= netcfg.AddrSecondary
	}
	if f&unix.IFA_F_TENTATIVE != 0 {
		out |= netcfg.AddrTentative
	}
	if f&unix.IFA_F_DADFAILED != 0 {
		out |= netcfg.AddrDuplicate
	}
	if f&unix.IFA_F_DEPRECATED != 0 {
		out |= netcfg.AddrDeprecated
	}
	return out
}
