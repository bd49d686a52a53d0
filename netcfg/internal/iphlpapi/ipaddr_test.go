package iphlpapi

import (
	"net/netip"
	"testing"
)

func TestIPAddrForms(t *testing.T) {
	for _, tc := range []struct {
		addr string
		bits int
		// want* are the DWORDs whose little-endian bytes are the address
		// and mask in network order.
		wantAddr, wantMask uint32
	}{
		{"192.0.2.21", 24, 0x150200c0, 0x00ffffff},
		{"198.51.100.1", 32, 0x016433c6, 0xffffffff},
		{"203.0.113.128", 25, 0x807100cb, 0x80ffffff},
		{"0.0.0.0", 0, 0, 0},
		{"192.0.2.0", 20, 0x000200c0, 0x00f0ffff},
	} {
		if got := IPv4ToIPAddr(netip.MustParseAddr(tc.addr)); got != tc.wantAddr {
			t.Errorf("IPv4ToIPAddr(%s) = %#08x, want %#08x", tc.addr, got, tc.wantAddr)
		}
		if got := MaskToIPAddr(tc.bits); got != tc.wantMask {
			t.Errorf("MaskToIPAddr(%d) = %#08x, want %#08x", tc.bits, got, tc.wantMask)
		}
	}
}
