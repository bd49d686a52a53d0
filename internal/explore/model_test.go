package explore

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/mirror"
	"github.com/kbharness/kbharness/netcfg"
)

func multihomed(t *testing.T) *fixtures.Lab {
	t.Helper()
	f, err := fixtures.LoadLab("multihomed")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewUniverse(t *testing.T) {
	u, err := NewUniverse(multihomed(t), 2, 1, []netcfg.Mechanism{netcfg.Netlink})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range u.Elements() {
		got = append(got, e.Key())
	}
	want := []string{
		"addr 192.0.2.100/24 dev lan0",
		"addr 192.0.2.101/24 dev lan0",
		"addr 2001:db8:1::100/64 dev lan0",
		"addr 198.51.100.100/24 dev lan1",
		"addr 198.51.100.101/24 dev lan1",
		"addr 2001:db8:2::100/64 dev lan1",
		"route 203.0.113.0/28 via 192.0.2.1 dev lan0",
		"route 2001:db8:f000::/48 via 2001:db8:1::1 dev lan0",
		"route 203.0.113.16/28 via 198.51.100.1 dev lan1",
		"route 2001:db8:f001::/48 via 2001:db8:2::1 dev lan1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("universe (-want +got):\n%s", d)
	}
	for _, e := range u.Elements() {
		if err := e.Op(true, netcfg.Netlink).Validate(); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
}

func TestConfigApply(t *testing.T) {
	a := Op{Kind: AddAddress, Mechanism: netcfg.Netlink, Interface: "lan0", Address: netip.MustParsePrefix("192.0.2.100/24")}
	b := Op{Kind: AddAddress, Mechanism: netcfg.Netlink, Interface: "lan1", Address: netip.MustParsePrefix("198.51.100.100/24")}
	c, err := ConfigAfter([]Op{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(a); err == nil {
		t.Error("adding a present address: want an error")
	}
	del := a
	del.Kind = DeleteAddress
	c2, err := c.Apply(del)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Has(a.Element()) || !c2.Has(b.Element()) || c.Len() != 2 {
		t.Errorf("after deleting %s: %s (and the original changed: %s)", a.Element(), c2, c)
	}
	if _, err := c2.Apply(del); err == nil {
		t.Error("deleting an absent address: want an error")
	}
	// The key ignores order: the oracle caches by it.
	rev, _ := ConfigAfter([]Op{b, a})
	if rev.Key() != c.Key() {
		t.Errorf("key depends on order: %q vs %q", rev.Key(), c.Key())
	}
}

// The generator only draws applicable steps, over the universe, with its
// mechanisms.
func TestSequencesApplicable(t *testing.T) {
	u, err := NewUniverse(multihomed(t), 2, 1, []netcfg.Mechanism{netcfg.Netlink, netcfg.IPRoute2})
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		ops := Sequences(u, 20).Draw(rt, "ops")
		if len(ops) < 1 || len(ops) > 20 {
			rt.Fatalf("%d steps", len(ops))
		}
		if _, err := ConfigAfter(ops); err != nil {
			rt.Fatal(err)
		}
	})
}

func TestPredict(t *testing.T) {
	base := mirror.Lines{"link lan0 up mtu 1500": {}, "x": {}}
	d1 := Delta{Adds: mirror.Lines{"a": {}, "shared": {}}, Removes: mirror.Lines{}}
	d2 := Delta{Adds: mirror.Lines{"b": {}, "shared": {}}, Removes: mirror.Lines{"x": {}}}
	got := Predict(base, []Delta{d1, d2}).Sorted()
	want := []string{"a", "b", "link lan0 up mtu 1500", "shared"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if len(base) != 2 {
		t.Errorf("Predict changed the base: %v", base)
	}
}

func TestReplayRoundTrip(t *testing.T) {
	ops := []Op{
		{Kind: AddAddress, Mechanism: netcfg.Netlink, Interface: "lan0", Address: netip.MustParsePrefix("192.0.2.100/24")},
		{Kind: AddRoute, Mechanism: netcfg.IPRoute2, Interface: "lan1", Dst: netip.MustParsePrefix("203.0.113.16/28"), Gateway: netip.MustParseAddr("198.51.100.1")},
		{Kind: DeleteAddress, Mechanism: netcfg.IPRoute2, Interface: "lan0", Address: netip.MustParsePrefix("192.0.2.100/24")},
	}
	data, err := EncodeReplay(Repro{Lab: "multihomed", Seed: 7, Ops: ops}, []string{"kb287032"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeReplay("r.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if d := cmp.Diff(ops, r.Steps, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Errorf("steps (-want +got):\n%s\n%s", d, data)
	}
	if strings.Contains(string(data), "gateway: \"\"") || strings.Contains(string(data), "dst: \"\"") {
		t.Errorf("empty fields written:\n%s", data)
	}
}

func TestReplayStrict(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown field", "lab: multihomed\nsteps:\n  - op: add-address\n    mechanism: netlink\n    interface: lan0\n    address: 192.0.2.100/24\n    colour: red\n", "r.yaml:7"},
		{"bad prefix", "lab: multihomed\nsteps:\n  - op: add-address\n    mechanism: netlink\n    interface: lan0\n    address: 192.0.2.300/24\n", "r.yaml:6"},
		{"not documentation", "lab: multihomed\nsteps:\n  - op: add-address\n    mechanism: netlink\n    interface: lan0\n    address: 10.0.0.1/24\n", "steps[0].address"},
		{"delete absent", "lab: multihomed\nsteps:\n  - op: delete-address\n    mechanism: netlink\n    interface: lan0\n    address: 192.0.2.100/24\n", "is not present"},
		{"missing lab", "steps:\n  - op: add-address\n    mechanism: netlink\n    interface: lan0\n    address: 192.0.2.100/24\n", "lab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeReplay("r.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
