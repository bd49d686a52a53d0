package standin

import (
	"errors"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/netsh"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

// The Linux kernel behind the stand-ins, and Windows semantics over it.

func TestKernelErrorsAreSentinels(t *testing.T) {
	n := newTestNS(t)
	idx := n.index(t, "lan0")
	r := Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Index: idx, Metric: 7}
	if err := n.k.AddRoute(r); err != nil {
		t.Fatal(err)
	}
	if err := n.k.AddRoute(r); !errors.Is(err, ErrExists) {
		t.Errorf("adding a route twice: %v, want ErrExists", err)
	}
	if err := n.k.DelRoute(r); err != nil {
		t.Fatal(err)
	}
	if err := n.k.DelRoute(r); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a missing route: %v, want ErrNotFound", err)
	}
	// An on-link route (scope link) deletes too.
	onLink := Route{Dst: netip.MustParsePrefix("203.0.113.5/32"), Index: idx}
	if err := n.k.AddRoute(onLink); err != nil {
		t.Fatal(err)
	}
	if err := n.k.DelRoute(onLink); err != nil {
		t.Errorf("deleting an on-link route: %v", err)
	}
	a := Addr{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Index: idx}
	if err := n.k.AddAddr(a); !errors.Is(err, ErrExists) {
		t.Errorf("adding an address twice: %v, want ErrExists", err)
	}
	if err := n.k.DelAddr(Addr{Prefix: netip.MustParsePrefix("192.0.2.99/24"), Index: idx}); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a missing address: %v, want ErrNotFound", err)
	}
}

// TestDeletingAnAddressKeepsTheOthers: on Windows, deleting an address
// deletes that address; Linux would take every secondary of the subnet
// with a primary unless promote_secondaries is set.
func TestDeletingAnAddressKeepsTheOthers(t *testing.T) {
	for _, by := range []string{"netsh", "powershell"} {
		t.Run(by, func(t *testing.T) {
			n := newTestNS(t)
			c := newClient(t, n.k)
			primary := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: "lan0"}
			if by == "netsh" {
				c.ok(must(netsh.DeleteAddress(primary))...)
			} else {
				c.ok(pwsh.EncodedArgv(must(pwsh.RemoveNetIPAddress(primary, pwsh.BothStores)))...)
			}
			out, err := exec.Command("ip", "-n", n.name, "-4", "-o", "addr", "show", "dev", "lan0").Output()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "192.0.2.20/") || !strings.Contains(string(out), "192.0.2.21/24") {
				t.Errorf("after deleting 192.0.2.20 by %s, lan0 has:\n%s\nwant 192.0.2.21/24 alone", by, out)
			}
		})
	}
}

// TestAddIPAddressOfAHeldAddress: an ARP probe finds the address another
// host on the link holds (here lan0's veth peer), and AddIPAddress adds it
// all the same in DAD state Duplicate, answering NO_ERROR; a free address
// is added as usual. The state shows where Windows shows it
// (Get-NetIPAddress's AddressState).
func TestAddIPAddressOfAHeldAddress(t *testing.T) {
	n := newTestNS(t)
	if out, err := exec.Command("ip", "-n", n.name, "addr", "add", "192.0.2.1/32", "dev", "lan0p").CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v: %s", err, out)
	}
	idx := n.index(t, "lan0")
	for _, tc := range []struct {
		addr string
		held bool
	}{{"192.0.2.1", true}, {"192.0.2.77", false}} {
		held, err := n.k.Held(idx, netip.MustParseAddr(tc.addr))
		if err != nil || held != tc.held {
			t.Errorf("Held(lan0, %s) = %v, %v; want %v", tc.addr, held, err, tc.held)
		}
	}
	s, err := NewServer(n.k, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, s: s}
	for _, a := range []string{"192.0.2.1", "192.0.2.77"} {
		if r := c.run("iphlpapi", "AddIPAddress", a, "255.255.255.0", strconv.Itoa(idx)); r.exit != 0 || !strings.Contains(r.stdout, "NTEContext=") {
			t.Fatalf("AddIPAddress %s: exit %d, %q %q", a, r.exit, r.stdout, r.stderr)
		}
	}
	addrs, err := pwsh.ParseAddressesJSON(c.ok(pwsh.EncodedArgv(pwsh.GetNetIPAddressJSON(pwsh.BothStores))...), netcfg.StoreActive)
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	for _, a := range addrs {
		state[a.Prefix.String()] = a.AddressState
	}
	if state["192.0.2.1/24"] != "Duplicate" || state["192.0.2.77/24"] != "Preferred" {
		t.Errorf("Get-NetIPAddress AddressState: %v; want 192.0.2.1/24 Duplicate, 192.0.2.77/24 Preferred", state)
	}
}

// index is the ifindex of the namespace's link name.
func (n *testNS) index(t *testing.T, name string) int {
	t.Helper()
	links, err := n.k.Links()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Name == name {
			return l.Index
		}
	}
	t.Fatalf("no link %s", name)
	return 0
}
