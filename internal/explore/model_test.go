package explore

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/kbharness/kbharness/fixtures"
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
	base := netcfg.Lines{"link lan0 up mtu 1500": {}, "x": {}}
	d1 := Delta{Adds: netcfg.Lines{"a": {}, "shared": {}}, Removes: netcfg.Lines{}}
	d2 := Delta{Adds: netcfg.Lines{"b": {}, "shared": {}}, Removes: netcfg.Lines{"x": {}}}
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

// replayHead is a valid replay of three steps; cases append a fourth
// (steps[3]) starting on line 15.
const replayHead = `lab: multihomed
seed: 1
steps:
  - op: add-address
    mechanism: netlink
    interface: lan0
    address: 192.0.2.100/24
  - op: add-route
    mechanism: iproute2
    interface: lan1
    dst: 203.0.113.16/28
    gateway: 198.51.100.1
  - op: delete-address
    mechanism: netlink
    interface: lan0
    address: 192.0.2.100/24
`

func step(lines ...string) string {
	return "  - " + strings.Join(lines, "\n    ") + "\n"
}

// A replay step is validated in full: every field, the prefix length
// included, against what the explorer generates on the lab. A truncated
// file (192.0.2.100/2 for 192.0.2.100/24) is refused, naming the field.
func TestReplayStepsValidatedInFull(t *testing.T) {
	if _, err := DecodeReplay("r.yaml", []byte(replayHead)); err != nil {
		t.Fatalf("the valid head: %v", err)
	}
	addr := func(a string) string {
		return step("op: add-address", "mechanism: netlink", "interface: lan0", "address: "+a)
	}
	route := func(iface, dst, gw string) string {
		l := []string{"op: add-route", "mechanism: netlink", "interface: " + iface, "dst: " + dst}
		if gw != "" {
			l = append(l, "gateway: "+gw)
		}
		return step(l...)
	}
	for _, tc := range []struct{ name, step, want string }{
		{"truncated IPv4 prefix length", addr("192.0.2.100/2"),
			"r.yaml:20: field steps[3].address: 192.0.2.100/2: prefix length /2 is not an on-link length the explorer uses (/24 to /30)"},
		{"truncated IPv6 prefix length", addr("2001:db8:1::100/6"),
			"r.yaml:20: field steps[3].address: 2001:db8:1::100/6: prefix length /6 is not an on-link length the explorer uses (/48 to /64)"},
		{"host route", addr("192.0.2.100/32"),
			"r.yaml:20: field steps[3].address: 192.0.2.100/32: prefix length /32 is not an on-link length the explorer uses (/24 to /30)"},
		{"network address", addr("192.0.2.0/24"),
			"r.yaml:20: field steps[3].address: 192.0.2.0/24 is the network address of its subnet, not a host"},
		{"broadcast address", addr("192.0.2.255/24"),
			"r.yaml:20: field steps[3].address: 192.0.2.255/24 is the broadcast address of its subnet, not a host"},
		{"outside the documentation ranges", addr("10.0.0.100/24"),
			"r.yaml:20: field steps[3].address: 10.0.0.100/24 is outside the documentation ranges [192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32]"},
		{"an address the explorer does not add", addr("192.0.2.150/24"),
			"r.yaml:20: field steps[3].address: 192.0.2.150/24 is not an address the explorer adds to lan0 in lab multihomed (it adds 192.0.2.100/24, 192.0.2.101/24, 2001:db8:1::100/64)"},
		{"another link's address", addr("198.51.100.100/24"),
			"r.yaml:20: field steps[3].address: 198.51.100.100/24 is not an address the explorer adds to lan0 in lab multihomed (it adds 192.0.2.100/24, 192.0.2.101/24, 2001:db8:1::100/64)"},
		{"a shorter on-link length than the lab's", addr("192.0.2.100/25"),
			"r.yaml:20: field steps[3].address: 192.0.2.100/25 is not an address the explorer adds to lan0 in lab multihomed (it adds 192.0.2.100/24, 192.0.2.101/24, 2001:db8:1::100/64)"},
		{"truncated destination", route("lan0", "203.0.113.0/2", "192.0.2.1"),
			"r.yaml:20: field steps[3].dst: 203.0.113.0/2 is outside the documentation ranges [192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32]"},
		{"destination not a network", route("lan0", "203.0.113.5/28", "192.0.2.1"),
			"r.yaml:20: field steps[3].dst: 203.0.113.5/28 is not a network address (the network is 203.0.113.0/28)"},
		{"a destination the explorer does not route", route("lan0", "203.0.113.32/28", "192.0.2.1"),
			"r.yaml:20: field steps[3].dst: 203.0.113.32/28 is not a destination the explorer routes via lan0 in lab multihomed (it routes 203.0.113.0/28, 2001:db8:f000::/48)"},
		{"missing gateway", route("lan0", "203.0.113.0/28", ""),
			"r.yaml:17: field steps[3].gateway: missing (the explorer's routes go via their link's gateway)"},
		{"truncated gateway", route("lan1", "2001:db8:f001::/48", `"2001:db8:2::"`),
			"r.yaml:21: field steps[3].gateway: 2001:db8:2::: the explorer's route to 2001:db8:f001::/48 on lan1 goes via 2001:db8:2::1"},
		{"gateway of the other family", route("lan0", "203.0.113.0/28", "2001:db8:1::1"),
			"r.yaml:21: field steps[3].gateway: 2001:db8:1::1: family differs from dst 203.0.113.0/28"},
		{"unknown interface", step("op: add-address", "mechanism: netlink", "interface: lan7", "address: 192.0.2.100/24"),
			`r.yaml:19: field steps[3].interface: "lan7" is not an interface of lab multihomed (have lan0, lan1)`},
		{"unknown mechanism", step("op: add-address", "mechanism: carrier-pigeon", "interface: lan0", "address: 192.0.2.100/24"),
			`r.yaml:18: field steps[3].mechanism: unknown mechanism "carrier-pigeon" (want one of netlink, iproute2, winipcfg, iphlpapi-legacy, route.exe, netsh, powershell)`},
		{"unknown operation", step("op: add-link", "mechanism: netlink", "interface: lan0", "address: 192.0.2.100/24"),
			`r.yaml:17: field steps[3].op: unknown operation "add-link" (want one of add-address, delete-address, add-route, delete-route)`},
		{"a route field on an address step", step("op: add-address", "mechanism: netlink", "interface: lan0", "address: 192.0.2.100/24", "gateway: 192.0.2.1"),
			"r.yaml:21: field steps[3].gateway: not a field of add-address"},
		{"missing address", step("op: add-address", "mechanism: netlink", "interface: lan0"),
			"r.yaml:17: field steps[3].address: missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := replayHead + tc.step
			_, err := DecodeReplay("r.yaml", []byte(data))
			if err == nil || err.Error() != tc.want {
				t.Errorf("DecodeReplay of\n%s= %v\nwant %s", data, err, tc.want)
			}
		})
	}
}

func TestReplayBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("lab: multihomed\nsteps:\n")
	for i := range MaxSeqLen + 1 {
		k := "add-address"
		if i%2 == 1 {
			k = "delete-address"
		}
		b.WriteString(step("op: "+k, "mechanism: netlink", "interface: lan0", "address: 192.0.2.100/24"))
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"too many steps", b.String(), "r.yaml:2: field steps: 101 entries: want 1 to 100"},
		{"no steps", "lab: multihomed\nsteps: []\n", "r.yaml:2: field steps: 0 entries: want 1 to 100"},
		{"unknown lab", strings.Replace(replayHead, "multihomed", "nosuch", 1),
			`r.yaml:1: field lab: loading lab "nosuch": no such embedded lab (have default, multihomed)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeReplay("r.yaml", []byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("DecodeReplay = %v, want %s", err, tc.want)
			}
		})
	}
}

// Whatever the explorer generates on an embedded lab, with any mechanism,
// its replay fixture accepts: the checks refuse nothing it can generate.
func TestReplayAcceptsEveryGeneratedSequence(t *testing.T) {
	for _, name := range fixtures.LabNames() {
		f, err := fixtures.LoadLab(name)
		if err != nil {
			t.Fatal(err)
		}
		u, err := DefaultUniverse(f, StepMechanisms)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				ops := Sequences(u, MaxSeqLen).Draw(rt, "ops")
				data, err := EncodeReplay(Repro{Lab: name, Seed: 1, Ops: ops}, nil)
				if err != nil {
					rt.Fatal(err)
				}
				if _, err := DecodeReplay("r.yaml", data); err != nil {
					rt.Fatalf("%v\n%s", err, data)
				}
			})
		})
	}
}

// NewUniverse refuses a lab whose on-link lengths the replay would refuse.
func TestNewUniverseOnLinkLengths(t *testing.T) {
	f := multihomed(t)
	f.Links[0].Addresses[1] = netip.MustParsePrefix("2001:db8:1::20/120")
	_, err := NewUniverse(f, 2, 1, []netcfg.Mechanism{netcfg.Netlink})
	if want := "link lan0's 2001:db8:1::20/120 has an on-link length outside /48 to /64"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("NewUniverse = %v, want an error containing %q", err, want)
	}
}
