//go:build linux

package lab

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

// importedFixture is the default lab with routes as an imported host has
// them: a persistent default route via the peer, a non-persistent route
// with a metric, an on-link route and a persistent IPv6 route.
func importedFixture(t *testing.T) *fixtures.Lab {
	t.Helper()
	f := loadFixture(t, "default")
	f.Name = "imported"
	f.Routes = []fixtures.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Persistent: true},
		{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan0", Metric: 25},
		{Dst: netip.MustParsePrefix("203.0.113.0/28"), Interface: "lan0", Metric: 7},
		{Dst: netip.MustParsePrefix("2001:db8:f000::/48"), Gateway: netip.MustParseAddr("2001:db8::1"), Metric: 30, Persistent: true},
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewBuildsRoutes(t *testing.T) {
	skipUnlessRoot(t)
	l := newLab(t, importedFixture(t))
	snap, err := l.Host.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range snap.Routes {
		if (r.Table == "" || r.Table == "main") && r.Type == "" && (r.Protocol == "static" || r.Protocol == "boot") {
			got = append(got, string(r.Store)+" "+r.Line())
		}
	}
	route := func(dst, gw string, metric int, proto string, store netcfg.Store) string {
		r := netcfg.Route{Dst: netip.MustParsePrefix(dst), Interface: "lan0", Metric: metric, Protocol: proto, Store: store}
		if gw != "" {
			r.Gateway = netip.MustParseAddr(gw)
		}
		return string(store) + " " + r.Line()
	}
	want := []string{
		route("0.0.0.0/0", "192.0.2.1", 0, "static", netcfg.StoreActive),
		route("0.0.0.0/0", "192.0.2.1", 0, "static", netcfg.StorePersistent),
		route("198.51.100.0/24", "192.0.2.1", 25, "boot", netcfg.StoreActive),
		route("203.0.113.0/28", "", 7, "boot", netcfg.StoreActive),
		route("2001:db8:f000::/48", "2001:db8::1", 30, "static", netcfg.StoreActive),
		route("2001:db8:f000::/48", "2001:db8::1", 30, "static", netcfg.StorePersistent),
	}
	if d := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("the built lab's static and boot routes (-want +got):\n%s", d)
	}
	// The routes are part of the lab as built: the baseline has them.
	if b := l.Journal().Baseline(); len(b.Routes) != len(snap.Routes) {
		t.Errorf("baseline has %d routes, the host %d", len(b.Routes), len(snap.Routes))
	}
}

func TestNewRefusedRouteNamesIt(t *testing.T) {
	skipUnlessRoot(t)
	f := importedFixture(t)
	// The same destination twice: the kernel refuses the second (EEXIST).
	f.Routes = append(f.Routes, fixtures.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Persistent: true})
	before := ownNamespaces(t)
	l, err := New(context.Background(), f)
	if err == nil {
		l.Close()
		t.Fatal("New succeeded with a duplicate route")
	}
	if !strings.Contains(err.Error(), "routes[4] (0.0.0.0/0 via 192.0.2.1 dev lan0 proto static)") {
		t.Errorf("New error = %v, want it to name routes[4]", err)
	}
	if after := ownNamespaces(t); len(after) != len(before) {
		t.Errorf("a refused lab left namespaces: %v", after)
	}
}

// TestRoutesRefusedOnHostsNotBuilt: attaching a fixture with routes (an
// existing namespace; openHost for Windows and remote hosts calls the same
// check) is refused before the host is touched.
func TestRoutesRefusedOnHostsNotBuilt(t *testing.T) {
	f := importedFixture(t)
	_, err := Attach(context.Background(), "kbh-no-such-namespace", f)
	if !errors.Is(err, ErrRoutesNotBuilt) {
		t.Fatalf("Attach: %v, want ErrRoutesNotBuilt", err)
	}
	if !strings.Contains(err.Error(), "lab imported on netns:kbh-no-such-namespace: 4 routes") {
		t.Errorf("Attach error = %v, want it to name the lab, the target and the routes", err)
	}
	if err := refuseRoutes(&fixtures.Lab{Name: "x"}, "local"); err != nil {
		t.Errorf("refuseRoutes without routes: %v", err)
	}
}

func TestRouteInterface(t *testing.T) {
	f := loadFixture(t, "multihomed")
	for _, tc := range []struct {
		r    fixtures.Route
		want string
	}{
		{fixtures.Route{Gateway: netip.MustParseAddr("198.51.100.1")}, "lan1"},
		{fixtures.Route{Gateway: netip.MustParseAddr("2001:db8:1::1")}, "lan0"},
		{fixtures.Route{Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan1"}, "lan1"},
		{fixtures.Route{Gateway: netip.MustParseAddr("192.0.2.99")}, ""},
	} {
		if got := RouteInterface(f, tc.r); got != tc.want {
			t.Errorf("RouteInterface(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}
