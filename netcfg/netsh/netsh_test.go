package netsh

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
	lac := "Local Area Connection 1"
	for _, tc := range []struct {
		name    string
		argv    []string
		err     error
		want    []string
		wantErr string
	}{
		{name: "KB step 3: add additional IPv4 address", want: []string{"netsh", "interface", "ipv4", "add", "address", lac, "192.0.2.21", "255.255.255.0"},
			argv: must(AddAddress(netcfg.AddressSpec{Prefix: pfx("192.0.2.21/24"), Interface: lac}))},
		{name: "KB step 4: delete it", want: []string{"netsh", "interface", "ipv4", "delete", "address", lac, "192.0.2.21"},
			argv: must(DeleteAddress(netcfg.AddressSpec{Prefix: pfx("192.0.2.21/24"), Interface: lac}))},
		{name: "add IPv6 address", want: []string{"netsh", "interface", "ipv6", "add", "address", "Ethernet 2", "2001:db8::21/64"},
			argv: must(AddAddress(netcfg.AddressSpec{Prefix: pfx("2001:db8::21/64"), Interface: "Ethernet 2"}))},
		{name: "delete IPv6 address", want: []string{"netsh", "interface", "ipv6", "delete", "address", "Ethernet 2", "2001:db8::21"},
			argv: must(DeleteAddress(netcfg.AddressSpec{Prefix: pfx("2001:db8::21/64"), Interface: "Ethernet 2"}))},
		{name: "persistent route with metric", want: []string{"netsh", "interface", "ipv4", "add", "route", "0.0.0.0/0", lac, "192.0.2.1", "store=persistent", "metric=5"},
			argv: must(AddRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.1"), Interface: lac, Metric: 5, Persistent: true}))},
		{name: "active on-link IPv6 route", want: []string{"netsh", "interface", "ipv6", "add", "route", "2001:db8:1::/64", "Ethernet", "store=active"},
			argv: must(AddRoute(netcfg.RouteSpec{Dst: pfx("2001:db8:1::/64"), Interface: "Ethernet"}))},
		{name: "delete route masks the prefix", want: []string{"netsh", "interface", "ipv4", "delete", "route", "198.51.100.0/24", "Ethernet", "192.0.2.1", "store=active"},
			argv: must(DeleteRoute(netcfg.RouteSpec{Dst: pfx("198.51.100.7/24"), Gateway: addr("192.0.2.1"), Interface: "Ethernet", Metric: 9}))},
		{name: "show route", want: []string{"netsh", "interface", "ipv6", "show", "route"}, argv: ShowRoute(netcfg.IPv6, "")},
		{name: "show route persistent", want: []string{"netsh", "interface", "ipv4", "show", "route", "store=persistent"}, argv: ShowRoute(netcfg.IPv4, netcfg.StorePersistent)},
		{name: "show addresses", want: []string{"netsh", "interface", "ipv4", "show", "addresses"}, argv: ShowAddresses(netcfg.IPv4)},
		{name: "show interfaces", want: []string{"netsh", "interface", "ipv6", "show", "interfaces"}, argv: ShowInterfaces(netcfg.IPv6)},
		{name: "show dynamicport", want: []string{"netsh", "interface", "ipv4", "show", "dynamicport", "tcp"}, argv: ShowDynamicPort(netcfg.IPv4)},
		{name: "set dynamicport (KB2901197 narrowing)", want: []string{"netsh", "interface", "ipv4", "set", "dynamicport", "tcp", "start=50000", "num=255"},
			argv: must(SetDynamicPort(netcfg.IPv4, DynamicPortRange{Start: 50000, Num: 255}))},
	} {
		if diff := cmp.Diff(tc.want, tc.argv); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func must(argv []string, err error) []string {
	if err != nil {
		return []string{"ERROR: " + err.Error()}
	}
	return argv
}

func TestBuilderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, wantSub string
		err           error
	}{
		{"num below 255", "num 254", second(SetDynamicPort(netcfg.IPv4, DynamicPortRange{Start: 50000, Num: 254}))},
		{"range past 65535", "num 20000", second(SetDynamicPort(netcfg.IPv4, DynamicPortRange{Start: 50000, Num: 20000}))},
		{"start 0", "start 0", second(SetDynamicPort(netcfg.IPv4, DynamicPortRange{Num: 1000}))},
		{"route without interface", "Interface", second(AddRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0")}))},
		{"route family mismatch", "family", second(AddRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Gateway: addr("2001:db8::1"), Interface: "x"}))},
		{"route invalid dst", "Dst", second(DeleteRoute(netcfg.RouteSpec{Interface: "x"}))},
		{"address without interface", "Interface", second(AddAddress(netcfg.AddressSpec{Prefix: pfx("192.0.2.1/24")}))},
		{"address invalid", "Prefix", second(DeleteAddress(netcfg.AddressSpec{Interface: "x"}))},
		{"negative metric", "metric -1", second(AddRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Interface: "x", Metric: -1}))},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.wantSub) {
			t.Errorf("%s: err = %v, want it to name %q", tc.name, tc.err, tc.wantSub)
		}
	}
}

func second(_ []string, err error) error { return err }

// TestAddRouteMetricRange: netsh documents metric= only as an integer; the
// route's metric is a ULONG, so 0..4294967295 passes (0 leaves it out) and
// anything else is an error naming the value.
func TestAddRouteMetricRange(t *testing.T) {
	r := netcfg.RouteSpec{Dst: pfx("198.51.100.0/24"), Interface: "Ethernet 2", Gateway: addr("192.0.2.1")}
	r.Metric = int(min(int64(math.MaxInt), MaxMetric))
	argv, err := AddRoute(r)
	if err != nil || argv[len(argv)-1] != "metric="+strconv.Itoa(r.Metric) {
		t.Errorf("metric %d: %q, %v", r.Metric, argv, err)
	}
	for _, m := range []int64{-1, MaxMetric + 1} {
		if m > math.MaxInt {
			continue // not representable in this platform's int
		}
		r.Metric = int(m)
		if _, err := AddRoute(r); err == nil || !strings.Contains(err.Error(), "metric "+strconv.FormatInt(m, 10)) {
			t.Errorf("metric %d: err = %v, want one naming it", m, err)
		}
	}
}

func read(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func routeLines(rs []Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Line())
	}
	return out
}

func TestParseRoutes(t *testing.T) {
	rs, err := ParseRoutes(read(t, "04-stri-tp-win11-show-route-ipv6-long-prefix-overflow.txt"), netcfg.StoreActive)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 36 {
		t.Errorf("got %d rows, want 36", len(rs))
	}
	got := routeLines([]Route{rs[0], rs[4], rs[7], rs[14]})
	want := []string{
		"default inet6 via fe80::4c25:9bff:fe95:d940 proto manual metric 16",
		"2001:678:3fc:10:f132:bf4:75ad:cd2b dev Wi-Fi proto system metric 256",
		"2a03:7220:8083:c4c4::1014 dev OpenVPN Data Channel Offload proto system metric 256",
		"fe80::/64 dev vEthernet (Default Switch) proto system metric 256",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rs[0].IfIndex != 12 || rs[4].IfIndex != 12 || rs[18].IfIndex != 7 {
		t.Errorf("Idx after overflowing prefixes: %d %d %d", rs[0].IfIndex, rs[4].IfIndex, rs[18].IfIndex)
	}

	ru, err := ParseRoutes(read(t, "19-fixture-russian-netsh-show-route-localized.txt"), netcfg.StorePersistent)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		"default via 192.168.0.1 proto manual metric 0 store persistent",
		"default dev ultima0 proto manual metric 0 store persistent",
		"127.0.0.0/8 dev Loopback Pseudo-Interface 1 proto system metric 256 store persistent",
		"192.168.0.0/24 dev Беспроводная сеть proto system metric 256 store persistent",
	}
	if diff := cmp.Diff(want, routeLines(ru)); diff != "" {
		t.Errorf("Russian (-want +got):\n%s", diff)
	}
	if ru[0].Publish != "Нет" || ru[0].TypeText != "Вручную" || ru[0].IfIndex != 10 {
		t.Errorf("Russian raw columns: %+v", ru[0])
	}
}

func TestParseInterfaces(t *testing.T) {
	got, err := ParseInterfaces(read(t, "07-blog-epson-printer-show-interfaces-long-names.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Interface{
		{3, 10, 1500, "connected", "Ethernet"},
		{1, 50, 4294967295, "connected", "Loopback Pseudo-Interface 1"},
		{63, 10, 1400, "connected", "vowire hosting"},
		{10, 5, 1500, "connected", "vEthernet (Internal Ethernet Port Windows Phone Emulator Internal Switch)"},
		{29, 10, 1500, "connected", "vEthernet (VirtualBox Host-Only Ethernet Adapter Virtual Switch)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseAddresses(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // Address().Line() plus the DAD state and index
	}{
		{"01-stri-tp-win11-show-addr-ipv4-multi-if.txt", []string{
			"addr 172.31.112.1/20 dev vEthernet (Default Switch) ifindex=0",
			"addr 192.168.56.1/24 dev Ethernet 2 ifindex=0",
			"addr 172.16.196.86/30 dev OpenVPN Data Channel Offload ifindex=0",
			"addr 198.18.16.50/22 dev Wi-Fi ifindex=0",
			"addr 127.0.0.1/8 dev Loopback Pseudo-Interface 1 ifindex=0",
		}},
		{"02-stri-tp-win11-show-addr-ipv6-per-address.txt", []string{
			"addr 2a03:7220:8083:c4c4::1014/128 dev OpenVPN Data Channel Offload ifindex=0",
			"addr fe80::bca3:1bf5:75db:1c7d/128 dev OpenVPN Data Channel Offload ifindex=72",
		}},
		{"08-hugo-draft-win10-show-addr-ipv6-multi-if-deprecated.txt", []string{
			"addr fe80::78a9:3abe:7c8f:b5c1/128 dev Local Area Connection* 3 deprecated ifindex=16",
			"addr ::1/128 dev Loopback Pseudo-Interface 1 ifindex=1",
			"addr fe80::b47c:bc69:f064:85d9/128 dev vEthernet (vWireless) ifindex=15",
			"addr fe80::8df7:1b8c:5751:2d4a/128 dev vEthernet (Default Switch) ifindex=23",
		}},
	} {
		es, err := ParseAddresses(read(t, tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Address().Line()+" ifindex="+strconv.Itoa(e.IfIndex))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.file, diff)
		}
	}
	es, _ := ParseAddresses(read(t, "02-stri-tp-win11-show-addr-ipv6-per-address.txt"))
	if e := es[0]; e.Type != "Manual" || e.DADState != "Preferred" || e.ValidLifetime != "infinite" || e.Bits != -1 {
		t.Errorf("verbose entry: %+v", e)
	}
}

func TestParseDynamicPort(t *testing.T) {
	for file, want := range map[string]DynamicPortRange{
		"10-runner-images-1442-dynamicport-packer-vhd-prefixed.txt": {1024, 64511},
		"11-mlkoe-notes-netsh-context-dynamicport-1024-64511.txt":   {1024, 64511},
		"13-wsl-3951-dynamicport-10000-55535.txt":                   {10000, 55535},
		"14-datadog-agent-fixture-dynamicport-french.txt":           {49152, 16384},
	} {
		got, err := ParseDynamicPort(read(t, file))
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", file, got, err, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, wantSub string
		err           error
	}{
		{"route: no table", "no table", second2(ParseRoutes("hello", netcfg.StoreActive))},
		{"route: bad metric", "Met", second2(ParseRoutes("---  ---\nNo Manual x 0.0.0.0/0 4 192.0.2.1\n", netcfg.StoreActive))},
		{"route: bad prefix", "Prefix", second2(ParseRoutes("---  ---\nNo Manual 1 0.0.0.0/99 4 192.0.2.1\n", netcfg.StoreActive))},
		{"route: short row", "want Publish", second2(ParseRoutes("---  ---\nNo Manual 1 0.0.0.0/0\n", netcfg.StoreActive))},
		{"interfaces: bad mtu", "MTU", second3(ParseInterfaces("--- ---\n 1 2 99999999999 connected x\n"))},
		{"interfaces: no table", "no table", second3(ParseInterfaces(""))},
		{"addresses: nothing", "no interface", second4(ParseAddresses("foo\n"))},
		{"addresses: bad IP", "IP Address", second4(ParseAddresses("Configuration for interface \"x\"\n IP Address: 300.1.1.1\n"))},
		{"addresses: missing prefix", "no Subnet Prefix", second4(ParseAddresses("Configuration for interface \"x\"\n IP Address: 192.0.2.1\n"))},
		{"addresses: prefix first", "without an IP Address", second4(ParseAddresses("Configuration for interface \"x\"\n Subnet Prefix: 192.0.2.0/24 (mask 255.255.255.0)\n"))},
		{"addresses: bad table row", "want Addr Type", second4(ParseAddresses("Interface 1: x\n--- ---\nOther Preferred infinite ::1\n"))},
		{"dynamicport: missing num", "Number of Ports", second5(ParseDynamicPort("Start Port : 1024\n"))},
		{"dynamicport: out of range", "num 65535", second5(ParseDynamicPort("Start Port : 1024\nNumber of Ports : 65535\n"))},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.wantSub) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, tc.err, tc.wantSub)
		}
	}
	_, err := ParseDynamicPort("Porta iniziale : 49152\nNumero di porte : 16384\n")
	if !errors.Is(err, ErrUnknownLabel) {
		t.Errorf("unknown language: err = %v, want ErrUnknownLabel", err)
	}
}

func second2(_ []Route, err error) error          { return err }
func second3(_ []Interface, err error) error      { return err }
func second4(_ []AddressEntry, err error) error   { return err }
func second5(_ DynamicPortRange, err error) error { return err }

// parsers maps each sample to the parser for its command.
var parsers = map[string]func(string) error{
	"01-stri-tp-win11-show-addr-ipv4-multi-if.txt":               addrs,
	"02-stri-tp-win11-show-addr-ipv6-per-address.txt":            addrs,
	"04-stri-tp-win11-show-route-ipv6-long-prefix-overflow.txt":  routes,
	"05-wsl-vpn-notes-win10-show-interfaces.txt":                 ifaces,
	"07-blog-epson-printer-show-interfaces-long-names.txt":       ifaces,
	"08-hugo-draft-win10-show-addr-ipv6-multi-if-deprecated.txt": addrs,
	"10-runner-images-1442-dynamicport-packer-vhd-prefixed.txt":  ports,
	"11-mlkoe-notes-netsh-context-dynamicport-1024-64511.txt":    ports,
	"13-wsl-3951-dynamicport-10000-55535.txt":                    ports,
	"14-datadog-agent-fixture-dynamicport-french.txt":            ports,
	"16-blog-ipv6-2000-6-route-show-route-ipv6-long-prefix.txt":  routes,
	"17-vpn-monitor-fixture-win10-hma-show-route-ipv4.txt":       routes,
	"19-fixture-russian-netsh-show-route-localized.txt":          routes,
	"20-fr-win10-stri-show-route-ipv4.txt":                       routes,
	"21-zhcn-batch-notes-show-route-ipv6.txt":                    routes,
	"22-ru-lab-answers-show-interfaces.txt":                      ifaces,
	"23-fr-win10-stri-show-addr-ipv4-block.txt":                  addrs,
	"24-fr-win10-stri-show-addr-ipv6-verbose.txt":                addrs,
}

func addrs(s string) error  { _, err := ParseAddresses(s); return err }
func routes(s string) error { _, err := ParseRoutes(s, netcfg.StoreActive); return err }
func ifaces(s string) error { _, err := ParseInterfaces(s); return err }
func ports(s string) error  { _, err := ParseDynamicPort(s); return err }

// TestAllSamples runs every file in testdata through its parser, and every
// parser over every file: the right parser succeeds, none panics.
func TestAllSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) != len(parsers) {
		t.Errorf("%d samples, %d mapped to parsers", len(files), len(parsers))
	}
	for _, f := range files {
		text := read(t, filepath.Base(f))
		parse, ok := parsers[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: no parser mapped", f)
			continue
		}
		if err := parse(text); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		for _, other := range []func(string) error{addrs, routes, ifaces, ports} {
			_ = other(text) // wrong command's output: an error or a parse, never a panic
		}
	}
	// Key facts of the samples not asserted above.
	rs, _ := ParseRoutes(read(t, "17-vpn-monitor-fixture-win10-hma-show-route-ipv4.txt"), netcfg.StoreActive)
	if len(rs) != 6 || rs[0].Gateway != addr("192.168.1.1") || rs[0].IfIndex != 4 || rs[2].Interface != "HMA VPN Wintun" {
		t.Errorf("HMA sample: %+v", rs)
	}
	rs, _ = ParseRoutes(read(t, "16-blog-ipv6-2000-6-route-show-route-ipv6-long-prefix.txt"), netcfg.StoreActive)
	if len(rs) != 5 || rs[2].Dst != pfx("2000::/6") || rs[2].Metric != 8 || rs[4].IfIndex != 11 {
		t.Errorf("2000::/6 sample: %+v", rs)
	}
	is, _ := ParseInterfaces(read(t, "05-wsl-vpn-notes-win10-show-interfaces.txt"))
	if len(is) != 8 || is[5] != (Interface{21, 4000, 1390, "connected", "Ethernet 2"}) {
		t.Errorf("WSL interfaces: %+v", is)
	}
}

// TestLocalizedSamples: real fr-FR, zh-CN and ru-RU output parses to the
// same facts English output would.
func TestLocalizedSamples(t *testing.T) {
	fr, err := ParseRoutes(read(t, "20-fr-win10-stri-show-route-ipv4.txt"), netcfg.StoreActive)
	if err != nil {
		t.Fatal(err)
	}
	got := routeLines([]Route{fr[0], fr[4], fr[30]})
	want := []string{
		"default via 172.17.128.1 proto manual metric 0",
		"127.0.0.0/8 dev Loopback Pseudo-Interface 1 proto system metric 256",
		"224.0.0.0/4 dev Connexion au réseau local* 10 proto system metric 256",
	}
	if diff := cmp.Diff(want, got); diff != "" || len(fr) != 39 || fr[0].Publish != "Non" || fr[4].TypeText != "Système" || fr[30].IfIndex != 19 {
		t.Errorf("fr-FR routes (%d) (-want +got):\n%s", len(fr), diff)
	}
	zh, err := ParseRoutes(read(t, "21-zhcn-batch-notes-show-route-ipv6.txt"), netcfg.StoreActive)
	if err != nil {
		t.Fatal(err)
	}
	if len(zh) != 8 || zh[1].Line() != "fe80::/64 dev 以太网 2 proto system metric 256" || zh[3].IfIndex != 21 || zh[3].Publish != "否" {
		t.Errorf("zh-CN routes: %q", routeLines(zh))
	}
	ru, err := ParseInterfaces(read(t, "22-ru-lab-answers-show-interfaces.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Interface{{1, 75, 4294967295, "connected", "Loopback Pseudo-Interface 1"}, {5, 25, 1500, "connected", "Ethernet"}}, ru); diff != "" {
		t.Errorf("ru-RU interfaces (-want +got):\n%s", diff)
	}
	for file, want := range map[string][]string{
		"23-fr-win10-stri-show-addr-ipv4-block.txt": {"addr 172.16.196.74/30 dev OpenVPN TAP-Windows6  ifindex=0"},
		"24-fr-win10-stri-show-addr-ipv6-verbose.txt": {
			"addr 2a03:7220:8083:c4c4::1011/128 dev OpenVPN TAP-Windows6 Préféré ifindex=0",
			"addr fe80::cd4f:d068:d6ac:6600/128 dev OpenVPN TAP-Windows6 Préféré ifindex=14",
		},
	} {
		es, err := ParseAddresses(read(t, file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Address().Line()+" "+e.DADState+" ifindex="+strconv.Itoa(e.IfIndex))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", file, diff)
		}
	}
	_, err = ParseAddresses("Konfiguration der Schnittstelle \"Ethernet\"\n    IP-Adresse: 192.0.2.1\n")
	if !errors.Is(err, ErrUnknownLabel) {
		t.Errorf("unknown language addresses: err = %v, want ErrUnknownLabel", err)
	}
}

// routeDump renders routes without their source lines.
func routeDump(rs []Route) string {
	var b strings.Builder
	for _, r := range rs {
		r.SourceLine = 0
		fmt.Fprintf(&b, "%+v\n", r)
	}
	return b.String()
}

// withoutRule drops the dashed rule under the header, as some pasted
// captures did.
func withoutRule(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if !isDashes(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTablesWithoutRule: every table sample parses the same with its dashed
// rule removed.
func TestTablesWithoutRule(t *testing.T) {
	for _, file := range []string{
		"04-stri-tp-win11-show-route-ipv6-long-prefix-overflow.txt",
		"16-blog-ipv6-2000-6-route-show-route-ipv6-long-prefix.txt",
		"17-vpn-monitor-fixture-win10-hma-show-route-ipv4.txt",
		"19-fixture-russian-netsh-show-route-localized.txt",
		"20-fr-win10-stri-show-route-ipv4.txt",
		"21-zhcn-batch-notes-show-route-ipv6.txt",
	} {
		want, err1 := ParseRoutes(read(t, file), netcfg.StoreActive)
		got, err2 := ParseRoutes(withoutRule(read(t, file)), netcfg.StoreActive)
		if err1 != nil || err2 != nil || len(want) == 0 || routeDump(want) != routeDump(got) {
			t.Errorf("%s: with rule (%v):\n%s\nwithout (%v):\n%s", file, err1, routeDump(want), err2, routeDump(got))
		}
	}
	for _, file := range []string{
		"05-wsl-vpn-notes-win10-show-interfaces.txt",
		"07-blog-epson-printer-show-interfaces-long-names.txt",
		"22-ru-lab-answers-show-interfaces.txt",
	} {
		want, err1 := ParseInterfaces(read(t, file))
		got, err2 := ParseInterfaces(withoutRule(read(t, file)))
		if err1 != nil || err2 != nil || !cmp.Equal(want, got) {
			t.Errorf("%s: with rule %d interfaces (%v), without %d (%v)\n%s", file, len(want), err1, len(got), err2, cmp.Diff(want, got))
		}
	}
	// The ipv6 address tables of show addresses, rule removed.
	file := "08-hugo-draft-win10-show-addr-ipv6-multi-if-deprecated.txt"
	wantA, err1 := ParseAddresses(read(t, file))
	gotA, err2 := ParseAddresses(withoutRule(read(t, file)))
	if err1 != nil || err2 != nil || len(wantA) != 4 || fmt.Sprintf("%+v", wantA) != fmt.Sprintf("%+v", gotA) {
		t.Errorf("%s: with rule %+v (%v)\nwithout %+v (%v)", file, wantA, err1, gotA, err2)
	}
	// Multi-word Publish/Type values are cut at the header's Type label.
	text := "Publish      Type           Met  Prefix                    Idx  Gateway/Interface Name\n" +
		"Not public   Manual (boot)  256  198.51.100.0/24            14  vEthernet (WSL)\n"
	rs, err := ParseRoutes(text, netcfg.StoreActive)
	if err != nil || len(rs) != 1 || rs[0].Publish != "Not public" || rs[0].TypeText != "Manual (boot)" || rs[0].Interface != "vEthernet (WSL)" {
		t.Errorf("header-cut row: %+v, %v", rs, err)
	}
}

// TestValuesWithSpacesStayWhole: a (localized) value with a space stays in
// its column; the rule gives the column starts.
func TestValuesWithSpacesStayWhole(t *testing.T) {
	ifs, err := ParseInterfaces("Idx     Met         MTU          State                Name\n" +
		"---  ----------  ----------  ------------  ---------------------------\n" +
		" 30        5000        1500  not present   vEthernet (WSL)\n" +
		" 21          25        1390  connected     Ethernet 2\n")
	want := []Interface{{30, 5000, 1500, "not present", "vEthernet (WSL)"}, {21, 25, 1390, "connected", "Ethernet 2"}}
	if err != nil || !cmp.Equal(want, ifs) {
		t.Errorf("interfaces: %v\n%s", err, cmp.Diff(want, ifs))
	}
	rs, err := ParseRoutes("Publish  Type            Met  Prefix                    Idx  Gateway/Interface Name\n"+
		"-------  --------------  ---  ------------------------  ---  ------------------------\n"+
		"No       Manual (boot)   256  198.51.100.0/24            14  vEthernet (WSL)\n", netcfg.StoreActive)
	if err != nil || len(rs) != 1 || rs[0].TypeText != "Manual (boot)" || rs[0].Metric != 256 || rs[0].Interface != "vEthernet (WSL)" {
		t.Errorf("routes: %+v, %v", rs, err)
	}
	es, err := ParseAddresses("Interface 30: vEthernet (WSL)\n\n" +
		"Addr Type  DAD State   Valid Life Pref. Life Address\n" +
		"---------  ----------- ---------- ---------- ------------------------\n" +
		"Other      Not ready     infinite   infinite fe80::1%30\n")
	if err != nil || len(es) != 1 || es[0].DADState != "Not ready" || es[0].Interface != "vEthernet (WSL)" || es[0].IfIndex != 30 {
		t.Errorf("addresses: %+v, %v", es, err)
	}
	if _, err := ParseInterfaces("Idx Met MTU State Name\n--- --- --- --- ---\n 1 2 3 connected x\n"); err == nil || !strings.Contains(err.Error(), "State column") {
		t.Errorf("no gap between State and Name: err = %v", err)
	}
}

// TestULongsAre32BitSafe: Met and MTU are ULONGs. Interface keeps them as
// uint32, exact everywhere; a route metric (netcfg.Route.Metric is an int)
// above 2147483647 is an error naming it on 32-bit builds.
func TestULongsAre32BitSafe(t *testing.T) {
	ifs, err := ParseInterfaces("Idx     Met         MTU          State                Name\n" +
		"---  ----------  ----------  ------------  ---------------------------\n" +
		"  1  4294967295  4294967295  connected     Loopback Pseudo-Interface 1\n")
	if err != nil || len(ifs) != 1 || ifs[0].Met != math.MaxUint32 || ifs[0].MTU != math.MaxUint32 {
		t.Errorf("interface ULONGs: %+v, %v", ifs, err)
	}
	rs, err := ParseRoutes("Publish  Type      Met  Prefix                    Idx  Gateway/Interface Name\n"+
		"-------  --------  ---  ------------------------  ---  ------------------------\n"+
		"No       Manual    4294967295  0.0.0.0/0           4  192.0.2.1\n", netcfg.StoreActive)
	if math.MaxInt == math.MaxInt32 {
		if err == nil || !strings.Contains(err.Error(), "Met 4294967295") {
			t.Errorf("32-bit route metric: %+v, %v; want an error naming Met 4294967295", rs, err)
		}
	} else if err != nil || len(rs) != 1 || uint64(rs[0].Metric) != math.MaxUint32 {
		t.Errorf("route metric: %+v, %v", rs, err)
	}
}

func seed(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, name := range files {
		f.Add(read(f, filepath.Base(name)))
	}
}

func FuzzParseRoutes(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, s string) { _ = routes(s) })
}

func FuzzParseAddresses(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseAddresses(s)
		if err == nil {
			for _, e := range es {
				_ = e.Address().Line()
			}
		}
	})
}

func FuzzParseInterfaces(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, s string) { _ = ifaces(s) })
}

func FuzzParseDynamicPort(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseDynamicPort(s)
		if err == nil && r.Validate() != nil {
			t.Fatalf("parsed an invalid range %+v", r)
		}
	})
}
