//go:build linux

package lab

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
}

func loadFixture(t *testing.T, name string) *fixtures.Lab {
	t.Helper()
	f, err := fixtures.LoadLab(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newLab builds a lab and registers its Close, which must leave nothing.
func newLab(t *testing.T, f *fixtures.Lab) *Lab {
	t.Helper()
	l, err := New(context.Background(), f)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		assertGone(t, l)
	})
	return l
}

func nsExists(name string) bool {
	_, err := os.Lstat(filepath.Join(NetnsDir, name))
	return err == nil
}

func assertGone(t *testing.T, l *Lab) {
	t.Helper()
	for role, ns := range l.Namespaces {
		if nsExists(ns) {
			t.Errorf("namespace %s (%s) still exists", ns, role)
		}
	}
	if _, err := os.Stat(statePath(l.ID)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state file %s: %v, want it gone", statePath(l.ID), err)
	}
}

// reach listens on addr in role `to` and connects from role `from`: a TCP
// handshake proves both directions of the link work.
func reach(t *testing.T, l *Lab, from, to string, addr netip.Addr) {
	t.Helper()
	var ln net.Listener
	if err := l.Do(to, func() (err error) {
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		return err
	}); err != nil {
		t.Fatalf("listening on %s in %s: %v", addr, to, err)
	}
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	err := l.Do(from, func() error {
		d := net.Dialer{Timeout: 3 * time.Second}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		t.Fatalf("connecting from %s to %s in %s: %v", from, ln.Addr(), to, err)
	}
	if err := <-accepted; err != nil {
		t.Fatalf("accepting in %s: %v", to, err)
	}
}

func TestNewDefault(t *testing.T) {
	skipUnlessRoot(t)
	l := newLab(t, loadFixture(t, "default"))
	if want := "kbh-" + itoa(os.Getpid()) + "-"; !strings.HasPrefix(l.ID, want) || len(l.ID) != len(want)+6 {
		t.Errorf("ID = %q, want %s<rand6>", l.ID, want)
	}
	for _, role := range []string{HostRole, "gw"} {
		if ns := l.Namespaces[role]; ns != l.ID+"-"+role || !nsExists(ns) {
			t.Errorf("namespace of %s = %q, exists %v", role, ns, nsExists(ns))
		}
	}
	if l.Host == nil {
		t.Fatal("Host is nil")
	}
	for _, fam := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
		reach(t, l, "gw", HostRole, l.HostAddress(0, fam).Addr())
		reach(t, l, HostRole, "gw", l.Gateway(0, fam))
	}
	snap, err := l.Host.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	found := false
	for _, a := range snap.Addresses {
		found = found || (a.Interface == "lan0" && a.Prefix == netip.MustParsePrefix("192.0.2.20/24"))
	}
	if !found {
		t.Errorf("host snapshot lacks 192.0.2.20/24 on lan0: %+v", snap.Addresses)
	}
	out, err := l.Exec(context.Background(), HostRole, "cat", "/proc/sys/net/ipv6/conf/lan0/accept_dad", "/proc/sys/net/ipv4/ip_forward")
	if err != nil || strings.Fields(string(out))[0] != "0" || strings.Fields(string(out))[1] != "0" {
		t.Errorf("accept_dad, ip_forward in host = %q, %v; want 0 0", out, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, l)
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewMultihomed(t *testing.T) {
	skipUnlessRoot(t)
	l := newLab(t, loadFixture(t, "multihomed"))
	for i, peer := range []string{"gw1", "gw2"} {
		for _, fam := range []netcfg.Family{netcfg.IPv4, netcfg.IPv6} {
			reach(t, l, peer, HostRole, l.HostAddress(i, fam).Addr())
		}
	}
	// gw1 cannot reach lan1's subnet: the links are separate.
	if err := l.Do("gw1", func() error {
		_, err := net.DialTimeout("tcp", "198.51.100.20:1", time.Second)
		return err
	}); err == nil {
		t.Error("gw1 reached 198.51.100.20 without a route")
	}
}

func TestNewForwarding(t *testing.T) {
	skipUnlessRoot(t)
	f := loadFixture(t, "default")
	f.Forwarding = true
	rootBefore, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	l := newLab(t, f)
	for role, want := range map[string]string{HostRole: "1 1", "gw": "0 0"} {
		out, err := l.Exec(context.Background(), role, "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding")
		if got := strings.Join(strings.Fields(string(out)), " "); err != nil || got != want {
			t.Errorf("forwarding in %s = %q, %v; want %q", role, got, err, want)
		}
	}
	if rootAfter, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(rootAfter) != string(rootBefore) {
		t.Errorf("root ip_forward changed from %q to %q", rootBefore, rootAfter)
	}
}

func TestNewFailureLeavesNothing(t *testing.T) {
	skipUnlessRoot(t)
	f := loadFixture(t, "default")
	f.Links[0].Interface = "lo" // exists in every namespace: adding the veth fails half-way
	before := ownNamespaces(t)
	l, err := New(context.Background(), f)
	if err == nil {
		l.Close()
		t.Fatal("New with host interface lo succeeded")
	}
	if !strings.Contains(err.Error(), "adding veth lo") {
		t.Errorf("New error = %v, want it to name the veth", err)
	}
	if after := ownNamespaces(t); len(after) != len(before) {
		t.Errorf("namespaces before %v, after the failed New %v", before, after)
	}
}

func ownNamespaces(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(NetnsDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "kbh-"+itoa(os.Getpid())+"-") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestDoUnknownRole(t *testing.T) {
	l := &Lab{ID: "kbh-1-x", Namespaces: map[string]string{HostRole: "kbh-1-x-host"}}
	if err := l.Do("gw", func() error { return nil }); err == nil {
		t.Error("Do with an unknown role succeeded")
	}
	if _, err := l.Exec(context.Background(), "gw", "true"); err == nil {
		t.Error("Exec with an unknown role succeeded")
	}
}

func TestNewConcurrent(t *testing.T) {
	skipUnlessRoot(t)
	const n = 4
	errs := make(chan error, n)
	labs := make(chan *Lab, n)
	f := loadFixture(t, "multihomed")
	for range n {
		go func() {
			l, err := New(context.Background(), f)
			if err == nil {
				labs <- l
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(labs)
	for l := range labs {
		reach(t, l, "gw2", HostRole, l.HostAddress(1, netcfg.IPv6).Addr())
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		assertGone(t, l)
	}
}

func BenchmarkNewClose(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("requires root: creates network namespaces")
	}
	for _, name := range []string{"default", "multihomed"} {
		f, err := fixtures.LoadLab(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				l, err := New(context.Background(), f)
				if err != nil {
					b.Fatal(err)
				}
				if err := l.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
