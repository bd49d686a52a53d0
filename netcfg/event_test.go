package netcfg

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func removed(dst string) Event {
	return Event{Kind: RouteRemoved, Route: &Route{Dst: netip.MustParsePrefix(dst), Interface: "lan0", Protocol: "static"}}
}

func TestTimelineTagsEventsWithTheRunningStep(t *testing.T) {
	tl := NewTimeline()
	tl.Record(removed("198.51.100.0/24"))
	tl.Step("after deleting 192.0.2.21")
	tl.Record(removed("0.0.0.0/0"))

	ev := tl.Events()
	if ev[0].Step != "setup" || ev[1].Step != "after deleting 192.0.2.21" {
		t.Fatalf("steps = %q, %q", ev[0].Step, ev[1].Step)
	}
	if got := tl.Matching(RouteRemoved, "default"); len(got) != 1 {
		t.Fatalf("Matching(default) = %v", got)
	}
	out := tl.String()
	for _, want := range []string{"== step: after deleting 192.0.2.21", "[after deleting 192.0.2.21] route-removed default dev lan0 proto static"} {
		if !strings.Contains(out, want) {
			t.Errorf("String() lacks %q:\n%s", want, out)
		}
	}
}

func TestWatchSeesEventsFromTheMarkOn(t *testing.T) {
	tl := NewTimeline()
	tl.Record(removed("203.0.113.0/24")) // before the mark: not delivered
	mark := tl.Len()
	tl.Record(removed("0.0.0.0/0")) // between mark and Watch: delivered
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := tl.Watch(ctx, mark, func(e Event) bool { return e.Kind == RouteRemoved })
	tl.Record(Event{Kind: AddrRemoved, Address: &Address{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}})
	tl.Record(removed("198.51.100.0/24"))

	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case e := <-ch:
			got = append(got, e.Route.Dst.String())
		case <-timeout:
			t.Fatalf("Watch delivered %v, want two route removals", got)
		}
	}
	if got[0] != "0.0.0.0/0" || got[1] != "198.51.100.0/24" {
		t.Fatalf("Watch delivered %v", got)
	}
	cancel()
	for range ch { // closed after cancel
	}
}
