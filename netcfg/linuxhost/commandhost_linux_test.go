package linuxhost_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
)

// TestCommandHostMatchesNetlink drives a namespace as a remote host would be
// driven (every command through a Runner): its snapshot equals the netlink
// host's, changes made through it show in both, polled events arrive, and
// ip's errors carry the netcfg sentinels.
func TestCommandHostMatchesNetlink(t *testing.T) {
	n := newTestNS(t, "cmd")
	ctx := context.Background()
	h, err := linuxhost.OpenCommands(ctx, "cmd-"+n.Name, linuxhost.Runner(n.Name), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if c := h.Capabilities(); !c.Has(netcfg.IPRoute2) || c.Has(netcfg.Netlink) || c.Dialect != netcfg.DialectLinux || !c.IPv6 {
		t.Errorf("capabilities = %+v", c)
	}
	tl := subscribe(t, h)
	route := netcfg.RouteSpec{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "veth0", Metric: 5, Persistent: true}
	addr := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "veth0"}
	if err := h.AddRoute(ctx, netcfg.IPRoute2, route); err != nil {
		t.Fatal(err)
	}
	if err := h.AddAddress(ctx, netcfg.IPRoute2, addr); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(snapshot(t, n.Host).Lines(), snapshot(t, h).Lines()); d != "" {
		t.Errorf("command snapshot differs from netlink (-netlink +commands):\n%s", d)
	}
	waitEvent(t, tl, netcfg.RouteAdded, "198.51.100.0/24 via 192.0.2.1 dev veth0 proto static metric 5 store persistent")
	waitEvent(t, tl, netcfg.AddrAdded, "addr 192.0.2.21/24 dev veth0 secondary")

	if err := h.AddRoute(ctx, netcfg.IPRoute2, route); !errors.Is(err, netcfg.ErrExists) {
		t.Errorf("adding the route twice: %v, want ErrExists", err)
	}
	if err := h.DeleteRoute(ctx, netcfg.IPRoute2, route); err != nil {
		t.Fatal(err)
	}
	if err := h.DeleteRoute(ctx, netcfg.IPRoute2, route); !errors.Is(err, netcfg.ErrNotFound) {
		t.Errorf("deleting the route twice: %v, want ErrNotFound", err)
	}
	waitEvent(t, tl, netcfg.RouteRemoved, "198.51.100.0/24 via 192.0.2.1 dev veth0 proto static metric 5")
	if err := h.AddRoute(ctx, netcfg.Netlink, route); !errors.Is(err, netcfg.ErrUnsupported) {
		t.Errorf("netlink over commands: %v, want ErrUnsupported", err)
	}
}

// BenchmarkCommandHostSnapshot is a snapshot of a host reached by
// commands (ip -j twice, parsed), here through the namespace's runner: the
// floor of what a remote Linux host costs per poll, before the transport.
func BenchmarkCommandHostSnapshot(b *testing.B) {
	n := newTestNS(b, "cmdb")
	h, err := linuxhost.OpenCommands(context.Background(), "cmd-"+n.Name, linuxhost.Runner(n.Name), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Snapshot(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
