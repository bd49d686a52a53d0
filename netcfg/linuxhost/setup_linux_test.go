//go:build linux

package linuxhost_test

import (
	"fmt"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

// testNS is a namespace pair joined by a veth: kbh-<pid>-nlt (the host under
// test, interface "veth0", 192.0.2.10/24 and 2001:db8::10/64) and
// kbh-<pid>-nlp (the peer, "veth1", 192.0.2.1/24 and 2001:db8::1/64).
type testNS struct {
	Name, Peer string
	Host       netcfg.Host
}

func skipUnlessRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("requires root: creates network namespaces")
	}
}

// ip runs `ip ARGS...` and fails tb with argv and output on error.
func ip(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("running ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newTestNS builds the namespace pair, opens the host and registers the
// teardown. suffix tells concurrent users apart ("nlt" is the default).
func newTestNS(tb testing.TB, suffix string) *testNS {
	tb.Helper()
	skipUnlessRoot(tb)
	t := &testNS{
		Name: fmt.Sprintf("kbh-%d-%s", os.Getpid(), suffix),
		Peer: fmt.Sprintf("kbh-%d-%sp", os.Getpid(), suffix),
	}
	ip(tb, "netns", "add", t.Name)
	tb.Cleanup(func() { exec.Command("ip", "netns", "del", t.Name).Run() })
	ip(tb, "netns", "add", t.Peer)
	tb.Cleanup(func() { exec.Command("ip", "netns", "del", t.Peer).Run() })
	ip(tb, "link", "add", "name", "veth0", "netns", t.Name, "type", "veth", "peer", "name", "veth1", "netns", t.Peer)
	for _, c := range [][]string{
		{"-n", t.Name, "link", "set", "lo", "up"},
		{"-n", t.Name, "link", "set", "veth0", "up"},
		{"-n", t.Peer, "link", "set", "veth1", "up"},
		{"-n", t.Name, "addr", "add", "192.0.2.10/24", "dev", "veth0"},
		{"-n", t.Name, "addr", "add", "2001:db8::10/64", "dev", "veth0", "nodad"},
		{"-n", t.Peer, "addr", "add", "192.0.2.1/24", "dev", "veth1"},
		{"-n", t.Peer, "addr", "add", "2001:db8::1/64", "dev", "veth1", "nodad"},
	} {
		ip(tb, c...)
	}
	h, err := linuxhost.OpenNamespace(t.Name)
	if err != nil {
		tb.Fatalf("opening %s: %v", t.Name, err)
	}
	tb.Cleanup(func() { h.Close() })
	t.Host = h
	return t
}
