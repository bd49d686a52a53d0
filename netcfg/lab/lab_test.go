package lab

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
)

func TestParseNamespace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wantID string
		pid    int
		ok     bool
	}{
		{"kbh-123-ab12cd-host", "kbh-123-ab12cd", 123, true},
		{"kbh-123-ab12cd-gw1", "kbh-123-ab12cd", 123, true},
		{"kbh-77-att", "kbh-77-att", 77, true},
		{"kbh-77-", "", 0, false},
		{"kbh-x-ab12cd-host", "", 0, false},
		{"kbh-0-ab-host", "", 0, false},
		{"kbh-007-ab-host", "", 0, false},
		{"kbh-", "", 0, false},
		{"other-123-ab-host", "", 0, false},
	} {
		id, pid, ok := ParseNamespace(tc.name)
		if id != tc.wantID || pid != tc.pid || ok != tc.ok {
			t.Errorf("ParseNamespace(%q) = %q, %d, %v; want %q, %d, %v", tc.name, id, pid, ok, tc.wantID, tc.pid, tc.ok)
		}
	}
}

func TestAccessors(t *testing.T) {
	f, err := fixtures.LoadLab("multihomed")
	if err != nil {
		t.Fatal(err)
	}
	l := &Lab{ID: "kbh-1-abcdef", Fixture: f, owned: true,
		Namespaces: map[string]string{HostRole: "kbh-1-abcdef-host", "gw1": "kbh-1-abcdef-gw1", "gw2": "kbh-1-abcdef-gw2"}}
	if got, want := l.Gateway(1, netcfg.IPv4), netip.MustParseAddr("198.51.100.1"); got != want {
		t.Errorf("Gateway(1, IPv4) = %v, want %v", got, want)
	}
	if got, want := l.Gateway(0, netcfg.IPv6), netip.MustParseAddr("2001:db8:1::1"); got != want {
		t.Errorf("Gateway(0, IPv6) = %v, want %v", got, want)
	}
	if got, want := l.HostAddress(1, netcfg.IPv6), netip.MustParsePrefix("2001:db8:2::20/64"); got != want {
		t.Errorf("HostAddress(1, IPv6) = %v, want %v", got, want)
	}
	if got := l.Interface(1); got != "lan1" {
		t.Errorf("Interface(1) = %q", got)
	}
	if got := l.PeerNamespace(1); got != "kbh-1-abcdef-gw2" {
		t.Errorf("PeerNamespace(1) = %q", got)
	}
	if got := l.Roles(); len(got) != 3 || got[0] != HostRole || got[1] != "gw1" || got[2] != "gw2" {
		t.Errorf("Roles() = %v", got)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
