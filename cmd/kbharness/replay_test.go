package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/replay"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework/inject"
	_ "github.com/kbharness/kbharness/suites/kb287032" // registers its scenario
	"github.com/kbharness/kbharness/suites/registry"
	_ "github.com/kbharness/kbharness/suites/secondaryip" // registers its scenario
)

// importedFixture is shaped like a `kbharness import` fixture: one link to
// the customer's gateway, a persistent default route through it, a
// non-persistent route with a metric and a persistent IPv6 route.
const importedFixture = `name: customer-web01
links:
  - interface: lan0
    peer: gw
    peerInterface: eth0
    addresses: [192.0.2.20/24, 2001:db8::20/64]
    peerAddresses: [192.0.2.1/24, 2001:db8::1/64]
routes:
  - dst: 0.0.0.0/0
    gateway: 192.0.2.1
    persistent: true
  - dst: 198.51.100.0/24
    gateway: 192.0.2.1
    metric: 20
  - dst: 2001:db8:f000::/48
    gateway: 2001:db8::1
    persistent: true
`

const importedMap = "# customer address -> lab address\n10.1.2.20: 192.0.2.20\n10.1.2.1: 192.0.2.1\n"

func skipUnlessLabs(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("requires root on Linux: creates network namespaces")
	}
}

// The replay table's injectors are the ones the scenarios register.
func TestReplayScenariosMatchTheRegistry(t *testing.T) {
	reg := map[string]registry.Scenario{}
	for _, s := range registry.All() {
		reg[s.ID] = s
	}
	for _, s := range replay.Scenarios {
		if s.ID == replay.Explorer {
			continue
		}
		r, ok := reg[s.ID]
		if !ok {
			t.Errorf("replay supports %s, which no suite registers", s.ID)
			continue
		}
		if !slices.Contains(r.Injectors, s.Injector) {
			t.Errorf("replay's injector for %s is %q; the scenario registers %v", s.ID, s.Injector, r.Injectors)
		}
	}
}

func TestReplayUsage(t *testing.T) {
	fixture := writeFile(t, "imported.yaml", importedFixture)
	for _, tc := range []struct {
		args     []string
		code     int
		inOutput string
	}{
		{[]string{"replay", "--help"}, exitOK, "secondary-ip-route-loss"},
		{[]string{"replay", "--scenario", "KB287032"}, exitUsage, "--fixture is required"},
		{[]string{"replay", "--fixture", fixture}, exitUsage, "--scenario is required"},
		{[]string{"replay", "--fixture", fixture, "--scenario", "KB943650"}, exitUsage, `scenario "KB943650": replay has no steps for it (it replays secondary-ip-route-loss, KB287032, explorer)`},
		{[]string{"replay", "--fixture", fixture, "--scenario", "nosuch"}, exitUsage, `unknown scenario "nosuch"`},
		{[]string{"replay", "--fixture", fixture, "--scenario", "explorer", "--bundle", "x.zip"}, exitUsage, "--bundle needs --os"},
		{[]string{"replay", "--fixture", fixture, "--scenario", "explorer", "--bundle", "x.zip", "--os", "2003"}, exitUsage, `unknown Windows Server release "2003"`},
		{[]string{"replay", "--fixture", fixture, "--scenario", "explorer", "--os", "2008"}, exitUsage, "--os and --map only apply with --bundle"},
		{[]string{"replay", "--fixture", fixture, "--scenario", "explorer", "--inject", "nosuch"}, exitUsage, `unknown injector "nosuch"`},
		{[]string{"replay", "--fixture", writeFile(t, "bad.yaml", "name: x\nlinks: []\nroutes: [{dst: 10.0.0.0/8}]\n"), "--scenario", "explorer"}, exitUsage, "bad input"},
	} {
		code, out, errs := runArgs(t, context.Background(), tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.inOutput) {
			t.Errorf("%q: exit %d, want %d with %q in:\n%s%s", tc.args, code, tc.code, tc.inOutput, out, errs)
		}
	}
}

// TestLabUpFixtureFile: `lab up --fixture FILE` builds an imported
// fixture with its routes.
func TestLabUpFixtureFile(t *testing.T) {
	skipUnlessLabs(t)
	ctx := context.Background()
	code, out, errs := runArgs(t, ctx, "lab", "up", "--fixture", writeFile(t, "imported.yaml", importedFixture))
	m := regexp.MustCompile(`(?m)^lab (kbh-\d+-[a-z0-9]{6}) \(fixture customer-web01\)$`).FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("lab up: exit %d\n%s%s", code, out, errs)
	}
	id := m[1]
	t.Cleanup(func() { run(ctx, []string{"lab", "down", "--force", id}, &bytes.Buffer{}, &bytes.Buffer{}) })
	if !strings.Contains(out, "0.0.0.0/0 via 192.0.2.1 dev lan0 proto static") {
		t.Errorf("lab up does not list the fixture's routes:\n%s", out)
	}
	got, err := runCommandOut(ctx, "ip", "-n", id+"-host", "route", "show", "table", "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"default via 192.0.2.1 dev lan0 proto static", "198.51.100.0/24 via 192.0.2.1 dev lan0 metric 20"} {
		if !strings.Contains(got, want) {
			t.Errorf("the lab's table lacks %q:\n%s", want, got)
		}
	}
}

func runCommandOut(ctx context.Context, argv ...string) (string, error) {
	out, err := netcfg.Exec.Run(ctx, argv)
	return string(out.Combined()), err
}

// TestReplaySecondaryIPBundle is the done-when proof: with the
// secondary-ip-route-loss injector, replay reproduces the loss (exit 1) and
// writes the bundle; the bundle's repro.sh, run in a fresh lab of the same
// fixture whose kernel has the defect (the injector), reproduces it too,
// and in a fresh lab without it does not. Without the injector, replay
// says "not reproduced" (exit 0).
func TestReplaySecondaryIPBundle(t *testing.T) {
	skipUnlessLabs(t)
	ctx := context.Background()
	dir := t.TempDir()
	fixture := writeFile(t, "imported.yaml", importedFixture)
	mapFile := writeFile(t, "map.yaml", importedMap)
	bundle := filepath.Join(dir, "repro.zip")

	code, out, errs := runArgs(t, ctx, "replay", "--fixture", fixture, "--scenario", "secondary-ip-route-loss",
		"--inject", inject.SecondaryIPRouteLoss, "--bundle", bundle, "--os", "2008r2", "--map", mapFile, "--quiet")
	if code != exitFailure || !strings.Contains(out, "secondary-ip-route-loss on lab customer-web01 (injectors: secondary-ip-route-loss): reproduced") {
		t.Fatalf("replay with the injector: exit %d, want %d and reproduced:\n%s%s", code, exitFailure, out, errs)
	}
	for _, want := range []string{
		"missing after the steps: 0.0.0.0/0 via 192.0.2.1 dev lan0 proto static (persistent)",
		"missing after the steps: 2001:db8:f000::/48 via 2001:db8::1 dev lan0 proto static (persistent)",
		"--- event timeline:",
		"route-removed default via 192.0.2.1 dev lan0 proto static",
		"bundle: " + bundle,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("replay output lacks %q:\n%s", want, out)
		}
	}

	files := unzip(t, bundle)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"fixture.yaml", "map.yaml", "replay.yaml", "report.md", "repro.cmd", "repro.sh"}; !slices.Equal(names, want) {
		t.Errorf("bundle files %v, want %v", names, want)
	}
	if files["fixture.yaml"] != importedFixture || files["map.yaml"] != importedMap {
		t.Error("the bundle's fixture or map is not a copy of the input")
	}
	for file, want := range map[string]string{
		"replay.yaml": "persistent: true",
		"report.md":   "secondary-ip-route-loss — reproduced",
		"repro.cmd":   `netsh interface ipv4 delete address lan0 192.0.2.21 || exit /b 2`,
		"repro.sh":    "ip addr del 192.0.2.21/24 dev lan0 || exit 2",
	} {
		if !strings.Contains(files[file], want) {
			t.Errorf("%s lacks %q:\n%s", file, want, files[file])
		}
	}
	script := filepath.Join(dir, "repro.sh")
	if err := os.WriteFile(script, []byte(files["repro.sh"]), 0o755); err != nil {
		t.Fatal(err)
	}

	f, err := fixtures.LoadLab(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		injector bool
		fail     bool
	}{
		{"fresh lab with the defect", true, true},
		{"fresh lab without it", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := lab.New(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if tc.injector {
				stop, err := inject.Start(ctx, inject.SecondaryIPRouteLoss, l)
				if err != nil {
					t.Fatal(err)
				}
				defer stop()
			}
			ns := l.Namespaces[lab.HostRole]
			got, err := runCommandOut(ctx, "ip", "netns", "exec", ns, "sh", script)
			if failed := err != nil; failed != tc.fail || (tc.fail && !strings.Contains(got, "FAIL: missing: 0.0.0.0/0 via 192.0.2.1 dev lan0 proto static")) || (!tc.fail && !strings.Contains(got, "OK: not reproduced")) {
				t.Errorf("repro.sh: err %v, want failure %v:\n%s", err, tc.fail, got)
			}
			table, err := runCommandOut(ctx, "ip", "-n", ns, "route", "show", "default")
			if err != nil {
				t.Fatal(err)
			}
			if has := strings.Contains(table, "default via 192.0.2.1 dev lan0 proto static"); has == tc.fail {
				t.Errorf("after repro.sh the persistent default route is there: %v, want %v:\n%s", has, !tc.fail, table)
			}
		})
	}

	code, out, errs = runArgs(t, ctx, "replay", "--fixture", fixture, "--scenario", "secondary-ip-route-loss", "--quiet")
	if code != exitOK || !strings.Contains(out, ": not reproduced") {
		t.Errorf("replay without the injector: exit %d, want 0 and not reproduced:\n%s%s", code, out, errs)
	}
}

// TestReplayKB287032: LIFO removal reproduces with the KB287032 injector,
// with the diff against a fresh lab; the bundle's replay.yaml is explore's.
func TestReplayKB287032(t *testing.T) {
	skipUnlessLabs(t)
	ctx := context.Background()
	bundle := filepath.Join(t.TempDir(), "kb.zip")
	code, out, errs := runArgs(t, ctx, "replay", "--fixture", "multihomed", "--scenario", "kb287032", "--inject", inject.KB287032, "--bundle", bundle, "--os", "2016", "--quiet")
	if code != exitFailure || !strings.Contains(out, "KB287032 on lab multihomed (injectors: kb287032): reproduced") ||
		!strings.Contains(out, "FIFO removal") || !strings.Contains(out, "LIFO removal:") || !strings.Contains(out, "history independence") {
		t.Fatalf("replay: exit %d\n%s%s", code, out, errs)
	}
	files := unzip(t, bundle)
	if !strings.Contains(files["replay.yaml"], "lab: fixture.yaml") || !strings.Contains(files["repro.cmd"], "New-NetIPAddress") {
		t.Errorf("bundle:\n%s\n%s", files["replay.yaml"], files["repro.cmd"])
	}
}

func unzip(t *testing.T, path string) map[string]string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	files := map[string]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(data)
	}
	return files
}
