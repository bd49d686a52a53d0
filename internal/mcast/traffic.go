package mcast

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
)

// Sender sends UDP datagrams to a multicast group out of one interface
// (IP_MULTICAST_IF), with a TTL that survives forwarding (IP_MULTICAST_TTL).
type Sender struct {
	conn *net.UDPConn
}

// NewSender opens a sender inside do's namespace on interface ifname.
func NewSender(do Do, ifname string, ttl int) (*Sender, error) {
	s := &Sender{}
	err := do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{})
		if err != nil {
			return err
		}
		p := ipv4.NewPacketConn(c)
		if err := p.SetMulticastInterface(ifi); err != nil {
			c.Close()
			return fmt.Errorf("IP_MULTICAST_IF %s: %w", ifname, err)
		}
		if err := p.SetMulticastTTL(ttl); err != nil {
			c.Close()
			return fmt.Errorf("IP_MULTICAST_TTL %d: %w", ttl, err)
		}
		s.conn = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("opening multicast sender on %s: %w", ifname, unsupportedSocket(err))
	}
	return s, nil
}

// Send sends one datagram to group.
func (s *Sender) Send(group netip.AddrPort, payload []byte) error {
	_, err := s.conn.WriteToUDPAddrPort(payload, group)
	return err
}

// Close closes the sender's socket.
func (s *Sender) Close() error { return s.conn.Close() }

// Receiver is a UDP socket bound to a group's port that joins and leaves
// the group on one interface (IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP). It
// receives only the groups it joined (IP_MULTICAST_ALL off).
type Receiver struct {
	conn *net.UDPConn
	pc   *ipv4.PacketConn
	ifi  *net.Interface
}

// NewReceiver opens a receiver inside do's namespace, bound to port with
// SO_REUSEADDR so several receivers share it.
func NewReceiver(do Do, ifname string, port uint16) (*Receiver, error) {
	r := &Receiver{}
	err := do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) { serr = shareMulticastPort(fd) }); err != nil {
				return err
			}
			return serr
		}}
		pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", port))
		if err != nil {
			return err
		}
		r.conn, r.ifi = pc.(*net.UDPConn), ifi
		r.pc = ipv4.NewPacketConn(r.conn)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("opening multicast receiver on %s port %d: %w", ifname, port, unsupportedSocket(err))
	}
	return r, nil
}

// Join joins group on the receiver's interface: IP_ADD_MEMBERSHIP.
func (r *Receiver) Join(group netip.Addr) error {
	if err := r.pc.JoinGroup(r.ifi, &net.UDPAddr{IP: group.AsSlice()}); err != nil {
		return fmt.Errorf("joining %s on %s: %w", group, r.ifi.Name, err)
	}
	return nil
}

// Leave leaves group: IP_DROP_MEMBERSHIP.
func (r *Receiver) Leave(group netip.Addr) error {
	if err := r.pc.LeaveGroup(r.ifi, &net.UDPAddr{IP: group.AsSlice()}); err != nil {
		return fmt.Errorf("leaving %s on %s: %w", group, r.ifi.Name, err)
	}
	return nil
}

// Receive calls fn with every datagram until the receiver is closed.
func (r *Receiver) Receive(fn func(payload []byte)) {
	buf := make([]byte, 1500)
	for {
		n, _, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		fn(buf[:n])
	}
}

// Close closes the socket, which drops its memberships.
func (r *Receiver) Close() error { return r.conn.Close() }
