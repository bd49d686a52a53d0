package winreg

import (
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestParsePersistentRoute(t *testing.T) {
	for _, tc := range []struct {
		name    string // the registry value name
		want    Route
		wantErr string // substring of the error; "" for success
	}{
		{
			name: "0.0.0.0,0.0.0.0,192.0.2.1,1", // route -p add 0.0.0.0 mask 0.0.0.0 192.0.2.1 metric 1
			want: Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Metric: 1},
		},
		{
			name: "198.51.100.0,255.255.255.0,192.0.2.1,-1", // no METRIC: route print says "Default"
			want: Route{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Metric: DefaultMetric},
		},
		{
			name: "203.0.113.7,255.255.255.255,0.0.0.0,25", // on-link host route
			want: Route{Dst: netip.MustParsePrefix("203.0.113.7/32"), Metric: 25},
		},
		{
			name: " 198.51.100.128 , 255.255.255.128 , 192.0.2.1 , 3 ",
			want: Route{Dst: netip.MustParsePrefix("198.51.100.128/25"), Gateway: netip.MustParseAddr("192.0.2.1"), Metric: 3},
		},
		{name: "198.51.100.0,255.255.255.0,192.0.2.1", wantErr: "want 4 comma-separated fields"},
		{name: "", wantErr: "want 4 comma-separated fields"},
		{name: "198.51.100.0,255.255.255.0,192.0.2.1,1,extra", wantErr: "have 5"},
		{name: "198.51.100.x,255.255.255.0,192.0.2.1,1", wantErr: `destination "198.51.100.x"`},
		{name: "2001:db8::,255.255.255.0,192.0.2.1,1", wantErr: "not a dotted IPv4"},
		{name: "198.51.100.0,255.0.255.0,192.0.2.1,1", wantErr: "not contiguous"},
		{name: "198.51.100.1,255.255.255.0,192.0.2.1,1", wantErr: "bits outside mask"},
		{name: "198.51.100.0,255.255.255.0,gw,1", wantErr: `gateway "gw"`},
		{name: "198.51.100.0,255.255.255.0,192.0.2.1,Default", wantErr: `metric "Default"`},
		{name: "198.51.100.0,255.255.255.0,192.0.2.1,-2", wantErr: `metric "-2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePersistentRoute(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.name) {
					t.Errorf("error %q does not quote the value name", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
				t.Errorf("route (-want +got):\n%s", d)
			}
		})
	}
}

// TestParsePersistentRouteULongMetric: the metric is a ULONG; it comes back
// exact where int holds it and is an error naming it where int is 32 bits.
func TestParsePersistentRouteULongMetric(t *testing.T) {
	name := "0.0.0.0,0.0.0.0,192.0.2.1,4294967295"
	r, err := ParsePersistentRoute(name)
	if math.MaxInt == math.MaxInt32 {
		if err == nil || !strings.Contains(err.Error(), "metric 4294967295") {
			t.Errorf("32-bit: %+v, %v; want an error naming metric 4294967295", r, err)
		}
		return
	}
	if err != nil || uint64(r.Metric) != math.MaxUint32 {
		t.Errorf("%+v, %v", r, err)
	}
	if back, err := PersistentRouteName(r); err != nil || back != name {
		t.Errorf("round trip: %q, %v", back, err)
	}
	if _, err := ParsePersistentRoute("0.0.0.0,0.0.0.0,192.0.2.1,4294967296"); err == nil {
		t.Error("metric 4294967296: no error")
	}
}

func TestParsePersistentRoutesStopsAtFirstBadName(t *testing.T) {
	_, err := ParsePersistentRoutes([]string{"0.0.0.0,0.0.0.0,192.0.2.1,1", "junk"})
	if err == nil || !strings.Contains(err.Error(), `"junk"`) {
		t.Fatalf("error = %v, want one naming \"junk\"", err)
	}
	rs, err := ParsePersistentRoutes(nil)
	if err != nil || len(rs) != 0 {
		t.Fatalf("ParsePersistentRoutes(nil) = %v, %v; want no routes", rs, err)
	}
}

// Every IPv4 route survives naming and parsing back.
func TestPersistentRouteNameRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b4 [4]byte
		for i := range b4 {
			b4[i] = rapid.Byte().Draw(t, "octet")
		}
		dst := netip.PrefixFrom(netip.AddrFrom4(b4), rapid.IntRange(0, 32).Draw(t, "bits")).Masked()
		want := Route{Dst: dst, Metric: rapid.IntRange(DefaultMetric, 9999).Draw(t, "metric")}
		if rapid.Bool().Draw(t, "gateway") {
			want.Gateway = netip.AddrFrom4([4]byte{192, 0, 2, rapid.ByteRange(1, 254).Draw(t, "gw")})
		}
		name, err := PersistentRouteName(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParsePersistentRoute(name)
		if err != nil {
			t.Fatalf("parsing %q: %v", name, err)
		}
		if got != want {
			t.Fatalf("round trip of %q: got %+v, want %+v", name, got, want)
		}
	})
}

func TestPersistentRouteNameRejectsIPv6(t *testing.T) {
	if _, err := PersistentRouteName(Route{Dst: netip.MustParsePrefix("2001:db8::/64")}); err == nil {
		t.Fatal("want an error for an IPv6 route")
	}
}

func TestCrossCheck(t *testing.T) {
	route := func(name string) Route {
		r, err := ParsePersistentRoute(name)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	registry := []Route{route("0.0.0.0,0.0.0.0,192.0.2.1,1"), route("198.51.100.0,255.255.255.0,192.0.2.1,-1")}
	// route print also lists an IPv6 persistent route that the registry
	// view cannot hold: not a mismatch.
	printed := []Route{route("198.51.100.0,255.255.255.0,192.0.2.1,-1"), route("0.0.0.0,0.0.0.0,192.0.2.1,1"),
		{Dst: netip.MustParsePrefix("2001:db8:1::/64")}}
	if m := CrossCheck(registry, printed); !m.Empty() {
		t.Errorf("CrossCheck of agreeing views = %+v, want empty", m)
	}

	// The KB signature: the default route left the persistent store that
	// route print reads, the registry still lists it (or the reverse).
	m := CrossCheck(registry, printed[:1])
	want := Mismatch{OnlyRegistry: []string{"0.0.0.0,0.0.0.0,192.0.2.1,1"}}
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("CrossCheck (-want +got):\n%s", d)
	}
	m = CrossCheck(nil, registry)
	if len(m.OnlyOther) != 2 || len(m.OnlyRegistry) != 0 {
		t.Errorf("CrossCheck(nil, registry) = %+v, want both routes in OnlyOther", m)
	}
}
