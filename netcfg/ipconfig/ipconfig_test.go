package ipconfig

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func parseFile(t testing.TB, name string) []Adapter {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	as, err := Parse(string(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return as
}

func TestArgv(t *testing.T) {
	if got := strings.Join(Argv(), " "); got != "ipconfig /all" {
		t.Errorf("Argv = %q", got)
	}
}

// TestSamples asserts the key facts of every file in testdata.
func TestSamples(t *testing.T) {
	cmpAddr := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	cmpIP := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	for name, want := range map[string]struct {
		adapters int
		byMAC    string // adapter to look up
		want     Adapter
	}{
		"01-ubuntuforums-xp-schools-network.txt": {1, "00-19-B9-2B-D0-D1", Adapter{
			Name: "Local Area Connection", Kind: "Ethernet", Line: 13,
			Description: "Intel(R) 82566DM Gigabit Network Connection", MAC: "00:19:b9:2b:d0:d1",
			IPv4:     []Address{{Prefix: pfx("199.237.188.192/23")}},
			Gateways: []netip.Addr{addr("199.237.188.1")},
		}},
		"02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt": {10, "a8:7e:ea:55:26:b0", Adapter{
			Name: "Wi-Fi", Kind: "Wireless LAN", Line: 102,
			Description: "Intel(R) Wi-Fi 6 AX200 160MHz", MAC: "a8:7e:ea:55:26:b0",
			IPv4: []Address{{pfx("192.168.1.169/24"), "Preferred"}},
			IPv6: []Address{{pfx("fd63:cc9c:65eb:3f95:57c2:aa:10d8:db08/128"), "Preferred"},
				{pfx("fd63:cc9c:65eb:3f95:8928:348e:d692:b7ef/128"), "Preferred"},
				{pfx("fe80::4fae:1380:5a1b:8b6b/128"), "Preferred"}},
			Gateways: []netip.Addr{addr("192.168.1.1")},
		}},
		"04-htb-winlpe-srv01-dualhomed-enum-script.txt": {5, "00-50-56-94-96-5A", Adapter{
			Name: "Ethernet0 2", Kind: "Ethernet", Line: 26,
			Description: "vmxnet3 Ethernet Adapter #2", MAC: "00:50:56:94:96:5a",
			IPv4: []Address{{pfx("10.129.43.43/16"), "Preferred"}},
			IPv6: []Address{{pfx("dead:beef::142/128"), "Preferred"},
				{pfx("dead:beef::4c23:ae13:b163:f160/128"), "Preferred"},
				{pfx("fe80::4c23:ae13:b163:f160/128"), "Preferred"}},
			Gateways: []netip.Addr{addr("fe80::250:56ff:fe94:53e"), addr("10.129.0.1")},
		}},
		"05-notes-german-win10-ipconfig-all-wlan-lease-1884-partial.txt": {1, "F8-59-71-C2-C8-C4", Adapter{
			Name: "WLAN", Kind: "Drahtlos-LAN", Line: 3,
			Description: "Intel(R) Dual Band Wireless-AC 8265", MAC: "f8:59:71:c2:c8:c4",
			IPv4: []Address{{pfx("192.168.1.2/24"), "Bevorzugt"}},
			IPv6: []Address{{pfx("2a02:2f07:da15:ae00:88e2:b361:3447:55b4/128"), "Bevorzugt"},
				{pfx("2a02:2f07:da15:ae00:2842:7af3:71b:ffcc/128"), "Bevorzugt"},
				{pfx("fe80::88e2:b361:3447:55b4/128"), "Bevorzugt"}},
			Gateways: []netip.Addr{addr("fe80::1000"), addr("192.168.1.1")},
		}},
	} {
		as := parseFile(t, name)
		if len(as) != want.adapters {
			t.Errorf("%s: %d adapters, want %d", name, len(as), want.adapters)
		}
		got, ok := ByMAC(as, want.byMAC)
		if !ok {
			t.Errorf("%s: no adapter with MAC %s", name, want.byMAC)
			continue
		}
		if diff := cmp.Diff(want.want, got, cmpAddr, cmpIP); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) != 4+len(localized) {
		t.Errorf("%d samples in testdata, %d asserted", len(files), 4+len(localized))
	}
	as := parseFile(t, "02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt")
	if as[2].Name != "OpenVPN Data Channel Offload for NordVPN" || as[2].Kind != "Unknown" || as[2].MAC != "" {
		t.Errorf("adapter without MAC: %+v", as[2])
	}
	as = parseFile(t, "04-htb-winlpe-srv01-dualhomed-enum-script.txt")
	if as[3].MAC != "00:00:00:00:00:00:00:e0" || as[3].Name != "isatap..htb" {
		t.Errorf("ISATAP 8-byte MAC: %+v", as[3])
	}
}

// localized holds, per real localized capture, the adapter asserted (by
// position) and the adapter count. Line is not compared.
var localized = map[string]struct {
	adapters, index int
	want            Adapter
}{
	"06-fr-radvd-lab-ipconfig-all-autoconfig.txt": {1, 0, Adapter{
		Name: "Ethernet", Kind: "Carte Ethernet", Description: "Intel(R) PRO/1000 MT Desktop Adapter", MAC: "08:00:27:a4:db:87",
		IPv4: []Address{{pfx("169.254.140.26/16"), "préféré"}},
		IPv6: []Address{{pfx("2001:db8::d65:3af2:a884:c6ca/128"), "préféré"}, {pfx("2001:db8::5804:1ebf:1d43:b3fa/128"), "préféré"},
			{pfx("fe80::37dc:a487:b166:d6ff/128"), "préféré"}},
		Gateways: []netip.Addr{addr("fe80::a00:27ff:fe6d:745")},
	}},
	"07-es-kea-dhcp-lab-ipconfig-all.txt": {1, 0, Adapter{
		Name: "Ethernet", Kind: "Adaptador de Ethernet", Description: "Intel(R) 82574L Gigabit Network Connection", MAC: "52:54:00:2b:f7:ca",
		IPv4:     []Address{{pfx("172.16.0.11/16"), "Preferido"}},
		IPv6:     []Address{{pfx("fe80::115b:fef0:3531:e2aa/128"), "Preferido"}},
		Gateways: []netip.Addr{addr("172.16.0.1")},
	}},
	"08-it-openvpn-notes-ipconfig-all.txt": {2, 1, Adapter{
		Name: "Wi-Fi", Kind: "Scheda LAN wireless", Description: "Intel(R) Wi-Fi 6 AX201 160MHz", MAC: "04:6c:59:c3:34:44",
		IPv4:     []Address{{pfx("192.168.10.187/24"), "Preferenziale"}},
		IPv6:     []Address{{pfx("fe80::cc93:91f1:19ed:2560/128"), "Preferenziale"}},
		Gateways: []netip.Addr{addr("192.168.10.1")},
	}},
	"09-ptbr-command-notes-ipconfig-partial.txt": {2, 1, Adapter{
		Name: "Ethernet 2", Kind: "Adaptador Ethernet",
		IPv4:     []Address{{Prefix: pfx("192.168.42.80/24")}},
		IPv6:     []Address{{Prefix: pfx("fe80::4a5a:6b08:a0ab:c514/128")}},
		Gateways: []netip.Addr{addr("192.168.42.129")},
	}},
	"10-ru-course-answers-ipconfig-all.txt": {1, 0, Adapter{
		Name: "Ethernet", Kind: "Адаптер Ethernet", Description: "Intel(R) PRO/1000 MT Desktop Adapter", MAC: "08:00:27:11:00:e0",
		IPv4:     []Address{{pfx("10.0.2.15/24"), "Основной"}},
		IPv6:     []Address{{pfx("fe80::64b5:2330:36be:f68b/128"), "Основной"}},
		Gateways: []netip.Addr{addr("10.0.2.2")},
	}},
	"11-zhcn-dhcpv6-notes-ipconfig-all-temporary.txt": {1, 0, Adapter{
		Name: "10GB", Kind: "以太网", Description: "Aquantia AQtion 10Gbit Network Adapter", MAC: "e0:e1:a9:10:83:d1",
		IPv4: []Address{{pfx("10.31.1.116/16"), "首选"}},
		IPv6: []Address{{pfx("fd00:6868:6868::e0e/128"), "首选"}, {pfx("fd00:6868:6868:0:e2e1:a9ff:fe10:83d1/128"), "首选"},
			{pfx("fd00:6868:6868:0:35e1:f72:3eee:b258/128"), "首选"}, {pfx("fe80::e2e1:a9ff:fe10:83d1/128"), "首选"}},
		Gateways: []netip.Addr{addr("fe80::9e9d:7eff:fe79:ed77"), addr("10.31.0.1")},
	}},
	"12-ja-vbox-notes-ipconfig-all.txt": {1, 0, Adapter{
		Name: "vbox0", Kind: "イーサネット", Description: "VirtualBox Host-Only Ethernet Adapter", MAC: "0a:00:27:00:00:11",
		IPv4: []Address{{pfx("10.161.204.246/24"), "優先"}},
		IPv6: []Address{{pfx("fe80::c152:dc1a:a4c3:8fea/128"), "優先"}},
	}},
	"13-ko-course-notes-ipconfig-all.txt": {1, 0, Adapter{
		Name: "이더넷 4", Kind: "이더넷", Description: "Realtek PCIe GbE Family Controller #2", MAC: "4c:ed:fb:bc:23:03",
		IPv4:     []Address{{pfx("192.168.11.181/24"), "기본 설정"}},
		IPv6:     []Address{{pfx("fe80::a96c:25e2:60e1:2616/128"), "기본 설정"}},
		Gateways: []netip.Addr{addr("192.168.11.1")},
	}},
	"14-tr-python-fixture-ipconfig.txt": {1, 0, Adapter{
		Name: "Ethernet", Kind: "Ethernet", MAC: "5c:01:3b:8a:76:43",
		IPv4:     []Address{{pfx("10.17.1.222/24"), "Tercih Edilen"}},
		Gateways: []netip.Addr{addr("10.17.1.101")},
	}},
	"15-pl-xp-ubuntuforums-ipconfig-all.txt": {1, 0, Adapter{
		Name: "Połączenie sieci bezprzewodowej", Kind: "Karta Ethernet", Description: "AirLive WT-2000PCI", MAC: "00:4f:6a:04:fb:a2",
		IPv4:     []Address{{Prefix: pfx("192.168.100.104/24")}},
		Gateways: []netip.Addr{addr("192.168.100.252")},
	}},
	"16-nl-xp-ubuntuforums-ipconfig-all-ipv6-as-ip-adres.txt": {1, 0, Adapter{
		Name: "3COM netwerkkaart", Kind: "Ethernet", MAC: "00:50:04:ee:4b:cd",
		IPv4:     []Address{{Prefix: pfx("217.123.173.97/23")}},
		IPv6:     []Address{{Prefix: pfx("fe80::250:4ff:feee:4bcd/128")}},
		Gateways: []netip.Addr{addr("217.123.172.1")},
	}},
}

// TestLocalizedSamples: real ipconfig output in fr, es, it, pt-BR, ru,
// zh-CN, ja, ko, tr, pl and nl gives the same facts as English output.
func TestLocalizedSamples(t *testing.T) {
	opts := []cmp.Option{
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmpopts.IgnoreFields(Adapter{}, "Line"),
	}
	for name, tc := range localized {
		as := parseFile(t, name)
		if len(as) != tc.adapters {
			t.Errorf("%s: %d adapters, want %d", name, len(as), tc.adapters)
			continue
		}
		if diff := cmp.Diff(tc.want, as[tc.index], opts...); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestKeyValueColonInLabel: the separator is the colon after the dot
// leader, so es "Vínculo: dirección IPv6 local" stays one label.
func TestKeyValueColonInLabel(t *testing.T) {
	for line, want := range map[string][2]string{
		"   Vínculo: dirección IPv6 local. . . : fe80::1%6(Preferido)": {"vínculo: dirección ipv6 local", "fe80::1%6(Preferido)"},
		"   Verbindungsspezifisches DNS-Suffix: local":                 {"verbindungsspezifisches dns-suffix", "local"},
		"   Adresse IPv6. . . . . . . . . . . . . .: 2001:db8::1":      {"adresse ipv6", "2001:db8::1"},
		"   Adresse d\u2019autoconfiguration IPv4 . . . : 169.254.1.1": {"adresse d'autoconfiguration ipv4", "169.254.1.1"},
	} {
		k, v, ok := keyValue(line)
		if !ok || k != want[0] || v != want[1] {
			t.Errorf("keyValue(%q) = %q, %q, %v; want %q", line, k, v, ok, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for text, wantSub := range map[string]string{
		"":                           "no adapter",
		"Windows IP Configuration\n": "no adapter",
		"Xyzzy adapter X:\n   Plugh . . : Intel\n":                                                "display language",
		"Ethernet adapter X:\n   IPv4 Address. . : 192.0.2.300\n":                                 "ipv4 address",
		"Ethernet adapter X:\n   IPv4 Address. . : 192.0.2.3\n":                                   "no Subnet Mask",
		"Ethernet adapter X:\n   Subnet Mask . . : 255.255.255.0\n":                               "without an IPv4",
		"Ethernet adapter X:\n   IPv4 Address. . : 192.0.2.3\n   Subnet Mask . . : 255.0.255.0\n": "not contiguous",
		"Ethernet adapter X:\n   Default Gateway . : gw.example\n":                                "Default Gateway",
	} {
		_, err := Parse(text)
		if err == nil || !strings.Contains(err.Error(), wantSub) {
			t.Errorf("%q: err = %v, want %q", text, err, wantSub)
		}
	}
	_, err := Parse("Xyzzy adapter X:\n   Plugh . . : Intel\n")
	if !errors.Is(err, ErrUnknownLabel) {
		t.Errorf("unknown language: %v is not ErrUnknownLabel", err)
	}
	if _, ok := ByMAC(nil, "not a mac"); ok {
		t.Error("ByMAC matched garbage")
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		as, err := Parse(s)
		if err != nil {
			return
		}
		for _, a := range as {
			for _, ip := range a.IPv4 {
				if !ip.Prefix.IsValid() {
					t.Fatalf("IPv4 address without mask returned: %+v", a)
				}
			}
		}
	})
}
