package netcfg

import (
	"net/netip"
	"strings"
	"testing"
)

func TestChangesBetweenPolls(t *testing.T) {
	a := &Snapshot{Routes: []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "Ethernet 2"}}}
	b := &Snapshot{Addresses: []Address{{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "Ethernet 2"}}}
	var got []string
	for _, e := range Changes(a, b) {
		got = append(got, e.String())
	}
	want := []string{"route-removed default via 192.0.2.1 dev Ethernet 2 metric 0", "addr-added addr 192.0.2.21/24 dev Ethernet 2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
