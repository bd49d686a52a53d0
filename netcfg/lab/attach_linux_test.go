//go:build linux

package lab

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
)

// attachTarget creates a namespace standing in for an existing lab host:
// veth lan0 (peer lan0p, both inside it), up, with 192.0.2.20/24 already
// assigned. It returns the namespace name.
func attachTarget(t *testing.T) string {
	t.Helper()
	ns := "kbh-" + itoa(os.Getpid()) + "-att" + randomToken()
	ctx := context.Background()
	if _, err := runCommand(ctx, "ip", "netns", "add", ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := deleteNamespace(ns); err != nil {
			t.Error(err)
		}
	})
	for _, argv := range [][]string{
		{"ip", "-n", ns, "link", "add", "name", "lan0", "type", "veth", "peer", "name", "lan0p"},
		{"ip", "-n", ns, "link", "set", "lan0", "up"},
		{"ip", "-n", ns, "link", "set", "lan0p", "up"},
		{"ip", "-n", ns, "addr", "add", "192.0.2.20/24", "dev", "lan0"},
	} {
		if _, err := runCommand(ctx, argv[0], argv[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

func addrsOf(t *testing.T, ns, ifname string) []netip.Prefix {
	t.Helper()
	h, err := handleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var ps []netip.Prefix
	for _, a := range addrs {
		ps = append(ps, prefixOf(a))
	}
	return ps
}

func TestAttach(t *testing.T) {
	skipUnlessRoot(t)
	t.Setenv(journal.DirEnv, t.TempDir())
	ns := attachTarget(t)
	f := loadFixture(t, "default")
	l, err := Attach(context.Background(), ns, f)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if len(l.Namespaces) != 1 || l.Namespaces[HostRole] != ns || l.Host == nil {
		t.Errorf("attached lab: namespaces %v, host %v", l.Namespaces, l.Host)
	}
	v4, v6 := netip.MustParsePrefix("192.0.2.20/24"), netip.MustParsePrefix("2001:db8::20/64")
	if got := addrsOf(t, ns, "lan0"); !slices.Contains(got, v4) || !slices.Contains(got, v6) {
		t.Errorf("addresses after Attach = %v, want %v and %v", got, v4, v6)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := addrsOf(t, ns, "lan0")
	if !slices.Contains(got, v4) {
		t.Errorf("Close removed %v, which Attach did not add: %v", v4, got)
	}
	if slices.Contains(got, v6) {
		t.Errorf("Close left %v, which Attach added: %v", v6, got)
	}
	if !nsExists(ns) {
		t.Error("Close of an attached lab deleted the namespace")
	}
}

func TestAttachRefusals(t *testing.T) {
	skipUnlessRoot(t)
	t.Setenv(journal.DirEnv, t.TempDir())
	ns := attachTarget(t)
	if _, err := runCommand(context.Background(), "ip", "-n", ns, "route", "add", "default", "via", "192.0.2.1", "dev", "lan0"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		edit    func(f *fixtures.Lab)
		wantErr string // "" for success
	}{
		{"missing interface", func(f *fixtures.Lab) { f.Links[0].Interface = "lan9" }, `interface "lan9" (links[0].interface)`},
		{"default-route interface", func(f *fixtures.Lab) {}, `interface "lan0" (links[0].interface) carries the default route`},
		{"default-route interface allowed", func(f *fixtures.Lab) { f.AllowDefaultRouteInterface = true }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := loadFixture(t, "default")
			tc.edit(f)
			l, err := Attach(context.Background(), ns, f)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Attach: %v", err)
				}
				if err := l.Close(); err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil {
				l.Close()
				t.Fatalf("Attach succeeded, want error %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Attach error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := addrsOf(t, ns, "lan0"); slices.Contains(got, netip.MustParsePrefix("2001:db8::20/64")) {
				t.Errorf("refused Attach added an address: %v", got)
			}
		})
	}
}

func prefixOf(a netlink.Addr) netip.Prefix {
	ip, _ := netip.AddrFromSlice(a.IP)
	ones, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones)
}
