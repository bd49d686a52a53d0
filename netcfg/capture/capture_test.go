package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"net/netip"

	"github.com/kbharness/kbharness/fixtures"
)

// The samples in testdata are copies of ../shared/samples/windows (see its
// INDEX.md): rp- route_print, ipc- ipconfig_all, netsh-, pwsh-
// powershell_netroute; names otherwise unchanged.

func load(t *testing.T, names ...string) []File {
	t.Helper()
	var fs []File
	for _, n := range names {
		d, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, File{Name: n, Data: d})
	}
	return fs
}

var netipEqual = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

// facts are what an import of a sample must give.
type facts struct {
	links, routes, persistent, conflicts, skipped int
}

func (f facts) String() string {
	return fmt.Sprintf("links=%d routes=%d persistent=%d conflicts=%d skipped=%d", f.links, f.routes, f.persistent, f.conflicts, f.skipped)
}

func factsOf(h *Host, lab *fixtures.Lab) facts {
	f := facts{links: len(lab.Links), routes: len(lab.Routes), conflicts: len(h.Conflicts), skipped: len(h.Skipped)}
	for _, r := range lab.Routes {
		if r.Persistent {
			f.persistent++
		}
	}
	return f
}

// importFiles reads, builds and checks the round trip; it returns the facts
// or the error.
func importFiles(t *testing.T, fs []File, opt Options) (facts, *Host, error) {
	t.Helper()
	h, err := Read(fs, opt)
	if err != nil {
		return facts{}, nil, err
	}
	lab, m, err := Build(h, "imported")
	if err != nil {
		return facts{}, h, err
	}
	roundTrip(t, h, lab, m)
	return factsOf(h, lab), h, nil
}

// roundTrip: the fixture loads back identically; its addresses and routes
// map back to the host's; the mapping file reads back identically.
func roundTrip(t *testing.T, h *Host, lab *fixtures.Lab, m *Mapping) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(path, MarshalLab(lab, m), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := fixtures.LoadLab(path)
	if err != nil {
		t.Fatalf("LoadLab of the imported fixture: %v\n%s", err, MarshalLab(lab, m))
	}
	if d := cmp.Diff(lab, got, netipEqual); d != "" {
		t.Errorf("fixture read back differs (-built +loaded):\n%s", d)
	}
	for i, in := range h.Interfaces {
		var back []string
		for _, p := range lab.Links[i].Addresses {
			a, ok := m.Reverse(p.Addr())
			if !ok {
				t.Errorf("Reverse(%s) failed", p)
			}
			back = append(back, a.String())
		}
		var want []string
		for _, p := range in.Addresses {
			want = append(want, p.Addr().String())
		}
		if d := cmp.Diff(want, back); d != "" {
			t.Errorf("%s addresses reversed differ (-customer +reversed):\n%s", lab.Links[i].Interface, d)
		}
	}
	var want, back []string
	for _, r := range h.Routes {
		if !slices.ContainsFunc(h.Conflicts, func(c Conflict) bool {
			return slices.Equal(c.Sources, r.Sources) && strings.HasPrefix(c.Msg, "route "+r.Dst.String()+" ")
		}) {
			want = append(want, fmt.Sprintf("%s via %s on lan%d persistent=%v", r.Dst, gwText(r.Gateway), r.Interface, r.Persistent))
		}
	}
	for _, r := range lab.Routes {
		dst, ok1 := m.ReversePrefix(r.Dst)
		gw := "on-link"
		if r.Gateway.IsValid() {
			g, ok := m.Reverse(r.Gateway)
			if !ok {
				t.Errorf("Reverse(gateway %s) failed", r.Gateway)
			}
			gw = g.String()
		}
		if !ok1 {
			t.Errorf("ReversePrefix(%s) failed", r.Dst)
		}
		back = append(back, fmt.Sprintf("%s via %s on %s persistent=%v", dst, gw, r.Interface, r.Persistent))
	}
	if d := cmp.Diff(want, back); d != "" {
		t.Errorf("routes reversed differ (-customer +reversed):\n%s", d)
	}
	data, err := MarshalMapping(m, h, "lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := UnmarshalMapping(data)
	if err != nil {
		t.Fatalf("mapping file does not read back: %v\n%s", err, data)
	}
	if d := cmp.Diff(m, m2, netipEqual); d != "" {
		t.Errorf("mapping read back differs:\n%s", d)
	}
}

func TestSamples(t *testing.T) {
	for _, tc := range []struct {
		file string
		want facts
		err  string // expected error (then want is not checked)
	}{
		{file: "ipc-01-ubuntuforums-xp-schools-network.txt", want: facts{links: 1}},
		{file: "ipc-02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt", want: facts{links: 3, conflicts: 2}},
		{file: "ipc-04-htb-winlpe-srv01-dualhomed-enum-script.txt", err: `mapping address 10.129.43.43 of "Ethernet0 2" "vmxnet3 Ethernet Adapter #2": 10.129.43.43 lies beyond the first 256 addresses of 10.129.0.0/16, the room in 192.0.2.0/24: cannot map it`},
		{file: "ipc-05-notes-german-win10-ipconfig-all-wlan-lease-1884-partial.txt", want: facts{links: 1, conflicts: 2}},
		{file: "netsh-01-stri-tp-win11-show-addr-ipv4-multi-if.txt", want: facts{links: 4}},
		{file: "netsh-02-stri-tp-win11-show-addr-ipv6-per-address.txt", want: facts{links: 1, conflicts: 1}},
		{file: "netsh-04-stri-tp-win11-show-route-ipv6-long-prefix-overflow.txt", want: facts{links: 1, routes: 1, conflicts: 5}},
		{file: "netsh-05-wsl-vpn-notes-win10-show-interfaces.txt", err: "no interface with an address in the captures"},
		{file: "netsh-07-blog-epson-printer-show-interfaces-long-names.txt", err: "no interface with an address in the captures"},
		{file: "netsh-08-hugo-draft-win10-show-addr-ipv6-multi-if-deprecated.txt", err: "no interface with an address in the captures"},
		{file: "netsh-13-wsl-3951-dynamicport-10000-55535.txt", err: "netsh-13-wsl-3951-dynamicport-10000-55535.txt: cannot tell which command printed this"},
		{file: "netsh-16-blog-ipv6-2000-6-route-show-route-ipv6-long-prefix.txt", want: facts{links: 1, routes: 2}},
		{file: "netsh-17-vpn-monitor-fixture-win10-hma-show-route-ipv4.txt", want: facts{links: 1, routes: 1}},
		{file: "netsh-19-fixture-russian-netsh-show-route-localized.txt", err: "no interface with an address in the captures"},
		{file: "pwsh-01-msiexperiment-new-netipaddress-active-and-persistentstore.txt", err: "no interface with an address in the captures"},
		{file: "pwsh-02-wsl-vpn-notes-get-netipinterface-policystore-truncated.txt", err: "no interface with an address in the captures"},
		{file: "pwsh-04-catalan-notes-win10-get-netipaddress-wifi-fl.txt", want: facts{links: 1}},
		{file: "pwsh-05-catalan-notes-win10-new-netipaddress-persistentstore-MANGLED.txt", err: `pwsh-05-catalan-notes-win10-new-netipaddress-persistentstore-MANGLED.txt:25: Get-NetIPAddress (list): parsing Format-List: line 25: property name "Va lidLifetime" contains a space (damaged output?)`},
		{file: "pwsh-07-cnquery-fixture-get-netroute-convertto-json-projection.txt", want: facts{links: 1, routes: 1}},
		{file: "pwsh-08-wsl2-anyconnect-guide-get-netroute-wsl-rows-partial.txt", want: facts{links: 1}},
		{file: "rp-01-ubuntuforums-xp-schools-network.txt", want: facts{links: 1, routes: 1}},
		{file: "rp-02-plc4x-german-win7-netstat-rn.txt", want: facts{links: 4, routes: 2}},
		{file: "rp-04-pentest-cheatsheet-win2008-netstat-r-persistent-default.txt", want: facts{links: 1, routes: 1, persistent: 1}},
		{file: "rp-05-jackpal-gateway-french-fixture-trimmed.txt", want: facts{links: 1, conflicts: 2}},
		{file: "rp-07-jackpal-gateway-anyconnect-multigw-trimmed.txt", want: facts{links: 2, conflicts: 4}},
		{file: "rp-08-oscp-notes-nickel-win10-1903-persistent-metric1.txt", want: facts{links: 1, routes: 1, persistent: 1}},
		{file: "rp-10-blog-ec2-winserver2025-two-enis-persistent-default.txt", want: facts{links: 2, routes: 8, persistent: 1, conflicts: 4}},
		{file: "rp-11-blog-ec2-winserver2025-persistent-fragment-after-route-add-p.txt", err: "no interface with an address in the captures"},
		{file: "rp-13-blog-hacking-ipv6-win10-route-print-6-trimmed.txt", err: "no interface with an address in the captures"},
		{file: "rp-14-jc-fixture-winxp-route-print-persistent.txt", want: facts{links: 1, routes: 2, persistent: 1}},
		{file: "rp-16-jc-fixture-win2008-route-print-persistent-default.txt", want: facts{links: 1, routes: 1, persistent: 1}},
		{file: "rp-17-jc-fixture-win2016-route-print-persistent-default.txt", want: facts{links: 1, routes: 1, persistent: 1}},
		{file: "rp-19-jc-fixture-win11-openvpn-dco-route-print.txt", want: facts{links: 4, routes: 2}},
		{file: "rp-20-jc-fixture-win10-hyperv-vmware-crlf-persistent-157.txt", want: facts{links: 8, routes: 1, conflicts: 2}},
		{file: "rp-22-go-comment-chinese-route-print-4-persistent-moren.txt", want: facts{links: 4, routes: 4, persistent: 1, conflicts: 2}},
		{file: "rp-23-chinese-ops-notes-route-print-ipv6-zh-cn.txt", err: "mapping address 172.25.250.2 of holding 172.25.250.2: 172.25.250.2 lies beyond the first 256 addresses of 172.25.0.0/16"},
		{file: "rp-25-ubuntuforums-xp-MANGLED-doublespaced-tabs.txt", want: facts{links: 1, routes: 1}},
		{file: "rp-26-russian-lab-notes-route-print-ru-ru-hyperv-windscribe.txt", want: facts{links: 4, routes: 2}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, _, err := importFiles(t, load(t, tc.file), Options{})
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one containing %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.err == "" && got != tc.want:
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) != 38 {
		t.Errorf("%d samples in testdata, 38 in the table", len(files))
	}
}

// TestPairs imports captures of the same host together (INDEX.md names the
// sources): the jc-fixture Windows 11 route print with its ipconfig, the
// Ubuntu Forums XP pair, the STRI netsh set, the EC2 route print with its
// persistent fragment.
func TestPairs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		files     []string
		want      facts
		conflicts []string // each must be among the conflicts
	}{
		{"XP schools network", []string{"rp-01-ubuntuforums-xp-schools-network.txt", "ipc-01-ubuntuforums-xp-schools-network.txt"},
			facts{links: 1, routes: 1}, nil},
		{"jc Windows 11", []string{"rp-19-jc-fixture-win11-openvpn-dco-route-print.txt", "ipc-02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt"},
			facts{links: 3, routes: 2, conflicts: 12}, []string{
				`address fd63:cc9c:65eb:3f95:8928:348e:d692:b7ef on "Wi-Fi" "Intel(R) Wi-Fi 6 AX200 160MHz" index 11 is missing from route print (no on-link /128 row for it)`,
				`address fd63:cc9c:65eb:3f95:85e:ed3a:ebbf:d3ea on "Wi-Fi" "Intel(R) Wi-Fi 6 AX200 160MHz" index 11 is missing from ipc-02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt (ipconfig /all)`,
				`interface "Wi-Fi" "Intel(R) Wi-Fi 6 AX200 160MHz" index 11: the captures give different MACs a8:7e:ea:36:46:60, a8:7e:ea:55:26:b0`,
			}},
		{"STRI netsh", []string{"netsh-01-stri-tp-win11-show-addr-ipv4-multi-if.txt", "netsh-02-stri-tp-win11-show-addr-ipv6-per-address.txt", "netsh-04-stri-tp-win11-show-route-ipv6-long-prefix-overflow.txt"},
			facts{links: 4, routes: 1, conflicts: 6}, []string{
				`route ::/3 via fe80::8: gateway: link-local fe80::8: "OpenVPN Data Channel Offload" index 72 has no IPv6 subnet to place it in; the route is left out`,
			}},
		{"EC2 with its persistent fragment", []string{"rp-10-blog-ec2-winserver2025-two-enis-persistent-default.txt", "rp-11-blog-ec2-winserver2025-persistent-fragment-after-route-add-p.txt"},
			facts{links: 2, routes: 9, persistent: 2, conflicts: 4}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, h, err := importFiles(t, load(t, tc.files...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for _, want := range tc.conflicts {
				if !slices.ContainsFunc(h.Conflicts, func(c Conflict) bool { return strings.Contains(c.Msg, want) }) {
					t.Errorf("no conflict %q among\n%s", want, conflictList(h))
				}
			}
			if t.Failed() {
				t.Logf("conflicts:\n%s", conflictList(h))
			}
		})
	}
}

func conflictList(h *Host) string {
	var b strings.Builder
	for _, c := range h.Conflicts {
		fmt.Fprintln(&b, c)
	}
	return b.String()
}

// TestDeterministic: the same captures in another order give the same
// fixture and mapping.
func TestDeterministic(t *testing.T) {
	names := []string{"rp-19-jc-fixture-win11-openvpn-dco-route-print.txt", "ipc-02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt"}
	render := func(fs []File) string {
		h, err := Read(fs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		lab, m, err := Build(h, "x")
		if err != nil {
			t.Fatal(err)
		}
		return string(MarshalLab(lab, m))
	}
	fs := load(t, names...)
	a := render(fs)
	slices.Reverse(fs)
	if d := cmp.Diff(a, render(fs)); d != "" {
		t.Errorf("fixture depends on the file order:\n%s", d)
	}
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	u := utf16.Encode([]rune(s))
	if bom {
		u = append([]uint16{0xfeff}, u...)
	}
	b := make([]byte, 2*len(u))
	for i, c := range u {
		if bigEndian {
			binary.BigEndian.PutUint16(b[2*i:], c)
		} else {
			binary.LittleEndian.PutUint16(b[2*i:], c)
		}
	}
	return b
}

// TestEncodings: UTF-16 (LE/BE, with and without BOM), a UTF-8 BOM and CRLF
// import as the UTF-8 file does; bytes that are no UTF-8 are an error
// naming the file and line, or skipped with BestEffort.
func TestEncodings(t *testing.T) {
	f := load(t, "rp-22-go-comment-chinese-route-print-4-persistent-moren.txt")[0]
	want, _, err := importFiles(t, []File{f}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(f.Data, []byte("\n"), []byte("\r\n"))
	for name, data := range map[string][]byte{
		"utf-16le bom":   utf16Bytes(string(f.Data), false, true),
		"utf-16be bom":   utf16Bytes(string(f.Data), true, true),
		"utf-16le plain": utf16Bytes(string(crlf), false, false),
		"utf-8 bom crlf": append([]byte("\ufeff"), crlf...),
	} {
		got, _, err := importFiles(t, []File{{Name: name, Data: data}}, Options{})
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", name, got, err, want)
		}
	}
	bad := append([]byte("===\nInterface List\n"), 0xe9, '\n')
	_, err = Read([]File{{Name: "cp850.txt", Data: bad}}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "cp850.txt:3: byte 0xe9 at offset 19 is not UTF-8") {
		t.Errorf("CP850 bytes: %v", err)
	}
}

// TestDamaged: a damaged line is an error at file:line; with BestEffort the
// line is skipped and listed, and the rest imports.
func TestDamaged(t *testing.T) {
	f := load(t, "rp-14-jc-fixture-winxp-route-print-persistent.txt")[0]
	f.Data = bytes.Replace(f.Data, []byte("255.255.255.0"), []byte("255.0.255.0"), 1)
	_, err := Read([]File{f}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), f.Name+":") || !strings.Contains(err.Error(), `"255.0.255.0" is not contiguous`) {
		t.Fatalf("damaged mask: %v", err)
	}
	got, h, err := importFiles(t, []File{f}, Options{BestEffort: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Skipped) != 1 || h.Skipped[0].Line == 0 || got.links != 1 {
		t.Errorf("best effort: %v, skipped %v", got, h.Skipped)
	}
	got, h, err = importFiles(t, load(t, "pwsh-05-catalan-notes-win10-new-netipaddress-persistentstore-MANGLED.txt"), Options{BestEffort: true})
	if err != nil || got.links != 1 || len(h.Skipped) != 1 || h.Skipped[0].Line != 25 {
		t.Errorf("MANGLED Format-List with best effort: %v %v %v", got, h.Skipped, err)
	}
	_, h, err = importFiles(t, load(t, "netsh-13-wsl-3951-dynamicport-10000-55535.txt", "rp-01-ubuntuforums-xp-schools-network.txt"), Options{BestEffort: true})
	if err != nil || len(h.Skipped) != 1 || h.Skipped[0].Line != 0 {
		t.Errorf("unknown kind with best effort: %v %v", h, err)
	}
}

// TestNetshPersistent: a netsh show route whose echoed command says
// store=persistent gives persistent routes.
func TestNetshPersistent(t *testing.T) {
	f := load(t, "netsh-17-vpn-monitor-fixture-win10-hma-show-route-ipv4.txt")[0]
	persistent := File{Name: "persistent.txt", Data: append([]byte("C:\\> netsh interface ipv4 show route store=persistent\n\n"), f.Data...)}
	got, _, err := importFiles(t, []File{f, persistent}, Options{})
	if err != nil || got.routes != 1 || got.persistent != 1 {
		t.Errorf("%v %v", got, err)
	}
}

func TestDetect(t *testing.T) {
	for file, want := range map[string]Kind{
		"rp-02-plc4x-german-win7-netstat-rn.txt":                             RoutePrint,
		"ipc-05-notes-german-win10-ipconfig-all-wlan-lease-1884-partial.txt": IPConfig,
		"netsh-04-stri-tp-win11-show-route-ipv6-long-prefix-overflow.txt":    NetshRoutes,
		"netsh-08-hugo-draft-win10-show-addr-ipv6-multi-if-deprecated.txt":   NetshAddresses,
		"netsh-05-wsl-vpn-notes-win10-show-interfaces.txt":                   NetshInterfaces,
		"pwsh-02-wsl-vpn-notes-get-netipinterface-policystore-truncated.txt": PwshIPInterfaces,
		"pwsh-04-catalan-notes-win10-get-netipaddress-wifi-fl.txt":           PwshAddressList,
		"pwsh-07-cnquery-fixture-get-netroute-convertto-json-projection.txt": PwshRouteJSON,
		"pwsh-08-wsl2-anyconnect-guide-get-netroute-wsl-rows-partial.txt":    PwshRouteTable,
	} {
		if got, _ := Detect(string(load(t, file)[0].Data)); got != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
}
