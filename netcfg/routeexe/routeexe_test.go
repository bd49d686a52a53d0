package routeexe

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/netcfg"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func TestBuilders(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []string
		want string
	}{
		{"persistent default without if (the KB article)",
			must(AddArgv(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.1"), Persistent: true}, 0)),
			"route -p add 0.0.0.0 mask 0.0.0.0 192.0.2.1"},
		{"active route with metric and if",
			must(AddArgv(netcfg.RouteSpec{Dst: pfx("198.51.100.0/24"), Gateway: addr("192.0.2.1"), Metric: 3}, 12)),
			"route add 198.51.100.0 mask 255.255.255.0 192.0.2.1 metric 3 if 12"},
		{"on-link IPv4 host route",
			must(AddArgv(netcfg.RouteSpec{Dst: pfx("203.0.113.7/32")}, 5)),
			"route add 203.0.113.7 mask 255.255.255.255 0.0.0.0 if 5"},
		{"non-octet mask",
			must(AddArgv(netcfg.RouteSpec{Dst: pfx("192.0.2.128/25"), Gateway: addr("192.0.2.1")}, 0)),
			"route add 192.0.2.128 mask 255.255.255.128 192.0.2.1"},
		{"IPv6 persistent",
			must(AddArgv(netcfg.RouteSpec{Dst: pfx("2001:db8:1::/48"), Gateway: addr("2001:db8::1"), Persistent: true, Metric: 10}, 7)),
			"route -p add 2001:db8:1::/48 2001:db8::1 metric 10 if 7"},
		{"IPv6 on-link",
			must(AddArgv(netcfg.RouteSpec{Dst: pfx("2001:db8:2::/64")}, 7)),
			"route add 2001:db8:2::/64 :: if 7"},
		{"delete with gateway (persistent flag ignored)",
			must(DeleteArgv(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.1"), Persistent: true}, 0)),
			"route delete 0.0.0.0 mask 0.0.0.0 192.0.2.1"},
		{"delete on-link with if",
			must(DeleteArgv(netcfg.RouteSpec{Dst: pfx("203.0.113.0/24")}, 4)),
			"route delete 203.0.113.0 mask 255.255.255.0 if 4"},
		{"delete IPv6",
			must(DeleteArgv(netcfg.RouteSpec{Dst: pfx("2001:db8:1::/48"), Gateway: addr("2001:db8::1")}, 0)),
			"route delete 2001:db8:1::/48 2001:db8::1"},
		{"print -4", Print(netcfg.IPv4), "route print -4"},
		{"print -6", Print(netcfg.IPv6), "route print -6"},
		{"print both", Print(0), "route print"},
	} {
		if got := strings.Join(tc.got, " "); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestBuildersMaskDestination: route.exe refuses DEST & MASK != DEST, so
// every builder writes the masked network.
func TestBuildersMaskDestination(t *testing.T) {
	spec := netcfg.RouteSpec{Dst: pfx("198.51.100.7/24"), Gateway: addr("192.0.2.1"), Metric: 5}
	v6 := netcfg.RouteSpec{Dst: pfx("2001:db8:1::7/48"), Gateway: addr("2001:db8::1")}
	for _, tc := range []struct {
		name string
		got  []string
		want string
	}{
		{"DeleteArgv with if", must(DeleteArgv(spec, 3)), "route delete 198.51.100.0 mask 255.255.255.0 192.0.2.1 if 3"},
		{"AddArgv", must(AddArgv(spec, 0)), "route add 198.51.100.0 mask 255.255.255.0 192.0.2.1 metric 5"},
		{"DeleteArgv", must(DeleteArgv(spec, 0)), "route delete 198.51.100.0 mask 255.255.255.0 192.0.2.1"},
		{"AddArgv IPv6", must(AddArgv(v6, 7)), "route add 2001:db8:1::/48 2001:db8::1 if 7"},
	} {
		if got := strings.Join(tc.got, " "); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func must(argv []string, err error) []string {
	if err != nil {
		return []string{"ERROR:", err.Error()}
	}
	return argv
}

// TestAddArgvMetricRange: METRIC is 1..9999; 0 leaves it out; anything else
// is an error naming the value.
func TestAddArgvMetricRange(t *testing.T) {
	base := netcfg.RouteSpec{Dst: pfx("198.51.100.0/24"), Gateway: addr("192.0.2.1")}
	for metric, want := range map[int]string{
		0:    "route add 198.51.100.0 mask 255.255.255.0 192.0.2.1",
		1:    "route add 198.51.100.0 mask 255.255.255.0 192.0.2.1 metric 1",
		9999: "route add 198.51.100.0 mask 255.255.255.0 192.0.2.1 metric 9999",
	} {
		r := base
		r.Metric = metric
		if got := strings.Join(must(AddArgv(r, 0)), " "); got != want {
			t.Errorf("metric %d: got %q, want %q", metric, got, want)
		}
	}
	for _, metric := range []int{10000, -1, 1 << 30} {
		r := base
		r.Metric = metric
		_, err := AddArgv(r, 0)
		if err == nil || !strings.Contains(err.Error(), "metric "+strconv.Itoa(metric)) || !strings.Contains(err.Error(), "1..9999") {
			t.Errorf("metric %d: err = %v, want one naming the value and 1..9999", metric, err)
		}
	}
	for name, err := range map[string]error{
		"invalid Dst":    second(AddArgv(netcfg.RouteSpec{Gateway: addr("192.0.2.1")}, 0)),
		"family differs": second(AddArgv(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Gateway: addr("2001:db8::1")}, 0)),
		"is negative":    second(DeleteArgv(base, -2)),
		"delete Dst":     second(DeleteArgv(netcfg.RouteSpec{}, 0)),
	} {
		want := name
		if name == "invalid Dst" || name == "delete Dst" {
			want = "Dst: invalid prefix"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func second(_ []string, err error) error { return err }

func parseFile(t *testing.T, name string) *Table {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := ParsePrint(string(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tb
}

func rows(tb *Table, f netcfg.Family, s netcfg.Store) []Row {
	var out []Row
	for _, r := range tb.Rows {
		if r.Family == f && r.Store == s {
			out = append(out, r)
		}
	}
	return out
}

// persistentLine renders a persistent IPv4 row compactly for comparison.
func persistentLines(tb *Table) []string {
	var out []string
	for _, r := range rows(tb, netcfg.IPv4, netcfg.StorePersistent) {
		l := netcfg.Route{Dst: r.Dst, Gateway: r.Gateway, Metric: r.Metric, Store: r.Store}.Line()
		if r.DefaultMetric {
			l += " (Default)"
		}
		out = append(out, l)
	}
	return out
}

// sampleFacts holds the key facts asserted per captured sample.
type sampleFacts struct {
	interfaces, v4Active, v6Active int
	persistent                     []string // persistentLines
	check                          func(t *testing.T, tb *Table)
}

var samples = map[string]sampleFacts{
	"01-ubuntuforums-xp-schools-network.txt": {2, 7, 0, nil, func(t *testing.T, tb *Table) {
		want := "Intel(R) 82566DM Gigabit Network Connection - Packet Scheduler Miniport"
		if d := tb.Interfaces[1].Description; d != want {
			t.Errorf("80-col wrap not joined: %q", d)
		}
		if tb.Interfaces[1].Index != 2 || tb.Interfaces[1].MAC != "00:19:b9:2b:d0:d1" {
			t.Errorf("XP interface: %+v", tb.Interfaces[1])
		}
		if tb.DefaultGateway != addr("199.237.188.1") {
			t.Errorf("Default Gateway line: %v", tb.DefaultGateway)
		}
		// XP on-link: the gateway is the interface address.
		r := tb.Rows[2]
		if r.Dst != pfx("199.237.188.0/23") || !r.OnLink || r.Metric != 20 {
			t.Errorf("XP on-link row: %+v", r)
		}
	}},
	"02-plc4x-german-win7-netstat-rn.txt": {6, 16, 15, nil, func(t *testing.T, tb *Table) {
		r := rows(tb, netcfg.IPv4, netcfg.StoreActive)[1]
		if !r.OnLink || r.GatewayText != "Auf Verbindung" || r.InterfaceIP != addr("10.211.55.3") || r.Metric != 266 {
			t.Errorf("German on-link row: %+v", r)
		}
		v6 := rows(tb, netcfg.IPv6, netcfg.StoreActive)
		if v6[0].Gateway != addr("fe80::21c:42ff:fe00:18") || v6[0].IfIndex != 11 {
			t.Errorf("IPv6 default: %+v", v6[0])
		}
		w := v6[3] // wrapped gateway line
		if w.Dst != pfx("fdb2:2c26:f4e4:0:24b4:9398:1a69:664/128") || !w.OnLink || w.GatewayText != "Auf Verbindung" {
			t.Errorf("wrapped IPv6 row: %+v", w)
		}
		if tb.Interfaces[3].MAC != "00:00:00:00:00:00:00:e0" || tb.Interfaces[3].Description != "Microsoft-ISATAP-Adapter" {
			t.Errorf("8-byte MAC entry: %+v", tb.Interfaces[3])
		}
	}},
	"04-pentest-cheatsheet-win2008-netstat-r-persistent-default.txt": {4, 11, 5,
		[]string{"default via 192.168.10.1 metric 0 store persistent (Default)"}, func(t *testing.T, tb *Table) {
			if i := tb.Interfaces[2]; i.Index != 12 || i.Description != "isatap.{DDE3DF3D-3417-4EBF-BF66-73BD3A64FF26}" {
				t.Errorf("spaced entry: %+v", i)
			}
		}},
	"05-jackpal-gateway-french-fixture-trimmed.txt": {2, 1, 0, nil, func(t *testing.T, tb *Table) {
		if r := tb.Rows[0]; r.Gateway != addr("10.88.88.2") || r.Metric != 10 {
			t.Errorf("French default: %+v", r)
		}
	}},
	"07-jackpal-gateway-anyconnect-multigw-trimmed.txt": {7, 2, 0, nil, func(t *testing.T, tb *Table) {
		if d := tb.Interfaces[0].Description; !strings.HasSuffix(d, "for Windows x64") {
			t.Errorf("long description: %q", d)
		}
	}},
	"08-oscp-notes-nickel-win10-1903-persistent-metric1.txt": {2, 11, 2,
		[]string{"default via 192.168.238.254 metric 1 store persistent"}, nil},
	"10-blog-ec2-winserver2025-two-enis-persistent-default.txt": {3, 23, 12,
		[]string{"default via 10.200.123.129 metric 0 store persistent (Default)"}, nil},
	"11-blog-ec2-winserver2025-persistent-fragment-after-route-add-p.txt": {0, 0, 0,
		[]string{"default via 10.200.123.129 metric 0 store persistent (Default)", "157.0.0.0/8 via 10.200.123.1 metric 1 store persistent"}, nil},
	"13-blog-hacking-ipv6-win10-route-print-6-trimmed.txt": {3, 0, 4, nil, func(t *testing.T, tb *Table) {
		if d := tb.Interfaces[0].Description; d != "Intel(R) 82577LM Gigabit Network" {
			t.Errorf("trailing spaces kept: %q", d)
		}
	}},
	"14-jc-fixture-winxp-route-print-persistent.txt": {2, 8, 0,
		[]string{"10.0.4.0/24 via 192.168.22.1 metric 1 store persistent"}, nil},
	"16-jc-fixture-win2008-route-print-persistent-default.txt": {3, 11, 5,
		[]string{"default via 192.168.23.1 metric 0 store persistent (Default)"}, nil},
	"17-jc-fixture-win2016-route-print-persistent-default.txt": {3, 11, 5,
		[]string{"default via 192.168.22.1 metric 0 store persistent (Default)"}, nil},
	"19-jc-fixture-win11-openvpn-dco-route-print.txt": {11, 21, 16, nil, func(t *testing.T, tb *Table) {
		r := rows(tb, netcfg.IPv6, netcfg.StoreActive)[1]
		if r.Dst != pfx("fd18:4310:ad04:1::/64") || r.Gateway != addr("fe80::4600:49ff:fee1:c6ee") || r.OnLink {
			t.Errorf("IPv6 gatewayed route: %+v", r)
		}
	}},
	"20-jc-fixture-win10-hyperv-vmware-crlf-persistent-157.txt": {9, 47, 26,
		[]string{"157.0.0.0/8 via 157.55.80.1 metric 3 store persistent"}, func(t *testing.T, tb *Table) {
			r := rows(tb, netcfg.IPv4, netcfg.StoreActive)[4]
			if r.Dst != pfx("157.0.0.0/8") || r.Gateway != addr("157.55.80.1") || r.Metric != 78 {
				t.Errorf("active 157 route: %+v", r)
			}
		}},
	"22-go-comment-chinese-route-print-4-persistent-moren.txt": {11, 39, 0,
		[]string{"default via 192.168.8.2 metric 0 store persistent (Default)"}, func(t *testing.T, tb *Table) {
			r := rows(tb, netcfg.IPv4, netcfg.StoreActive)[3]
			if r.Dst != pfx("26.26.26.0/29") || !r.OnLink || r.GatewayText != "在链路上" {
				t.Errorf("Chinese on-link: %+v", r)
			}
		}},
	"23-chinese-ops-notes-route-print-ipv6-zh-cn.txt": {9, 25, 5, nil, func(t *testing.T, tb *Table) {
		if d := tb.Interfaces[1].Description; d != "Microsoft KM-TEST 环回适配器" {
			t.Errorf("localized description: %q", d)
		}
	}},
	"25-ubuntuforums-xp-MANGLED-doublespaced-tabs.txt": {3, 8, 0, nil, func(t *testing.T, tb *Table) {
		r := rows(tb, netcfg.IPv4, netcfg.StoreActive)[7]
		if r.IfIndex != 3 || r.InterfaceIP.IsValid() || r.Metric != 1 {
			t.Errorf("XP interface-index row: %+v", r)
		}
	}},
	"26-russian-lab-notes-route-print-ru-ru-hyperv-windscribe.txt": {10, 27, 11, nil, func(t *testing.T, tb *Table) {
		if r := tb.Rows[1]; r.Dst != pfx("10.10.10.0/26") || r.Gateway != addr("192.168.88.111") {
			t.Errorf("Russian row: %+v", r)
		}
	}},
	"27-fr-win10-ynov-tp-persistent-par-defaut-MANGLED-indent.txt": {9, 31, 17,
		[]string{"default via 192.168.127.1 metric 0 store persistent (Default)"}, func(t *testing.T, tb *Table) {
			if r := rows(tb, netcfg.IPv4, netcfg.StorePersistent)[0]; r.MetricText != "Par défaut" || r.OnLink {
				t.Errorf("French persistent row: %+v", r)
			}
		}},
	"28-es-win7-puppet-course-route-print-predeterminada.txt": {3, 11, 5,
		[]string{"default via 172.18.0.1 metric 0 store persistent (Default)"}, func(t *testing.T, tb *Table) {
			r := rows(tb, netcfg.IPv4, netcfg.StoreActive)[1]
			if !r.OnLink || r.GatewayText != "En vínculo" || r.InterfaceIP != addr("127.0.0.1") || r.Metric != 306 {
				t.Errorf("Spanish on-link row: %+v", r)
			}
		}},
	"29-it-win11-openvpn-notes-route-print.txt": {7, 20, 0, nil, func(t *testing.T, tb *Table) {
		if r := tb.Rows[1]; r.Dst != pfx("10.0.0.0/9") || r.Gateway != addr("10.29.2.1") || r.Metric != 261 {
			t.Errorf("Italian row: %+v", r)
		}
	}},
	"30-ptbr-win10-notes-route-print-no-vinculo.txt": {3, 11, 5, nil, func(t *testing.T, tb *Table) {
		r := rows(tb, netcfg.IPv6, netcfg.StoreActive)[2]
		if r.Dst != pfx("fe80::4a5a:6b08:a0ab:c514/128") || !r.OnLink || r.GatewayText != "No vínculo" {
			t.Errorf("pt-BR wrapped IPv6 row: %+v", r)
		}
	}},
	"31-ptbr-notes-persistent-fragment-padrao.txt": {0, 0, 0,
		[]string{"default via 192.168.0.99 metric 0 store persistent (Default)", "172.19.0.0/16 via 192.168.1.201 metric 1 store persistent"}, nil},
	"32-ja-ibmcloud-docs-route-print-active-partial.txt": {5, 2, 0, nil, func(t *testing.T, tb *Table) {
		if r := tb.Rows[0]; r.Gateway != addr("169.54.255.65") || r.Metric != 26 {
			t.Errorf("Japanese row: %+v", r)
		}
	}},
}

// TestSamples parses every file in testdata and asserts its key facts.
func TestSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) != len(samples) {
		t.Errorf("%d samples in testdata, %d with facts", len(files), len(samples))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := samples[name]
			if !ok {
				t.Fatalf("no facts for %s", name)
			}
			tb := parseFile(t, name)
			got := sampleFacts{
				interfaces: len(tb.Interfaces),
				v4Active:   len(rows(tb, netcfg.IPv4, netcfg.StoreActive)),
				v6Active:   len(rows(tb, netcfg.IPv6, netcfg.StoreActive)),
				persistent: persistentLines(tb),
			}
			if diff := cmp.Diff([]any{want.interfaces, want.v4Active, want.v6Active, want.persistent},
				[]any{got.interfaces, got.v4Active, got.v6Active, got.persistent}); diff != "" {
				t.Errorf("[interfaces v4 v6 persistent] (-want +got):\n%s", diff)
			}
			if want.check != nil {
				want.check(t, tb)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	tb := parseFile(t, "20-jc-fixture-win10-hyperv-vmware-crlf-persistent-157.txt")
	byIP := map[netip.Addr]string{addr("192.168.31.221"): "Wi-Fi"}
	rts := tb.Routes(Resolver{
		ByIP:    func(a netip.Addr) string { return byIP[a] },
		ByIndex: tb.DescriptionByIndex,
	})
	var lines []string
	for _, r := range rts {
		if r.Dst == pfx("0.0.0.0/0") || r.Dst == pfx("157.0.0.0/8") || r.Dst == pfx("192.168.31.0/24") || r.Dst == pfx("fe80::/64") && r.Interface == "Hyper-V Virtual Ethernet Adapter #2" {
			lines = append(lines, r.Line())
		}
	}
	want := []string{
		"default via 192.168.31.1 dev Wi-Fi metric 30",
		"157.0.0.0/8 via 157.55.80.1 metric 78",
		"192.168.31.0/24 dev Wi-Fi metric 286",
		"157.0.0.0/8 via 157.55.80.1 metric 3 store persistent",
		"fe80::/64 dev Hyper-V Virtual Ethernet Adapter #2 metric 5256",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, wantSub string
		unknownLabel        bool
	}{
		{"empty", "", "no interface list", false},
		{"unknown language label", "Unknown Routes:\n  0.0.0.0  0.0.0.0  192.0.2.1  192.0.2.10  10\n", "Unknown Routes", true},
		{"persistent row of words only", "Persistent Routes:\n  10.0.0.0  255.0.0.0  Some Gateway  Some Default\n", "cannot tell the Gateway column", false},
		{"row before label", "  0.0.0.0  0.0.0.0  192.0.2.1  192.0.2.10  10\n", "before any", false},
		{"non-contiguous mask", "Active Routes:\n  192.0.2.0  255.0.255.0  192.0.2.1  192.0.2.10  10\n", "not contiguous", false},
		{"short active row", "Active Routes:\n  192.0.2.0  255.255.255.0  192.0.2.1  10\n", "want 5", false},
		{"bad active metric", "Active Routes:\n  192.0.2.0  255.255.255.0  On-link  192.0.2.10  Default\n", "Metric column", false},
		{"bad interface", "Active Routes:\n  192.0.2.0  255.255.255.0  On-link  eth0  1\n", "Interface column", false},
		{"IPv6 wrap missing at end", "Active Routes:\n  7  256 2001:db8::1/128\n", "has no gateway", false},
		{"IPv6 wrap missing mid", "Active Routes:\n  7  256 2001:db8::1/128\n=====\n", "has no gateway", false},
		{"bad IPv6 prefix", "Active Routes:\n  7  256 2001:db8::1/999 On-link\n", "Network Destination", false},
	} {
		_, err := ParsePrint(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.wantSub) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.wantSub)
			continue
		}
		if got := errors.Is(err, ErrUnknownLabel); got != tc.unknownLabel {
			t.Errorf("%s: errors.Is(ErrUnknownLabel) = %v", tc.name, got)
		}
	}
}

// TestPersistentRowWords: a persistent row's Gateway and Metric columns may
// each hold several words; the values stay whole and land in their column.
func TestPersistentRowWords(t *testing.T) {
	text := "Persistent Routes:\n" +
		"  Network Address          Netmask  Gateway Address  Metric\n" +
		"       10.1.0.0      255.255.0.0      192.0.2.1  Par défaut\n" +
		"       10.2.0.0      255.255.0.0  Auf Verbindung       5\n" +
		"       10.3.0.0      255.255.0.0     En vínculo  Predeterminada\n" +
		"       10.4.0.0      255.255.0.0      192.0.2.1      7\n"
	tb, err := ParsePrint(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tb.Rows {
		got = append(got, fmt.Sprintf("%s gw=%v onlink=%v gwtext=%q metric=%d default=%v %q", r.Dst, r.Gateway, r.OnLink, r.GatewayText, r.Metric, r.DefaultMetric, r.MetricText))
	}
	want := []string{
		`10.1.0.0/16 gw=192.0.2.1 onlink=false gwtext="192.0.2.1" metric=0 default=true "Par défaut"`,
		`10.2.0.0/16 gw=invalid IP onlink=true gwtext="Auf Verbindung" metric=5 default=false ""`,
		`10.3.0.0/16 gw=invalid IP onlink=true gwtext="En vínculo" metric=0 default=true "Predeterminada"`,
		`10.4.0.0/16 gw=192.0.2.1 onlink=false gwtext="192.0.2.1" metric=7 default=false ""`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestMetricsAre32BitSafe: metrics and interface indexes are ULONGs. Where
// int holds them they come back exact; where it does not (GOARCH=386) the
// row is an error naming the value, never a wrong number, a "Default" or a
// skipped row.
func TestMetricsAre32BitSafe(t *testing.T) {
	for name, text := range map[string]string{
		"active IPv4":     "Active Routes:\n  0.0.0.0  0.0.0.0  192.0.2.1  192.0.2.10  4294967295\n",
		"persistent IPv4": "Persistent Routes:\n  0.0.0.0  0.0.0.0  192.0.2.1  4294967295\n",
		"IPv6":            "Active Routes:\n  7 4294967295 ::/0  fe80::1\n",
	} {
		tb, err := ParsePrint(text)
		if math.MaxInt == math.MaxInt32 {
			if err == nil || !strings.Contains(err.Error(), "Metric 4294967295") {
				t.Errorf("%s on 32-bit: %+v, %v; want an error naming Metric 4294967295", name, tb, err)
			}
			continue
		}
		if err != nil || len(tb.Rows) != 1 || uint64(tb.Rows[0].Metric) != math.MaxUint32 || tb.Rows[0].DefaultMetric {
			t.Errorf("%s: %+v, %v; want metric 4294967295", name, tb, err)
		}
	}
}

func FuzzParsePrint(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		tb, err := ParsePrint(text)
		if err != nil {
			return
		}
		for _, r := range tb.Rows {
			if !r.Dst.IsValid() || (r.Store != netcfg.StoreActive && r.Store != netcfg.StorePersistent) {
				t.Fatalf("row without destination or store: %+v", r)
			}
		}
		tb.Routes(Resolver{ByIndex: tb.DescriptionByIndex})
	})
}
