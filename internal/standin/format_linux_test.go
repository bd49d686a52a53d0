package standin

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/kbharness/kbharness/internal/mcast"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/routeexe"
)

// The format checks: the stand-ins run against a real kernel (a network
// namespace made here), every output is parsed back with kbharness's own
// parsers and compared with what iproute2 reads from the same kernel, and
// its layout is compared with a real capture of the same command
// (testdata, from ../shared/samples/windows).

// testNS is a network namespace for one test: lan0 and lan1 are veth ends
// (their peers lan0p, lan1p in the same namespace carry no address),
// addressed like the multihomed lab.
type testNS struct {
	name string
	k    Kernel
}

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("requires iproute2 (ip): the kernel's values are read with it")
	}
}

// newTestNS makes the namespace "kbh-<pid>-<rand6>-standin" (the lab
// naming, so that `kbharness cleanup` removes it if this test dies) and
// returns it with its teardown registered.
func newTestNS(t *testing.T) *testNS {
	t.Helper()
	skipUnlessRoot(t)
	b := make([]byte, 3)
	rand.Read(b)
	name := fmt.Sprintf("kbh-%d-%s-standin", os.Getpid(), hex.EncodeToString(b))
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	ns, err := netns.NewNamed(name)
	if serr := netns.Set(orig); serr != nil {
		t.Fatalf("returning to the original namespace: %v", serr) // the thread stays locked and dies
	}
	runtime.UnlockOSThread()
	orig.Close()
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, v := range []string{"lan0", "lan1"} {
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: v}, PeerName: v + "p"}); err != nil {
			t.Fatalf("adding veth %s: %v", v, err)
		}
	}
	for _, l := range []string{"lo", "lan0", "lan0p", "lan1", "lan1p"} {
		link, err := h.LinkByName(l)
		if err == nil {
			err = h.LinkSetUp(link)
		}
		if err != nil {
			t.Fatalf("setting %s up: %v", l, err)
		}
	}
	for _, a := range []struct{ dev, prefix string }{
		{"lan0", "192.0.2.20/24"}, {"lan0", "192.0.2.21/24"}, {"lan0", "2001:db8::20/64"}, {"lan1", "198.51.100.20/24"},
	} {
		link, _ := h.LinkByName(a.dev)
		addr, _ := netlink.ParseAddr(a.prefix)
		addr.Flags = 0x02 // IFA_F_NODAD: no DAD peer here
		if err := h.AddrAdd(link, addr); err != nil {
			t.Fatalf("adding %s to %s: %v", a.prefix, a.dev, err)
		}
	}
	k, closeK, err := OpenKernel(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeK() })
	return &testNS{name: name, k: k}
}

// ipJSON runs `ip -j ARGS` in the namespace and decodes it.
func (n *testNS) ipJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	b, err := exec.Command("ip", append([]string{"-j", "-n", n.name}, args...)...).Output()
	if err != nil {
		t.Fatalf("ip %q: %v", args, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("ip %q: decoding %s: %v", args, b, err)
	}
}

type ipLink struct {
	Index int    `json:"ifindex"`
	Name  string `json:"ifname"`
	MTU   int    `json:"mtu"`
	MAC   string `json:"address"`
	Addrs []struct {
		Family string `json:"family"`
		Local  string `json:"local"`
		Len    int    `json:"prefixlen"`
	} `json:"addr_info"`
}

type ipRoute struct {
	Type    string `json:"type"`
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Dev     string `json:"dev"`
	Metric  int    `json:"metric"`
	Prefsrc string `json:"prefsrc"`
}

// kernelRoute is a route as compared: destination, gateway ("" on-link),
// interface index, metric.
type kernelRoute struct {
	Dst     string
	Gateway string
	Index   int
	Metric  int
}

func (k kernelRoute) String() string {
	return fmt.Sprintf("%s via %q if %d metric %d", k.Dst, k.Gateway, k.Index, k.Metric)
}

// kernelState is what iproute2 reads from the namespace.
type kernelState struct {
	links  []ipLink
	byName map[string]int
	routes map[int][]kernelRoute // by family: the routes Windows shows
}

func (n *testNS) kernel(t *testing.T) kernelState {
	t.Helper()
	var s kernelState
	n.ipJSON(t, &s.links, "addr", "show")
	s.byName = map[string]int{}
	for _, l := range s.links {
		s.byName[l.Name] = l.Index
	}
	s.routes = map[int][]kernelRoute{}
	for _, fam := range []int{4, 6} {
		var rs []ipRoute
		n.ipJSON(t, &rs, fmt.Sprintf("-%d", fam), "route", "show", "table", "all")
		for _, r := range rs {
			switch r.Type {
			case "", "unicast", "local", "broadcast", "multicast":
			default:
				continue // anycast, unreachable: not Windows routes
			}
			dst := r.Dst
			switch {
			case dst == "default" && fam == 4:
				dst = "0.0.0.0/0"
			case dst == "default":
				dst = "::/0"
			case !strings.Contains(dst, "/") && fam == 4:
				dst += "/32"
			case !strings.Contains(dst, "/"):
				dst += "/128"
			}
			s.routes[fam] = append(s.routes[fam], kernelRoute{Dst: netip.MustParsePrefix(dst).String(), Gateway: r.Gateway, Index: s.byName[r.Dev], Metric: r.Metric})
		}
		sortKernelRoutes(s.routes[fam])
	}
	return s
}

func sortKernelRoutes(rs []kernelRoute) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].String() < rs[j].String() })
}

func diffRoutes(t *testing.T, what string, got, want []kernelRoute) {
	t.Helper()
	sortKernelRoutes(got)
	want = slices.Clone(want)
	sortKernelRoutes(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: parsed back\n%s\nbut the kernel (ip -j route) has\n%s", what, joinRoutes(got), joinRoutes(want))
	}
}

func joinRoutes(rs []kernelRoute) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("  " + r.String() + "\n")
	}
	return b.String()
}

func addrText(a netip.Addr) string {
	if !a.IsValid() || a.IsUnspecified() {
		return ""
	}
	return a.String()
}

// populate makes routes through the stand-ins themselves: a persistent
// default route, an active-only route, a persistent IPv6 route.
func populate(t *testing.T, c *client) {
	t.Helper()
	c.ok("route", "-p", "add", "0.0.0.0", "mask", "0.0.0.0", "192.0.2.1")
	c.ok(must(netsh.AddRoute(netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("198.51.100.1"), Interface: "lan1", Metric: 7}))...)
	c.ok(pwsh.EncodedArgv(must(pwsh.NewNetRoute(netcfg.RouteSpec{Dst: netip.MustParsePrefix("::/0"), Gateway: netip.MustParseAddr("2001:db8::1"), Interface: "lan0"}, pwsh.BothStores)))...)
}

func TestFormatsParseBackToTheKernel(t *testing.T) {
	n := newTestNS(t)
	c := newClient(t, n.k)
	populate(t, c)
	ks := n.kernel(t)

	t.Run("route print", func(t *testing.T) {
		tbl := must(routeexe.ParsePrint(c.ok("route", "print")))
		var ifs []string
		for _, i := range tbl.Interfaces {
			ifs = append(ifs, fmt.Sprintf("%d %s %s", i.Index, i.Description, i.MAC))
		}
		var want []string
		for _, l := range ks.links {
			mac := l.MAC
			if mac == "00:00:00:00:00:00" {
				mac = ""
			}
			want = append(want, fmt.Sprintf("%d %s %s", l.Index, l.Name, mac))
		}
		slices.Sort(ifs)
		slices.Sort(want)
		if !slices.Equal(ifs, want) {
			t.Errorf("interface list %q, kernel %q", ifs, want)
		}
		got := map[int][]kernelRoute{}
		var persistent []string
		for _, r := range tbl.Rows {
			fam := int(r.Family)
			if r.Store == netcfg.StorePersistent {
				persistent = append(persistent, fmt.Sprintf("%s %s", r.Dst, r.GatewayText))
				continue
			}
			idx := r.IfIndex
			if r.InterfaceIP.IsValid() {
				for _, l := range ks.links {
					for _, a := range l.Addrs {
						if a.Local == r.InterfaceIP.String() {
							idx = l.Index
						}
					}
				}
			}
			gw := ""
			if !r.OnLink {
				gw = addrText(r.Gateway)
			}
			got[fam] = append(got[fam], kernelRoute{Dst: r.Dst.String(), Gateway: gw, Index: idx, Metric: r.Metric})
		}
		diffRoutes(t, "route print, IPv4 active", got[4], ks.routes[4])
		diffRoutes(t, "route print, IPv6 active", got[6], ks.routes[6])
		slices.Sort(persistent)
		if want := []string{"0.0.0.0/0 192.0.2.1", "::/0 2001:db8::1"}; !slices.Equal(persistent, want) {
			t.Errorf("route print persistent rows %q, want %q", persistent, want)
		}
	})

	t.Run("netsh show route", func(t *testing.T) {
		for _, fam := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
			rs := must(netsh.ParseRoutes(c.ok(netsh.ShowRoute(fam, "")...), netcfg.StoreActive))
			var got []kernelRoute
			for _, r := range rs {
				got = append(got, kernelRoute{Dst: r.Dst.String(), Gateway: addrText(r.Gateway), Index: r.IfIndex, Metric: r.Metric})
				if !r.Gateway.IsValid() && r.Interface != ks.links[slices.IndexFunc(ks.links, func(l ipLink) bool { return l.Index == r.IfIndex })].Name {
					t.Errorf("netsh show route: on-link %s names interface %q, Idx %d", r.Dst, r.Interface, r.IfIndex)
				}
			}
			diffRoutes(t, fmt.Sprintf("netsh interface ipv%d show route", fam), got, ks.routes[int(fam)])
		}
	})

	t.Run("netsh show interfaces and addresses", func(t *testing.T) {
		ifs := must(netsh.ParseInterfaces(c.ok(netsh.ShowInterfaces(netcfg.IPv4)...)))
		var got, want []string
		for _, i := range ifs {
			got = append(got, fmt.Sprintf("%d %s %d", i.Idx, i.Name, i.MTU))
		}
		for _, l := range ks.links {
			want = append(want, fmt.Sprintf("%d %s %d", l.Index, l.Name, l.MTU))
		}
		if !slices.Equal(got, want) {
			t.Errorf("show interfaces %q, kernel %q", got, want)
		}
		got, want = nil, nil
		for _, fam := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
			for _, e := range must(netsh.ParseAddresses(c.ok(netsh.ShowAddresses(fam)...))) {
				bits := e.Bits
				if fam == netcfg.IPv6 {
					bits = -1 // netsh does not print IPv6 prefix lengths
				}
				got = append(got, fmt.Sprintf("%s %s/%d", e.Interface, e.Addr, bits))
			}
		}
		for _, l := range ks.links {
			for _, a := range l.Addrs {
				bits := a.Len
				if a.Family == "inet6" {
					bits = -1
				}
				want = append(want, fmt.Sprintf("%s %s/%d", l.Name, a.Local, bits))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("show addresses (ipv4, ipv6) %q, kernel %q", got, want)
		}
	})

	t.Run("netsh dynamicport, global, interface", func(t *testing.T) {
		c.ok(must(netsh.SetDynamicPort(netcfg.IPv4, netsh.DynamicPortRange{Start: 49152, Num: 255}))...)
		b, err := exec.Command("ip", "netns", "exec", n.name, "cat", "/proc/sys/net/ipv4/ip_local_port_range").Output()
		if err != nil || strings.Join(strings.Fields(string(b)), " ") != "49152 49406" {
			t.Errorf("net.ipv4.ip_local_port_range in the namespace: %q, %v", b, err)
		}
		if got := must(netsh.ParseDynamicPort(c.ok(netsh.ShowDynamicPort(netcfg.IPv4)...))); got != (netsh.DynamicPortRange{Start: 49152, Num: 255}) {
			t.Errorf("show dynamicport %+v", got)
		}
		c.ok(mcast.SetInterfaceArgv("lan1", true)...)
		if on := must(mcast.ParseInterfaceForwarding(c.ok(mcast.ShowInterfaceArgv("lan1")...))); !on {
			t.Error("show interface lan1 says forwarding disabled after set forwarding=enabled")
		}
		b, err = exec.Command("ip", "netns", "exec", n.name, "cat", "/proc/sys/net/ipv4/conf/lan1/forwarding").Output()
		if err != nil || strings.TrimSpace(string(b)) != "1" {
			t.Errorf("net.ipv4.conf.lan1.forwarding: %q, %v", b, err)
		}
		c.ok(mcast.SetGlobalArgv(true)...)
		if on := must(mcast.ParseMulticastForwarding(c.ok(mcast.ShowGlobalArgv()...))); !on {
			t.Error("show global says multicast forwarding disabled after enabling it")
		}
	})

	t.Run("powershell", func(t *testing.T) {
		var got []kernelRoute
		for _, r := range must(pwsh.ParseRoutesJSON(c.ok(pwsh.EncodedArgv(pwsh.GetNetRouteJSON(pwsh.ActiveStore))...), netcfg.StoreActive)) {
			got = append(got, kernelRoute{Dst: r.Dst.String(), Gateway: addrText(r.Gateway), Index: r.IfIndex, Metric: r.Metric})
			if r.Interface != ks.links[slices.IndexFunc(ks.links, func(l ipLink) bool { return l.Index == r.IfIndex })].Name {
				t.Errorf("Get-NetRoute: InterfaceAlias %q for index %d", r.Interface, r.IfIndex)
			}
		}
		diffRoutes(t, "Get-NetRoute | ConvertTo-Json", got, append(slices.Clone(ks.routes[4]), ks.routes[6]...))
		var addrs, want []string
		for _, a := range must(pwsh.ParseAddressesJSON(c.ok(pwsh.EncodedArgv(pwsh.GetNetIPAddressJSON(pwsh.ActiveStore))...), netcfg.StoreActive)) {
			addrs = append(addrs, fmt.Sprintf("%d %s %s", a.IfIndex, a.Interface, a.Prefix))
		}
		for _, l := range ks.links {
			for _, a := range l.Addrs {
				want = append(want, fmt.Sprintf("%d %s %s/%d", l.Index, l.Name, a.Local, a.Len))
			}
		}
		slices.Sort(addrs)
		slices.Sort(want)
		if !slices.Equal(addrs, want) {
			t.Errorf("Get-NetIPAddress | ConvertTo-Json %q, kernel %q", addrs, want)
		}
		lst := must(pwsh.ParseAddressList(c.ok(pwsh.Argv("Get-NetIPAddress")...)))
		if len(lst) != len(want) {
			t.Errorf("Get-NetIPAddress list view: %d addresses, kernel %d", len(lst), len(want))
		}
		tbl := must(pwsh.ParseRouteTable(c.ok(pwsh.Argv("Get-NetRoute")...)))
		if len(tbl) != len(ks.routes[4])+len(ks.routes[6]) {
			t.Errorf("Get-NetRoute table view: %d routes, kernel %d", len(tbl), len(ks.routes[4])+len(ks.routes[6]))
		}
	})
}

// TestFormatsMatchRealCaptures compares the layout of each output with a
// real capture of the same command: the same headers, rules and section
// labels in the same order, and values in the same columns.
func TestFormatsMatchRealCaptures(t *testing.T) {
	n := newTestNS(t)
	c := newClient(t, n.k)
	populate(t, c)

	t.Run("route print", func(t *testing.T) {
		// The captures have no IPv6 persistent route.
		c.ok(pwsh.Argv("Remove-NetRoute -DestinationPrefix '::/0' -PolicyStore PersistentStore -Confirm:$false")...)
		out := c.ok("route", "print")
		for _, sample := range []string{"17-jc-fixture-win2016-route-print-persistent-default.txt", "20-jc-fixture-win10-hyperv-vmware-crlf-persistent-157.txt"} {
			real := readSample(t, sample)
			if got, want := routePrintSkeleton(out, true), routePrintSkeleton(real, false); !slices.Equal(got, want) {
				t.Errorf("route print sections:\n%s\n%s has:\n%s", strings.Join(got, "\n"), sample, strings.Join(want, "\n"))
			}
			for kind, re := range routeRowKinds {
				got, want := columnEnds(out, re), columnEnds(real, re)
				if len(got) == 0 {
					continue // a row kind only the capture has (an 8-byte MAC, a wrapped gateway)
				}
				if len(want) == 0 {
					if !strings.HasPrefix(kind, "ipv4 persistent") {
						t.Errorf("route print has %s rows, %s none to compare with", kind, sample)
					}
					continue
				}
				for _, g := range got {
					if !slices.Contains(want, g) {
						t.Errorf("route print %s rows end their fields at columns %v, %s at %v", kind, g, sample, want)
					}
				}
			}
		}
	})

	t.Run("netsh tables", func(t *testing.T) {
		for _, tc := range []struct {
			argv   []string
			sample string
		}{
			{netsh.ShowRoute(netcfg.IPv4, ""), "17-vpn-monitor-fixture-win10-hma-show-route-ipv4.txt"},
			{netsh.ShowRoute(netcfg.IPv6, ""), "04-stri-tp-win11-show-route-ipv6-long-prefix-overflow.txt"},
			{netsh.ShowInterfaces(netcfg.IPv4), "05-wsl-vpn-notes-win10-show-interfaces.txt"},
			{netsh.ShowAddresses(netcfg.IPv6), "08-hugo-draft-win10-show-addr-ipv6-multi-if-deprecated.txt"},
		} {
			out, real := c.ok(tc.argv...), readSample(t, tc.sample)
			gh, gr := headerAndRule(out)
			wh, wr := headerAndRule(real)
			if gh != wh || gr != wr {
				t.Errorf("%q header and rule\n%q\n%q\n%s has\n%q\n%q", tc.argv, gh, gr, tc.sample, wh, wr)
			}
			if got, want := rowColumns(out, gr), rowColumns(real, wr); !slices.Equal(got, want) {
				t.Errorf("%q: rows put values at the rule's columns %v, %s at %v", tc.argv, got, tc.sample, want)
			}
		}
	})

	t.Run("netsh blocks", func(t *testing.T) {
		for _, tc := range []struct {
			argv   []string
			sample string
			re     *regexp.Regexp
		}{
			{netsh.ShowAddresses(netcfg.IPv4), "01-stri-tp-win11-show-addr-ipv4-multi-if.txt", regexp.MustCompile(`^(Configuration for interface "|    [A-Za-z ]+:\s+)`)},
			{netsh.ShowDynamicPort(netcfg.IPv4), "13-wsl-3951-dynamicport-10000-55535.txt", regexp.MustCompile(`^(Protocol tcp Dynamic Port Range|-+$|[A-Za-z ]+: )`)},
		} {
			got, want := lineShapes(c.ok(tc.argv...), tc.re), lineShapes(readSample(t, tc.sample), tc.re)
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Errorf("%q prints %q, which %s never does (it has %q)", tc.argv, g, tc.sample, want)
				}
			}
		}
	})

	t.Run("powershell views", func(t *testing.T) {
		out, real := c.ok(pwsh.Argv("Get-NetRoute")...), readSample(t, "08-wsl2-anyconnect-guide-get-netroute-wsl-rows-partial.txt")
		gh, gr := headerAndRule(out)
		wh, wr := headerAndRule(real)
		if gh != wh || gr != wr {
			t.Errorf("Get-NetRoute table header\n%q\n%q\nthe capture has\n%q\n%q", gh, gr, wh, wr)
		}
		if got, want := rowColumns(out, gr), rowColumns(real, wr); !slices.Equal(got, want) {
			t.Errorf("Get-NetRoute rows put values at %v, the capture at %v", got, want)
		}
		names := func(s string) []string {
			recs := must(pwsh.ParseList(s))
			var out []string
			for _, f := range recs[0] {
				out = append(out, f.Name)
			}
			return out
		}
		if got, want := names(c.ok(pwsh.Argv("Get-NetIPAddress")...)), names(readSample(t, "01-msiexperiment-new-netipaddress-active-and-persistentstore.txt")); !slices.Equal(got, want) {
			t.Errorf("Get-NetIPAddress list properties %q, the capture %q", got, want)
		}
	})
}

func readSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// routePrintSkeleton is route print's structure: rulers, titles, labels
// and headers, with rows replaced by one "<rows>" and "  None" kept. ours
// says whether the text is the stand-in's (trailing sections a trimmed
// capture lacks are compared only as far as the capture goes).
func routePrintSkeleton(text string, ours bool) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		s := strings.TrimRight(l, " ")
		switch {
		case s == "":
			continue
		case strings.Trim(s, "=") == "", s == "Interface List", strings.HasSuffix(s, "Route Table"), strings.HasSuffix(s, "Routes:"),
			s == "  None", strings.HasPrefix(s, "Network Destination"), strings.HasPrefix(s, "  Network Address"), strings.HasPrefix(s, " If Metric"):
			out = append(out, s)
		default:
			if len(out) == 0 || out[len(out)-1] != "<rows>" {
				out = append(out, "<rows>")
			}
		}
	}
	return out
}

// routeRowKinds match the row kinds of route print whose field ends are
// compared.
var routeRowKinds = map[string]*regexp.Regexp{
	"interface list":           regexp.MustCompile(`^\s*\d+\.\.\.`),
	"ipv4 active on-link":      regexp.MustCompile(`^\s*\d+\.\d+\.\d+\.\d+\s+\d+\.\d+\.\d+\.\d+\s+On-link\s+\d+\.\d+\.\d+\.\d+\s+\d+$`),
	"ipv4 active via gateway":  regexp.MustCompile(`^\s*\d+\.\d+\.\d+\.\d+\s+\d+\.\d+\.\d+\.\d+\s+\d+\.\d+\.\d+\.\d+\s+\d+\.\d+\.\d+\.\d+\s+\d+$`),
	"ipv4 persistent numeric":  regexp.MustCompile(`^\s*\d+\.\d+\.\d+\.\d+\s+\d+\.\d+\.\d+\.\d+\s+\d+\.\d+\.\d+\.\d+\s+\d+$`),
	"ipv4 persistent default":  regexp.MustCompile(`^\s*\d+\.\d+\.\d+\.\d+\s+\d+\.\d+\.\d+\.\d+\s+\S+\s+Default$`),
	"ipv6 row, short prefix":   regexp.MustCompile(`^\s*\d+\s+\d+ \S{1,24}\s+On-link$`),
	"ipv6 wrapped gateway row": regexp.MustCompile(`^\s{36}On-link$`),
}

// columnEnds returns, for the rows re matches, the set of column lists
// where their fields end (for the interface list: where the description
// starts). Rows of one kind must agree among themselves and with the
// capture.
func columnEnds(text string, re *regexp.Regexp) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if !re.MatchString(l) {
			continue
		}
		var key string
		if m := regexp.MustCompile(`^\s*\d+\.\.\.(?:[0-9a-f]{2} ){6}\.+|^\s*\d+\.\.\.\.+`).FindString(l); m != "" {
			key = fmt.Sprint(len(m))
		} else if strings.HasPrefix(l, " ") && strings.Contains(l, ":") && !strings.Contains(l, ".") {
			// IPv6 rows: If and Metric end, the prefix and gateway start.
			f := fieldSpans(l)
			key = fmt.Sprint(f[0][1], f[1][1], f[2][0], f[len(f)-1][0])
		} else {
			var ends []int
			for _, f := range fieldSpans(l) {
				ends = append(ends, f[1])
			}
			key = fmt.Sprint(ends)
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

func fieldSpans(l string) [][2]int {
	var out [][2]int
	for _, m := range regexp.MustCompile(`\S+`).FindAllStringIndex(l, -1) {
		out = append(out, [2]int{m[0], m[1]})
	}
	return out
}

// headerAndRule returns a table's header line and dashed rule.
func headerAndRule(text string) (string, string) {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if i > 0 && strings.HasPrefix(l, "---") && strings.Trim(l, "- ") == "" {
			return strings.TrimRight(lines[i-1], " "), strings.TrimRight(l, " ")
		}
	}
	return "", ""
}

// rowColumns checks the table's rows against its rule: for each column,
// whether values start at the rule's dash run ("L") or end at its end
// ("R"), as most rows do. Overflowing values (long prefixes) are skipped.
func rowColumns(text, rule string) []string {
	runs := fieldSpans(rule)
	lines := strings.Split(text, "\n")
	start := slices.Index(lines, rule)
	if start < 0 {
		for i, l := range lines {
			if strings.TrimRight(l, " ") == rule {
				start = i
			}
		}
	}
	votes := make([]map[string]int, len(runs))
	for i := range votes {
		votes[i] = map[string]int{}
	}
	for _, l := range lines[start+1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		for _, f := range fieldSpans(l) {
			for i, r := range runs {
				switch {
				case f[0] == r[0]:
					votes[i]["L"]++
				case f[1] == r[1]:
					votes[i]["R"]++
				}
			}
		}
	}
	var out []string
	for _, v := range votes {
		switch {
		case v["L"] == 0 && v["R"] == 0:
			out = append(out, "-")
		case v["L"] >= v["R"]:
			out = append(out, "L")
		default:
			out = append(out, "R")
		}
	}
	return out
}

// lineShapes returns the distinct prefixes re matches, with digits and
// names after the label masked.
func lineShapes(text string, re *regexp.Regexp) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if m := re.FindString(l); m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
