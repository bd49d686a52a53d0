package replay

import (
	"archive/zip"
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg"
)

func loadLab(t *testing.T, name string) *fixtures.Lab {
	t.Helper()
	f, err := fixtures.LoadLab(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPlanSecondaryIP(t *testing.T) {
	steps := func(ss []Step) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.String())
		}
		return out
	}
	// No persistent route: the article's persistent default route first.
	got, survive, err := PlanSecondaryIP(loadLab(t, "default"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{
		"add-route 0.0.0.0/0 via 192.0.2.1 dev lan0 (persistent)",
		"add-address 192.0.2.21/24 dev lan0",
		"delete-address 192.0.2.21/24 dev lan0",
	}, steps(got)); d != "" {
		t.Errorf("default lab (-want +got):\n%s", d)
	}
	if len(survive) != 1 || !survive[0].Persistent {
		t.Errorf("survive = %v", survive)
	}
	// The fixture's persistent routes, one secondary address per
	// interface and family; non-persistent routes are not checked.
	f := loadLab(t, "multihomed")
	f.Routes = []fixtures.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("198.51.100.1"), Persistent: true, Metric: 5},
		{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("198.51.100.1"), Persistent: true},
		{Dst: netip.MustParsePrefix("2001:db8:f000::/48"), Gateway: netip.MustParseAddr("2001:db8:1::1"), Persistent: true},
		{Dst: netip.MustParsePrefix("192.0.2.128/25"), Interface: "lan0"},
	}
	got, survive, err = PlanSecondaryIP(f)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{
		"add-address 198.51.100.21/24 dev lan1",
		"delete-address 198.51.100.21/24 dev lan1",
		"add-address 2001:db8:1::21/64 dev lan0",
		"delete-address 2001:db8:1::21/64 dev lan0",
	}, steps(got)); d != "" {
		t.Errorf("multihomed with routes (-want +got):\n%s", d)
	}
	if len(survive) != 3 || survive[0].Interface != "lan1" || survive[0].Metric != 5 {
		t.Errorf("survive = %+v", survive)
	}
	// A non-persistent default route leaves no room for the article's.
	f = loadLab(t, "default")
	f.Routes = []fixtures.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")}}
	if _, _, err := PlanSecondaryIP(f); err == nil || !strings.Contains(err.Error(), "routes[0] is a non-persistent default route") {
		t.Errorf("non-persistent default: %v", err)
	}
}

func TestKB287032Sequence(t *testing.T) {
	u, err := explore.DefaultUniverse(loadLab(t, "multihomed"), []netcfg.Mechanism{netcfg.Netlink})
	if err != nil {
		t.Fatal(err)
	}
	render := func(ops []explore.Op) []string {
		var out []string
		for _, o := range ops {
			out = append(out, o.String())
		}
		return out
	}
	lifo := render(KB287032Sequence(u, "LIFO"))
	want := []string{
		"add-address addr 192.0.2.100/24 dev lan0 (netlink)",
		"add-address addr 198.51.100.100/24 dev lan1 (netlink)",
		"add-address addr 192.0.2.101/24 dev lan0 (netlink)",
		"add-address addr 198.51.100.101/24 dev lan1 (netlink)",
		"add-route route 203.0.113.0/28 via 192.0.2.1 dev lan0 (netlink)",
		"add-route route 203.0.113.16/28 via 198.51.100.1 dev lan1 (netlink)",
		"delete-address addr 198.51.100.101/24 dev lan1 (netlink)",
		"delete-address addr 192.0.2.101/24 dev lan0 (netlink)",
		"delete-address addr 198.51.100.100/24 dev lan1 (netlink)",
		"delete-address addr 192.0.2.100/24 dev lan0 (netlink)",
		"delete-route route 203.0.113.0/28 via 192.0.2.1 dev lan0 (netlink)",
		"delete-route route 203.0.113.16/28 via 198.51.100.1 dev lan1 (netlink)",
	}
	if d := cmp.Diff(want, lifo); d != "" {
		t.Errorf("LIFO (-want +got):\n%s", d)
	}
	// Every step is one a replay fixture accepts.
	rf := explore.ReplayFile{Lab: "multihomed", Steps: KB287032Sequence(u, "FIFO")}
	if err := rf.Validate(); err != nil {
		t.Errorf("FIFO sequence as a replay file: %v", err)
	}
}

func TestLookup(t *testing.T) {
	if s, err := Lookup("kb287032"); err != nil || s.ID != KB287032 {
		t.Errorf("Lookup(kb287032) = %v, %v", s, err)
	}
	if _, err := Lookup("KB2901197"); err == nil || !strings.Contains(err.Error(), "replay has no steps for it") {
		t.Errorf("Lookup(KB2901197): %v", err)
	}
}

func TestBundle(t *testing.T) {
	steps, survive, err := PlanSecondaryIP(loadLab(t, "default"))
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Scenario: SecondaryIP, Lab: "default", Reproduced: true, Steps: steps, Survive: survive,
		Evidence: []string{"missing after the steps: 0.0.0.0/0 via 192.0.2.1 dev lan0 proto static (persistent)"}}
	files, err := BundleFiles(r, Inputs{Fixture: []byte("name: default\n"), OS: explore.Server2012})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	text := map[string]string{}
	for _, f := range files {
		names = append(names, f.Name)
		text[f.Name] = string(f.Data)
	}
	if d := cmp.Diff([]string{FixtureFile, ReplayFile, IPFile, CmdFile, ReportFile}, names); d != "" {
		t.Errorf("files without a map (-want +got):\n%s", d)
	}
	for file, want := range map[string]string{
		ReplayFile: "    - op: add-route\n      interface: lan0\n      dst: 0.0.0.0/0\n      gateway: 192.0.2.1\n      persistent: true\n",
		IPFile:     "ip route add 0.0.0.0/0 via 192.0.2.1 dev lan0 proto static || exit 2\n",
		CmdFile:    "New-NetRoute -DestinationPrefix '0.0.0.0/0' -InterfaceAlias 'lan0' -NextHop '192.0.2.1' -Confirm:$false",
		ReportFile: "- verdict: **reproduced**",
	} {
		if !strings.Contains(text[file], want) {
			t.Errorf("%s lacks %q:\n%s", file, want, text[file])
		}
	}
	if !strings.Contains(text[IPFile], `if [ -z "$(ip -4 route show table main exact 0.0.0.0/0 via 192.0.2.1 dev lan0 proto static)" ]; then echo 'FAIL: missing: 0.0.0.0/0 via 192.0.2.1 dev lan0 proto static'; fail=1; fi`) {
		t.Errorf("repro.sh check:\n%s", text[IPFile])
	}
	var a, b bytes.Buffer
	if err := WriteZip(&a, files); err != nil {
		t.Fatal(err)
	}
	if err := WriteZip(&b, files); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same files give different zips")
	}
	z, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		if f.Name == IPFile && f.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v, want 0755", f.Name, f.Mode())
		}
	}
}
