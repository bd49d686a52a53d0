package winhost

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

// A host in the real netsh formats (layouts of the samples in
// netcfg/netsh/testdata), with documentation addresses.
var netshOutputs = map[string]string{
	"netsh interface ipv4 show interfaces": `
Idx     Met         MTU          State                Name
---  ----------  ----------  ------------  ---------------------------
  1          75  4294967295  connected     Loopback Pseudo-Interface 1
 11          25        1500  connected     Ethernet 2
`,
	"netsh interface ipv6 show interfaces": `
Idx     Met         MTU          State                Name
---  ----------  ----------  ------------  ---------------------------
  1          75  4294967295  connected     Loopback Pseudo-Interface 1
 11          25        1500  connected     Ethernet 2
`,
	"netsh interface ipv4 show route store=active": `
Publish  Type      Met  Prefix                    Idx  Gateway/Interface Name
-------  --------  ---  ------------------------  ---  ------------------------
No       Manual    0    0.0.0.0/0                  11  192.0.2.1
No       System    256  192.0.2.0/24               11  Ethernet 2
No       System    256  192.0.2.20/32              11  Ethernet 2
`,
	"netsh interface ipv4 show route store=persistent": `
Publish  Type      Met  Prefix                    Idx  Gateway/Interface Name
-------  --------  ---  ------------------------  ---  ------------------------
No       Manual    0    0.0.0.0/0                  11  192.0.2.1
`,
	"netsh interface ipv6 show route store=active": `
Publish  Type      Met  Prefix                    Idx  Gateway/Interface Name
-------  --------  ---  ------------------------  ---  ------------------------
No       System    256  2001:db8::/64              11  Ethernet 2
`,
	"netsh interface ipv6 show route store=persistent": `
Publish  Type      Met  Prefix                    Idx  Gateway/Interface Name
-------  --------  ---  ------------------------  ---  ------------------------
`,
	"netsh interface ipv4 show addresses": `
Configuration for interface "Ethernet 2"
    DHCP enabled:                         No
    IP Address:                           192.0.2.20
    Subnet Prefix:                        192.0.2.0/24 (mask 255.255.255.0)
    InterfaceMetric:                      25
`,
	"netsh interface ipv6 show addresses": `
Interface 11: Ethernet 2

Addr Type  DAD State   Valid Life Pref. Life Address
---------  ----------- ---------- ---------- ------------------------
Manual     Preferred     infinite   infinite 2001:db8::20
`,
}

func TestCommandHostSnapshot(t *testing.T) {
	f := &fakeRunner{t: t, answers: map[string]answer{}}
	for k, v := range netshOutputs {
		f.answers[k] = answer{out: v}
	}
	f.answers["route print -4"] = answer{err: errors.New("exit status 1")}
	f.answers["powershell.exe"] = answer{err: errors.New("exit status 1")}
	h, err := OpenCommands(context.Background(), "guest", f, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := h.Capabilities()
	if c.Dialect != netcfg.DialectWindows || !slices.Equal(c.Mechanisms, []netcfg.Mechanism{netcfg.Netsh}) || c.Events {
		t.Errorf("capabilities %+v: want the windows dialect, netsh only (route.exe and powershell failed their probes), polled events", c)
	}
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"default via 192.0.2.1 dev Ethernet 2 proto manual metric 0",
		"default via 192.0.2.1 dev Ethernet 2 proto manual metric 0 store persistent",
		"addr 192.0.2.20/24 dev Ethernet 2",
		"addr 2001:db8::20/64 dev Ethernet 2",
		"link Ethernet 2 up mtu 1500",
	} {
		if !slices.Contains(s.Lines(), want) {
			t.Errorf("snapshot lacks %q:\n%s", want, s)
		}
	}
	if i, err := h.(*commandHost).index("Ethernet 2"); err != nil || i != 11 {
		t.Errorf("index of Ethernet 2 = %d, %v; want 11", i, err)
	}
}

func TestOnLinkInterface(t *testing.T) {
	addrs := []netcfg.Address{
		{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: "Ethernet 2"},
		{Prefix: netip.MustParsePrefix("192.0.2.130/25"), Interface: "Ethernet 3"},
		{Prefix: netip.MustParsePrefix("198.51.100.20/24"), Interface: "Ethernet 4"},
	}
	for gw, want := range map[string]string{"192.0.2.1": "Ethernet 2", "192.0.2.129": "Ethernet 3", "198.51.100.1": "Ethernet 4", "203.0.113.1": ""} {
		if got := onLinkInterface(addrs, netip.MustParseAddr(gw)); got != want {
			t.Errorf("onLinkInterface(%s) = %q, want %q", gw, got, want)
		}
	}
}
