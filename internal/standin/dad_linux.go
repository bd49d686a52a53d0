package standin

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Held probes link idx for another host holding IPv4 address a: one ARP
// probe (RFC 5227: sender address 0.0.0.0, which Linux answers for its own
// addresses), answers read for ProbeWindow.
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
	var fd int
	// The socket belongs to the namespace of the thread that opens it.
	if err := k.inNS(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(proto))
		return err
	}); err != nil {
		return false, fmt.Errorf("ARP probe for %s: opening a packet socket: %w", a, err)
	}
	defer unix.Close(fd)
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
	if err := unix.Sendto(fd, probe, 0, bcast); err != nil {
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
		case err == unix.EAGAIN || err == unix.EINTR:
			continue
		case err != nil:
			return false, fmt.Errorf("ARP probe for %s: reading answers: %w", a, err)
		}
		// An answer: a reply whose sender IP is a.
		if n >= 28 && binary.BigEndian.Uint16(buf[6:]) == 2 && [4]byte(buf[14:18]) == tpa {
			return true, nil
		}
	}
}

// ProbeWindow is how long Held waits for an answer: a lab's peers are
// veth neighbours and answer in microseconds.
const ProbeWindow = 100 * time.Millisecond

func htons(v uint16) uint16 { return v<<8 | v>>8 }
