// Package wintext holds the small text helpers every Windows output parser
// needs: decoding saved output (UTF-16 or UTF-8, Decode), CRLF-tolerant
// line splitting and dotted-quad netmasks.
package wintext

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// SplitLines splits on LF and drops a trailing CR (CRLF output).
func SplitLines(text string) []string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// MaskBits returns the prefix length of a dotted-quad IPv4 netmask
// ("255.255.255.0" -> 24), refusing non-masks and non-contiguous masks.
func MaskBits(mask string) (int, error) {
	m, err := netip.ParseAddr(mask)
	if err != nil || !m.Is4() {
		return 0, fmt.Errorf("%q is not an IPv4 mask", mask)
	}
	b := m.As4()
	ones, bits := net.IPMask(b[:]).Size()
	if bits == 0 {
		return 0, fmt.Errorf("%q is not contiguous", mask)
	}
	return ones, nil
}
