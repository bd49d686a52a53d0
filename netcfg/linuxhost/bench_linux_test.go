//go:build linux

package linuxhost_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
)

const benchRoutes = 100_000

// newBenchNS is newTestNS plus benchRoutes /32 routes in 198.18.0.0/15 via
// the veth peer, installed with one `ip -batch`.
func newBenchNS(b *testing.B, suffix string) *testNS {
	n := newTestNS(b, suffix)
	var batch strings.Builder
	base := netip.MustParseAddr("198.18.0.0").As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16
	for i := uint32(0); i < benchRoutes; i++ {
		a := start + i
		fmt.Fprintf(&batch, "route add %d.%d.%d.%d/32 via 192.0.2.1\n", a>>24, a>>16&0xff, a>>8&0xff, a&0xff)
	}
	cmd := exec.Command("ip", "-n", n.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(batch.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("running ip -n %s -batch -: %v: %s", n.Name, err, out)
	}
	return n
}

// BenchmarkSnapshot100kRoutes: one netlink Snapshot of a namespace holding
// 100,000 routes (plus the veth/loopback bookkeeping).
func BenchmarkSnapshot100kRoutes(b *testing.B) {
	n := newBenchNS(b, "nbs")
	b.Run("netlink", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := n.Host.Snapshot(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if len(s.Routes) < benchRoutes {
				b.Fatalf("snapshot has %d routes, want at least %d", len(s.Routes), benchRoutes)
			}
		}
	})
}

// BenchmarkIPJSONRouteShow100k: exec `ip -j route show table all` on the same
// table and parse it with iproute2.ParseRoutes, for comparison.
func BenchmarkIPJSONRouteShow100k(b *testing.B) {
	n := newBenchNS(b, "nbj")
	argv := iproute2.ShowRoutes(n.Name)
	b.Run("ip-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := exec.Command(argv[0], argv[1:]...).Output()
			if err != nil {
				b.Fatalf("running %q: %v", argv, err)
			}
			rs, err := iproute2.ParseRoutes(out)
			if err != nil {
				b.Fatal(err)
			}
			if len(rs) < benchRoutes {
				b.Fatalf("parsed %d routes, want at least %d", len(rs), benchRoutes)
			}
		}
	})
}

// BenchmarkDeleteToEvent: time from a netlink route deletion (RTM_DELROUTE
// sent) until Subscribe's callback sees the RouteRemoved. The add before
// each deletion is not timed.
func BenchmarkDeleteToEvent(b *testing.B) {
	n := newTestNS(b, "nbe")
	r := netcfg.RouteSpec{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "veth0", Persistent: true}
	removed := make(chan struct{}, 1)
	stop, err := n.Host.Subscribe(context.Background(), func(e netcfg.Event) {
		if e.Kind == netcfg.RouteRemoved && e.Route.Dst == r.Dst {
			removed <- struct{}{}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := n.Host.AddRoute(ctx, netcfg.Netlink, r); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := n.Host.DeleteRoute(ctx, netcfg.Netlink, r); err != nil {
			b.Fatal(err)
		}
		<-removed
	}
}
