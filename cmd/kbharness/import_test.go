package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg/capture"
)

// samples are in the capture package's testdata (copies of
// ../shared/samples/windows).
func sample(name string) string {
	return filepath.Join("..", "..", "netcfg", "capture", "testdata", name)
}

func TestImport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "customer.yaml")
	code, stdout, stderr := runArgs(t, context.Background(), "import", "-o", out,
		sample("rp-19-jc-fixture-win11-openvpn-dco-route-print.txt"), sample("ipc-02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt"))
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"read ../../netcfg/capture/testdata/rp-19-jc-fixture-win11-openvpn-dco-route-print.txt: route print",
		"wrote " + out + ": 3 links, 2 routes", "customer.map.yaml:", "name: Wi-Fi"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "CONFLICT ") || !strings.Contains(stderr, "is missing from route print") {
		t.Errorf("stderr lacks the conflicts:\n%s", stderr)
	}
	lab, err := fixtures.LoadLab(out)
	if err != nil {
		t.Fatal(err)
	}
	if lab.Name != "customer" || len(lab.Links) != 3 || lab.Links[0].Interface != "lan0" || lab.Links[0].Peer != "gw1" {
		t.Errorf("lab %+v", lab)
	}
	data, err := os.ReadFile(filepath.Join(dir, "customer.map.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := capture.UnmarshalMapping(data)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := m.Reverse(lab.Links[0].Addresses[0].Addr()); !ok || a.String() != "192.168.1.169" {
		t.Errorf("Reverse(%s) = %s %v", lab.Links[0].Addresses[0], a, ok)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "f.yaml")
	mangled := sample("pwsh-05-catalan-notes-win10-new-netipaddress-persistentstore-MANGLED.txt")
	for _, tc := range []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"import", sample("rp-01-ubuntuforums-xp-schools-network.txt")}, exitUsage, "-o FIXTURE.yaml is required"},
		{[]string{"import", "-o", out}, exitUsage, "need at least one capture FILE"},
		{[]string{"import", "-o", out, filepath.Join(dir, "nosuch.txt")}, exitUsage, "bad input: reading capture: open"},
		{[]string{"import", "-o", out, mangled}, exitUsage, "bad input: " + mangled + `:25: Get-NetIPAddress (list): parsing Format-List: line 25: property name "Va lidLifetime" contains a space`},
		{[]string{"import", "-o", out, "--best-effort", mangled}, exitOK, "SKIPPED " + mangled + ":25: line skipped"},
		{[]string{"import", "-o", out, sample("netsh-05-wsl-vpn-notes-win10-show-interfaces.txt")}, exitUsage, "no interface with an address in the captures"},
		{[]string{"import", "-o", out, sample("ipc-04-htb-winlpe-srv01-dualhomed-enum-script.txt")}, exitUsage, "10.129.43.43 lies beyond the first 256 addresses of 10.129.0.0/16"},
		{[]string{"import", "--help"}, exitOK, "Usage: kbharness import -o FIXTURE.yaml"},
	} {
		code, stdout, stderr := runArgs(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.inStderr) {
			t.Errorf("kbharness %q: exit %d\n%s%s\nwant exit %d and stderr containing %q", tc.args, code, stdout, stderr, tc.code, tc.inStderr)
		}
	}
}

// TestImportStdin: "-" reads the capture from standard input.
func TestImportStdin(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Open(sample("rp-14-jc-fixture-winxp-route-print-persistent.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	out := filepath.Join(dir, "xp.yaml")
	code, stdout, stderr := runArgs(t, context.Background(), "import", "-o", out, "--map", filepath.Join(dir, "m.yaml"), "-")
	if code != exitOK || !strings.Contains(stdout, "read stdin: route print") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	lab, err := fixtures.LoadLab(out)
	if err != nil {
		t.Fatal(err)
	}
	persistent := 0
	for _, r := range lab.Routes {
		if r.Persistent {
			persistent++
		}
	}
	if persistent != 1 {
		t.Errorf("routes %+v: want one persistent", lab.Routes)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.yaml")); err != nil {
		t.Error(err)
	}
}
