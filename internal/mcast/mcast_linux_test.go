//go:build linux

package mcast

import (
	"context"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg/lab"
)

func multihomedLab(t *testing.T) *lab.Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	f, err := fixtures.LoadLab("multihomed")
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.New(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func in(l *lab.Lab, role string) Do {
	return func(fn func() error) error { return l.Do(role, fn) }
}

// Traffic from gw1 to 239.255.43.50 crosses the lab host to a receiver in
// gw2 only while the (S,G) MFC entry exists; closing the router resets
// mc_forwarding.
func TestForwardingThroughHost(t *testing.T) {
	l := multihomedLab(t)
	host := in(l, lab.HostRole)
	r, err := Open(host)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			r.Close()
		}
	})
	if on, err := MCForwarding(host, "all"); err != nil || !on {
		t.Fatalf("mc_forwarding after MRT_INIT = %v, %v; want on", on, err)
	}
	for vif, ifname := range []string{"lan0", "lan1"} {
		if err := r.AddVIF(uint16(vif), ifname); err != nil {
			t.Fatal(err)
		}
	}
	src := netip.MustParseAddr("192.0.2.1")
	group := netip.MustParseAddrPort("239.255.43.50:5000")
	snd, err := NewSender(in(l, "gw1"), "eth0", 8)
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	rcv, err := NewReceiver(in(l, "gw2"), "eth0", group.Port())
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	if err := rcv.Join(group.Addr()); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	go rcv.Receive(func([]byte) { got.Add(1) })

	// Without an MFC entry the kernel raises IGMPMSG_NOCACHE and forwards nothing.
	for range 5 {
		if err := snd.Send(group, []byte("no-mfc")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a NOCACHE upcall", func() bool { return r.Stats().NoCache > 0 })
	if n := got.Load(); n != 0 {
		t.Fatalf("received %d datagrams without an MFC entry", n)
	}

	mfc := MFC{Source: src, Group: group.Addr(), In: 0, Out: []uint16{1}}
	if err := r.AddMFC(mfc); err != nil {
		t.Fatal(err)
	}
	before := got.Load() // packets queued while unresolved are released now
	waitFor(t, "forwarded datagrams", func() bool {
		snd.Send(group, []byte("mfc"))
		return got.Load() > before+3
	})
	if err := r.DelMFC(mfc); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if on, err := MCForwarding(host, "all"); err != nil || on {
		t.Fatalf("mc_forwarding after MRT_DONE = %v, %v; want off", on, err)
	}
	t.Logf("received %d, router stats %+v", got.Load(), r.Stats())
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 3s", what)
		}
		<-tick.C
	}
}

func TestMFCEncoding(t *testing.T) {
	b, err := mfcctl(MFC{Source: netip.MustParseAddr("192.0.2.1"), Group: netip.MustParseAddr("239.255.43.50"), In: 0, Out: []uint16{1, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 60 || b[0] != 192 || b[3] != 1 || b[4] != 239 || b[10] != 0 || b[11] != 1 || b[13] != 1 {
		t.Fatalf("mfcctl = %v", b)
	}
	if _, err := mfcctl(MFC{Source: netip.MustParseAddr("2001:db8::1"), Group: netip.MustParseAddr("ff15::1")}); err == nil {
		t.Fatal("mfcctl accepted IPv6")
	}
	if _, err := mfcctl(MFC{Source: netip.MustParseAddr("192.0.2.1"), Group: netip.MustParseAddr("239.255.0.1"), Out: []uint16{32}}); err == nil {
		t.Fatal("mfcctl accepted vif 32")
	}
}
