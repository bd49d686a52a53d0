package winhost

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

// The command mechanisms on the running Windows host (or Wine): each either
// works or reports the probe's reason from every mutation, and skips with it.
func TestLocalCommandMechanisms(t *testing.T) {
	h, err := OpenLocal(netcfg.Exec)
	if err != nil {
		t.Fatalf("OpenLocal: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	caps := h.Capabilities()
	t.Logf("capabilities: %+v", caps)
	iface := os.Getenv("KBH_INTERFACE")
	route := netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: iface, Metric: 5, Persistent: true}
	for _, m := range []netcfg.Mechanism{netcfg.RouteExe, netcfg.Netsh, netcfg.PowerShell} {
		t.Run(string(m), func(t *testing.T) {
			err := h.AddRoute(context.Background(), m, route)
			if !caps.Has(m) {
				if !errors.Is(err, netcfg.ErrUnsupported) {
					t.Fatalf("AddRoute by unsupported %s: got %v, want ErrUnsupported", m, err)
				}
				t.Skipf("unsupported here: %v", err)
			}
			t.Fatalf("%s works here: the lab-VM mutation specs cover it; this test expects Wine", m)
		})
	}
}

// The persistent store read two ways, registry and `route print`, agrees.
func TestLocalPersistentStoreCrossCheck(t *testing.T) {
	h, err := OpenLocal(netcfg.Exec)
	if err != nil {
		t.Fatalf("OpenLocal: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	if err := (RouteExe{Run: netcfg.Exec}).Probe(context.Background()); err != nil {
		t.Skipf("route print unavailable: %v", err)
	}
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m, err := CheckPersistentStore(context.Background(), netcfg.Exec, s)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Empty() {
		t.Errorf("registry and route print disagree:\n only registry: %s\n only route print: %s", strings.Join(m.OnlyRegistry, " "), strings.Join(m.OnlyOther, " "))
	}
}
