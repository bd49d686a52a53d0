package pwsh

import (
	"encoding/base64"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/netcfg"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"Ethernet 2":                    `'Ethernet 2'`,
		"":                              `''`,
		"O'Brien's NIC":                 `'O''Brien''s NIC'`,
		"$(Remove-Item C:\\) `n \"":     "'$(Remove-Item C:\\) `n \"'",
		"a\u2019b\u2018c\u201ad\u201be": "'a\u2019\u2019b\u2018\u2018c\u201a\u201ad\u201b\u201be'",
		"';Stop-Computer;'":             `''';Stop-Computer;'''`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

// unquote reads one PowerShell single-quoted literal the way the
// PowerShell tokenizer does, and reports whether it consumed all of s.
func unquote(s string) (string, bool) {
	r := []rune(s)
	if len(r) < 2 || !isSingleQuote(r[0]) {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(r); i++ {
		if !isSingleQuote(r[i]) {
			b.WriteRune(r[i])
			continue
		}
		if i+1 < len(r) && isSingleQuote(r[i+1]) {
			b.WriteRune(r[i+1])
			i++
			continue
		}
		return b.String(), i == len(r)-1 // closing quote must end the literal
	}
	return "", false
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"Ethernet 2", "O'Brien", "\u2019;calc;\u2018", "", "''''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // Quote writes U+FFFD for invalid bytes, like any Go rune loop
		}
		got, ok := unquote(Quote(s))
		if !ok || got != s {
			t.Fatalf("Quote(%q) = %q does not read back as one literal (got %q, whole=%v)", s, Quote(s), got, ok)
		}
	})
}

func TestBuilders(t *testing.T) {
	const stop = "$ErrorActionPreference = 'Stop'; "
	r := netcfg.RouteSpec{Dst: pfx("198.51.100.0/24"), Gateway: addr("192.0.2.1"), Interface: "Ethernet 2", Metric: 5}
	a := netcfg.AddressSpec{Prefix: pfx("192.0.2.21/24"), Interface: "Local Area Connection 1"}
	for _, tc := range []struct {
		name, want string
		got        string
		err        error
	}{
		{"New-NetRoute active", stop + "New-NetRoute -DestinationPrefix '198.51.100.0/24' -InterfaceAlias 'Ethernet 2' -NextHop '192.0.2.1' -RouteMetric 5 -PolicyStore ActiveStore -Confirm:$false | Out-Null",
			"", nil},
		{"New-NetRoute both stores on-link IPv6", stop + "New-NetRoute -DestinationPrefix '2001:db8::/64' -InterfaceAlias 'O''Brien' -Confirm:$false | Out-Null", "", nil},
		{"Remove-NetRoute persistent", stop + "Remove-NetRoute -DestinationPrefix '198.51.100.0/24' -InterfaceAlias 'Ethernet 2' -NextHop '192.0.2.1' -PolicyStore PersistentStore -Confirm:$false", "", nil},
		{"New-NetIPAddress", stop + "New-NetIPAddress -InterfaceAlias 'Local Area Connection 1' -IPAddress '192.0.2.21' -PrefixLength 24 -PolicyStore ActiveStore -Confirm:$false | Out-Null", "", nil},
		{"Remove-NetIPAddress", stop + "Remove-NetIPAddress -InterfaceAlias 'Local Area Connection 1' -IPAddress '192.0.2.21' -Confirm:$false", "", nil},
		{"Get-NetRoute persistent JSON", stop + "ConvertTo-Json -Compress -InputObject @(Get-NetRoute -PolicyStore PersistentStore -ErrorAction SilentlyContinue | Select-Object " + RouteProjection + ")", "", nil},
		{"Get-NetIPAddress active JSON", stop + "ConvertTo-Json -Compress -InputObject @(Get-NetIPAddress -PolicyStore ActiveStore -ErrorAction SilentlyContinue | Select-Object " + AddressProjection + ")", "", nil},
	} {
		switch tc.name {
		case "New-NetRoute active":
			tc.got, tc.err = NewNetRoute(r, StoreFor(false))
		case "New-NetRoute both stores on-link IPv6":
			tc.got, tc.err = NewNetRoute(netcfg.RouteSpec{Dst: pfx("2001:db8::1/64"), Interface: "O'Brien", Persistent: true}, StoreFor(true))
		case "Remove-NetRoute persistent":
			tc.got, tc.err = RemoveNetRoute(r, PersistentStore)
		case "New-NetIPAddress":
			tc.got, tc.err = NewNetIPAddress(a, ActiveStore)
		case "Remove-NetIPAddress":
			tc.got, tc.err = RemoveNetIPAddress(a, BothStores)
		case "Get-NetRoute persistent JSON":
			tc.got = GetNetRouteJSON(PersistentStore)
		case "Get-NetIPAddress active JSON":
			tc.got = GetNetIPAddressJSON(ActiveStore)
		}
		if tc.err != nil || tc.got != tc.want {
			t.Errorf("%s:\n got %q (%v)\nwant %q", tc.name, tc.got, tc.err, tc.want)
		}
	}
	for name, err := range map[string]error{
		"route Interface":   second(NewNetRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0")}, ActiveStore)),
		"route Dst":         second(RemoveNetRoute(netcfg.RouteSpec{Interface: "x"}, ActiveStore)),
		"address Interface": second(NewNetIPAddress(netcfg.AddressSpec{Prefix: pfx("192.0.2.1/24")}, ActiveStore)),
		"address Prefix":    second(RemoveNetIPAddress(netcfg.AddressSpec{Interface: "x"}, ActiveStore)),
		"metric 65536":      second(NewNetRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Interface: "x", Metric: 65536}, ActiveStore)),
		"metric -1":         second(NewNetRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Interface: "x", Metric: -1}, ActiveStore)),
	} {
		if err == nil || !strings.Contains(err.Error(), strings.Fields(name)[1]) {
			t.Errorf("%s: err = %v, want it to name the field", name, err)
		}
	}
	if got, err := NewNetRoute(netcfg.RouteSpec{Dst: pfx("0.0.0.0/0"), Interface: "x", Metric: 65535}, ActiveStore); err != nil || !strings.Contains(got, "-RouteMetric 65535 ") {
		t.Errorf("metric 65535 (UInt16 max): %q, %v", got, err)
	}
}

func second(_ string, err error) error { return err }

func TestArgv(t *testing.T) {
	script := "Get-NetRoute | ConvertTo-Json"
	if diff := cmp.Diff([]string{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script}, Argv(script)); diff != "" {
		t.Error(diff)
	}
	enc := EncodedArgv("'é\U0001F600'")
	b, err := base64.StdEncoding.DecodeString(enc[4])
	if err != nil || enc[3] != "-EncodedCommand" {
		t.Fatal(enc, err)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	if got := string(utf16.Decode(u)); got != "'é\U0001F600'" {
		t.Errorf("EncodedArgv round trip: %q", got)
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

func lines[T interface{ Line() string }](xs []T) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.Line())
	}
	return out
}

func TestParseRoutesJSON(t *testing.T) {
	rs, err := ParseRoutesJSON(read(t, "07-cnquery-fixture-get-netroute-convertto-json-projection.txt"), netcfg.StoreActive)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 19 {
		t.Errorf("got %d routes, want 19", len(rs))
	}
	want := []string{"default via 192.168.64.1 dev Ethernet metric 0", "ff00::/8 dev Ethernet metric 256"}
	if diff := cmp.Diff(want, []string{rs[10].Line(), rs[11].Line()}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rs[11].IfIndex != 13 {
		t.Errorf("IfIndex %d", rs[10].IfIndex)
	}

	// Our own projection, as PowerShell 5.1 prints a single object and an array.
	one := `{"DestinationPrefix":"0.0.0.0/0","NextHop":"192.0.2.1","InterfaceIndex":7,"InterfaceAlias":"Local Area Connection 1","RouteMetric":1,"AddressFamily":2,"Protocol":"NetMgmt"}`
	for _, text := range []string{one, "\ufeff[" + one + "]\r\n"} {
		rs, err := ParseRoutesJSON(text, netcfg.StorePersistent)
		if err != nil || len(rs) != 1 || rs[0].Line() != "default via 192.0.2.1 dev Local Area Connection 1 proto netmgmt metric 1 store persistent" {
			t.Errorf("%q: %v %v", text, lines(rs), err)
		}
	}
	if rs, err := ParseRoutesJSON("  \r\n", netcfg.StoreActive); err != nil || len(rs) != 0 {
		t.Errorf("empty output: %v %v", rs, err)
	}
	for text, wantSub := range map[string]string{
		`[{"DestinationPrefix":"0.0.0.0/0","NextHop":"192.0.2.1","AddressFamily":23}]`:  "AddressFamily",
		`[{"DestinationPrefix":"0.0.0.0/0","NextHop":"2001:db8::1"}]`:                   "family differs",
		`[{"DestinationPrefix":"bogus","NextHop":"192.0.2.1"}]`:                         "DestinationPrefix",
		`[{"DestinationPrefix":"0.0.0.0/0"}]`:                                           "NextHop",
		`[{"DestinationPrefix":"0.0.0.0/0","NextHop":"0.0.0.0","AddressFamily":"IPX"}]`: "AddressFamily",
		`[{"DestinationPrefix":`:                                                        "unexpected end",
	} {
		if _, err := ParseRoutesJSON(text, netcfg.StoreActive); err == nil || !strings.Contains(err.Error(), wantSub) {
			t.Errorf("%s: err = %v, want %q", text, err, wantSub)
		}
	}
}

func TestParseAddressesJSON(t *testing.T) {
	text := `[{"IPAddress":"192.0.2.21","InterfaceIndex":7,"InterfaceAlias":"Ethernet","PrefixLength":24,"AddressFamily":2,"PrefixOrigin":"Manual","AddressState":"Tentative"},
	          {"IPAddress":"fe80::1%7","InterfaceIndex":7,"InterfaceAlias":"Ethernet","PrefixLength":64,"AddressFamily":"IPv6","PrefixOrigin":"WellKnown","AddressState":"Preferred"}]`
	as, err := ParseAddressesJSON(text, netcfg.StoreActive)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"addr 192.0.2.21/24 dev Ethernet tentative", "addr fe80::1/64 dev Ethernet"}
	if diff := cmp.Diff(want, lines(as)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseAddressesJSON(`{"IPAddress":"192.0.2.21"}`, netcfg.StoreActive); err == nil || !strings.Contains(err.Error(), "PrefixLength") {
		t.Errorf("missing PrefixLength: %v", err)
	}
}

func TestParseAddressList(t *testing.T) {
	as, err := ParseAddressList(read(t, "01-msiexperiment-new-netipaddress-active-and-persistentstore.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].Store != netcfg.StoreActive || as[1].Store != netcfg.StorePersistent ||
		as[0].Line() != "addr 169.254.169.254/32 dev vEthernet (Ethernet) 2 tentative" || as[1].AddressState != "Invalid" || as[0].IfIndex != 29 {
		t.Errorf("New-NetIPAddress pair: %+v", as)
	}
	as, err = ParseAddressList(read(t, "04-catalan-notes-win10-get-netipaddress-wifi-fl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"addr fe80::54f6:ac90:2aa1:7284/64 dev Wi-Fi", "addr 192.168.1.130/24 dev Wi-Fi"}
	if diff := cmp.Diff(want, lines(as)); diff != "" || as[1].Origin != "dhcp" {
		t.Errorf("(-want +got):\n%s origin %q", diff, as[1].Origin)
	}
	_, err = ParseAddressList(read(t, "05-catalan-notes-win10-new-netipaddress-persistentstore-MANGLED.txt"))
	if err == nil || !strings.Contains(err.Error(), `line 25: property name "Va lidLifetime" contains a space`) {
		t.Errorf("MANGLED sample: err = %v", err)
	}
	for text, wantSub := range map[string]string{
		"PrefixLength : 24\n":                                            "no IPAddress",
		"IPAddress : 192.0.2.1\nPrefixLength : 40\n":                     "PrefixLength",
		"IPAddress : 192.0.2.1\nPrefixLength : 24\nPolicyStore : Foo\n":  "PolicyStore",
		"IPAddress : 192.0.2.1\nPrefixLength : 24\nInterfaceIndex : x\n": "InterfaceIndex",
		"just words\n": "no \"Name : Value\"",
		"\n\n":         "no records",
	} {
		if _, err := ParseAddressList(text); err == nil || !strings.Contains(err.Error(), wantSub) {
			t.Errorf("%q: err = %v, want %q", text, err, wantSub)
		}
	}
}

func TestParseList(t *testing.T) {
	recs, err := ParseList("Name : a\nDescription : long value\n              wrapped here\n\nName : b\n")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := recs[0].Get("Description"); len(recs) != 2 || v != "long value wrapped here" {
		t.Errorf("records: %+v", recs)
	}
}

func TestParseTables(t *testing.T) {
	rs, err := ParseRouteTable(read(t, "08-wsl2-anyconnect-guide-get-netroute-wsl-rows-partial.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[2].Line() != "172.24.16.0/20 metric 256" || rs[2].IfIndex != 23 || rs[2].InterfaceMetric != 5000 || rs[2].Store != netcfg.StoreActive || rs[2].Unreliable != nil {
		t.Errorf("Get-NetRoute table: %+v", rs)
	}
	is, err := ParseIPInterfaceTable(read(t, "02-wsl-vpn-notes-get-netipinterface-policystore-truncated.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []IPInterface{
		{IfIndex: 21, Alias: "Ethernet 2", Family: netcfg.IPv6, Store: netcfg.StorePersistent},
		{IfIndex: 21, Alias: "Ethernet 2", Family: netcfg.IPv6, MTU: 1390, InterfaceMetric: 25, Dhcp: "Enabled", ConnectionState: "Connected", Store: netcfg.StoreActive},
		{IfIndex: 21, Alias: "Ethernet 2", Family: netcfg.IPv4, InterfaceMetric: 1, Store: netcfg.StorePersistent},
		{IfIndex: 21, Alias: "Ethernet 2", Family: netcfg.IPv4, MTU: 1390, InterfaceMetric: 1, Dhcp: "Disabled", ConnectionState: "Connected", Store: netcfg.StoreActive},
	}
	if diff := cmp.Diff(want, is); diff != "" {
		t.Errorf("Get-NetIPInterface table (-want +got):\n%s", diff)
	}
	// Truncation that cannot be resolved is reported, not guessed.
	trunc := "ifIndex DestinationPrefix NextHop RouteMetric ifMetric PolicyStore\n" +
		"------- ----------------- ------- ----------- -------- -----------\n" +
		"7       0.0.0.0/0         0.0.0.0           1 25       Stor...\n"
	rs, err = ParseRouteTable(trunc)
	if err != nil || len(rs) != 1 || !cmp.Equal(rs[0].Unreliable, []string{"PolicyStore"}) {
		t.Errorf("unresolvable PolicyStore: %+v %v", rs, err)
	}
	trunc = strings.Replace(trunc, "0.0.0.0/0        ", "2001:db8:12:3...", 1)
	if _, err := ParseRouteTable(trunc); err == nil || !strings.Contains(err.Error(), "DestinationPrefix") {
		t.Errorf("truncated prefix: err = %v", err)
	}
}

// TestParseTableCJKAlias: Format-Table pads in console cells, so a row whose
// alias has wide characters ("以太网 2", real zh-CN output) lines up with the
// rule only when counted in cells; its values, and the loopback's
// 4294967295 MTU, come back exact (also on 32-bit builds).
func TestParseTableCJKAlias(t *testing.T) {
	is, err := ParseIPInterfaceTable(read(t, "09-zhcn-batch-notes-get-netipinterface-cjk-alias.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []IPInterface{
		{IfIndex: 27, Alias: "vEthernet (Default Switch)", Family: netcfg.IPv6, MTU: 1500, InterfaceMetric: 5000, Dhcp: "Enabled", ConnectionState: "Connected", Store: netcfg.StoreActive},
		{IfIndex: 21, Alias: "以太网 2", Family: netcfg.IPv6, MTU: 1500, InterfaceMetric: 15, Dhcp: "Enabled", ConnectionState: "Connected", Store: netcfg.StoreActive},
		{IfIndex: 1, Alias: "Loopback Pseudo-Interface 1", Family: netcfg.IPv6, MTU: 4294967295, InterfaceMetric: 75, Dhcp: "Disabled", ConnectionState: "Connected", Store: netcfg.StoreActive},
	}
	if diff := cmp.Diff(want, is[:3]); diff != "" || len(is) != 6 {
		t.Errorf("%d rows (-want +got):\n%s", len(is), diff)
	}
	// A crafted alias with spaces and wide characters in a route table's
	// neighbour view stays whole too.
	_, rows, err := ParseTable("ifIndex InterfaceAlias   AddressFamily\n------- --------------   -------------\n30      vEthernet (WSL)  IPv4\n5       이더넷 2         IPv6\n")
	if err != nil || rows[0].Cells["InterfaceAlias"].Text != "vEthernet (WSL)" || rows[1].Cells["InterfaceAlias"].Text != "이더넷 2" || rows[1].Cells["AddressFamily"].Text != "IPv6" {
		t.Errorf("aliases with spaces: %+v, %v", rows, err)
	}
}

// TestTruncationMarks: Format-Table marks a cut value with "..." (5.1) or
// "…" (7), at the end of a left-aligned value and the start of a
// right-aligned one.
func TestTruncationMarks(t *testing.T) {
	text := "ifIndex DestinationPrefix NextHop RouteMetric ifMetric PolicyStore\n" +
		"------- ----------------- ------- ----------- -------- -----------\n" +
		"7       0.0.0.0/0         0.0.0.0        …256 25       Persiste…\n"
	rs, err := ParseRouteTable(text)
	if err != nil || len(rs) != 1 || rs[0].Store != netcfg.StorePersistent || !cmp.Equal(rs[0].Unreliable, []string{"RouteMetric"}) {
		t.Errorf("…-truncated cells: %+v, %v", rs, err)
	}
	_, rows, _ := ParseTable(text)
	if c := rows[0].Cells["RouteMetric"]; !c.Truncated {
		t.Errorf("head-truncated right-aligned cell not marked: %+v", c)
	}
}

// TestJSONIsThirtyTwoBitSafe: InterfaceIndex is a uint32 in CIM. Where int
// holds 4294967295 it comes back exact; where it does not, the error names
// the property and the value.
func TestJSONIsThirtyTwoBitSafe(t *testing.T) {
	text := `{"DestinationPrefix":"0.0.0.0/0","NextHop":"192.0.2.1","InterfaceIndex":4294967295,"RouteMetric":65535}`
	rs, err := ParseRoutesJSON(text, netcfg.StoreActive)
	if math.MaxInt == math.MaxInt32 {
		if err == nil || !strings.Contains(err.Error(), "InterfaceIndex 4294967295") {
			t.Errorf("32-bit: %+v, %v; want an error naming InterfaceIndex 4294967295", rs, err)
		}
		return
	}
	if err != nil || len(rs) != 1 || uint64(rs[0].IfIndex) != math.MaxUint32 || rs[0].Metric != 65535 {
		t.Errorf("%+v, %v", rs, err)
	}
}

// parsers maps every sample to the parser of its view.
var parsers = map[string]func(string) error{
	"01-msiexperiment-new-netipaddress-active-and-persistentstore.txt":    list,
	"02-wsl-vpn-notes-get-netipinterface-policystore-truncated.txt":       ipIfTable,
	"04-catalan-notes-win10-get-netipaddress-wifi-fl.txt":                 list,
	"05-catalan-notes-win10-new-netipaddress-persistentstore-MANGLED.txt": nil, // must fail: asserted in TestParseAddressList
	"07-cnquery-fixture-get-netroute-convertto-json-projection.txt":       routesJSON,
	"08-wsl2-anyconnect-guide-get-netroute-wsl-rows-partial.txt":          routeTable,
	"09-zhcn-batch-notes-get-netipinterface-cjk-alias.txt":                ipIfTable,
}

func list(s string) error       { _, err := ParseAddressList(s); return err }
func ipIfTable(s string) error  { _, err := ParseIPInterfaceTable(s); return err }
func routeTable(s string) error { _, err := ParseRouteTable(s); return err }
func routesJSON(s string) error { _, err := ParseRoutesJSON(s, netcfg.StoreActive); return err }
func addrsJSON(s string) error  { _, err := ParseAddressesJSON(s, netcfg.StoreActive); return err }

// TestAllSamples runs every sample through its parser and every parser over
// every sample: the right one succeeds (or fails as documented), none panics.
func TestAllSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) != len(parsers) {
		t.Errorf("%d samples, %d mapped", len(files), len(parsers))
	}
	for _, f := range files {
		text := read(t, filepath.Base(f))
		parse, ok := parsers[filepath.Base(f)]
		switch {
		case !ok:
			t.Errorf("%s: not mapped", f)
		case parse == nil:
			if list(text) == nil {
				t.Errorf("%s: damaged sample parsed without error", f)
			}
		default:
			if err := parse(text); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		for _, p := range []func(string) error{list, ipIfTable, routeTable, routesJSON, addrsJSON} {
			_ = p(text)
		}
	}
}

func seed(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, name := range files {
		f.Add(read(f, filepath.Base(name)))
	}
}

func FuzzParseJSON(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, s string) { _, _ = routesJSON(s), addrsJSON(s) })
}

func FuzzParseList(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, s string) { _ = list(s) })
}

func FuzzParseTable(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, s string) { _, _ = routeTable(s), ipIfTable(s) })
}
