package capture

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// TestImportedLabsBuild builds a namespace lab from every sample (and
// same-host group) that imports, and compares the lab host's snapshot with
// the import: every address is there, and the routes kbharness added (main
// table, proto static or boot) are exactly the fixture's routes, the
// persistent ones persistent. The kernel's own routes (on-link, local,
// multicast) are left out of the comparison.
func TestImportedLabsBuild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	groups := [][]string{
		{"rp-01-ubuntuforums-xp-schools-network.txt", "ipc-01-ubuntuforums-xp-schools-network.txt"},
		{"rp-19-jc-fixture-win11-openvpn-dco-route-print.txt", "ipc-02-jc-fixture-win11-multihomed-vmnet-wifi-dco.txt"},
		{"rp-10-blog-ec2-winserver2025-two-enis-persistent-default.txt", "rp-11-blog-ec2-winserver2025-persistent-fragment-after-route-add-p.txt"},
	}
	names, _ := filepath.Glob("testdata/*.txt")
	for _, n := range names {
		groups = append(groups, []string{filepath.Base(n)})
	}
	built := 0
	for _, g := range groups {
		h, err := Read(load(t, g...), Options{})
		if err != nil {
			continue // TestSamples checks the refusals
		}
		f, _, err := Build(h, "imported")
		if err != nil {
			continue
		}
		t.Run(fmt.Sprint(g), func(t *testing.T) {
			l, err := lab.New(context.Background(), f)
			if err != nil {
				t.Fatalf("building the imported lab: %v", err)
			}
			defer l.Close()
			s, err := l.Host.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range f.Links {
				for _, p := range k.Addresses {
					if !s.HasAddress(p) {
						t.Errorf("address %s missing on %s", p, k.Interface)
					}
				}
			}
			var want, got []string
			for _, r := range f.Routes {
				want = append(want, routeKey(r.Dst.String(), r.Gateway, r.Persistent))
			}
			for _, r := range s.Routes {
				if r.Store != netcfg.StoreActive || (r.Table != "" && r.Table != "main") || (r.Protocol != "static" && r.Protocol != "boot") {
					continue
				}
				got = append(got, routeKey(r.Dst.String(), r.Gateway, r.Protocol == "static"))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("lab routes differ from the import:\n  import: %q\n  lab:    %q", want, got)
			}
		})
		built++
	}
	t.Logf("%d imported labs built and compared", built)
	if built < 20 {
		t.Errorf("only %d imports built labs", built)
	}
}

func routeKey(dst string, gw interface {
	IsValid() bool
	String() string
}, persistent bool) string {
	g := "on-link"
	if gw.IsValid() {
		g = gw.String()
	}
	return fmt.Sprintf("%s via %s persistent=%v", dst, g, persistent)
}
