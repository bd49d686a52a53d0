package standin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Held probes link idx for another host holding IPv4 address a: one ARP
// probe (RFC 5227: sender address 0.0.0.0, which Linux answers for its own
// addresses), then ProbeWindow of listening. Any ARP packet from another
// MAC whose sender address is a (a reply, or that host's own use of it)
// is a conflict. A link that is down holds nothing.
func (k *linuxKernel) Held(idx int, a netip.Addr) (bool, error) {
	l, err := k.link(idx)
	if err != nil {
		return false, err
	}
	mac := l.Attrs().HardwareAddr
	if !a.Is4() || len(mac) != 6 {
		return false, nil // no ARP on this link or for this family
	}
	proto := htons(unix.ETH_P_ARP)
	fd := -1
	// The socket belongs to the namespace of the thread that opens it.
	err = k.inNS(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(proto))
		return err
	})
	if fd >= 0 {
		defer unix.Close(fd)
	}
	if err != nil {
		return false, fmt.Errorf("ARP probe for %s: opening a packet socket: %w", a, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: idx}); err != nil {
		return false, fmt.Errorf("ARP probe for %s: binding to interface %d: %w", a, idx, err)
	}
	tpa := a.As4()
	probe := make([]byte, 28)
	binary.BigEndian.PutUint16(probe[0:], 1)      // hardware: Ethernet
	binary.BigEndian.PutUint16(probe[2:], 0x0800) // protocol: IPv4
	probe[4], probe[5] = 6, 4
	binary.BigEndian.PutUint16(probe[6:], 1) // request
	copy(probe[8:14], mac)                   // sender MAC; sender IP 0.0.0.0
	copy(probe[24:28], tpa[:])               // target IP
	bcast := &unix.SockaddrLinklayer{Protocol: proto, Ifindex: idx, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	switch err := unix.Sendto(fd, probe, 0, bcast); {
	case errors.Is(err, unix.ENETDOWN), errors.Is(err, unix.ENXIO):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ARP probe for %s on interface %d: %w", a, idx, err)
	}
	deadline := time.Now().Add(ProbeWindow)
	buf := make([]byte, 128)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		tv := unix.NsecToTimeval(left.Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return false, err
		}
		n, _, err := unix.Recvfrom(fd, buf, 0)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return false, fmt.Errorf("ARP probe for %s: reading answers: %w", a, err)
		}
		if n >= 28 && !bytes.Equal(buf[8:14], mac) && [4]byte(buf[14:18]) == tpa {
			return true, nil
		}
	}
}

// ProbeWindow is how long Held listens: a lab's peers are veth neighbours
// and answer in microseconds.
const ProbeWindow = 100 * time.Millisecond

// htons is the network-order (big-endian) form of v as the host stores it.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
