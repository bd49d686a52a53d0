package ipconfig

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
	if len(files) != 4 {
		t.Errorf("%d samples in testdata, 4 asserted", len(files))
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

func TestParseErrors(t *testing.T) {
	for text, wantSub := range map[string]string{
		"":                           "no adapter",
		"Windows IP Configuration\n": "no adapter",
		"Adaptador Ethernet X:\n   Descripción . . : Intel\n":                                     "display language",
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
	_, err := Parse("Adaptador Ethernet X:\n   Descripción . . : Intel\n")
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
