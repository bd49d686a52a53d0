package explore

import (
	"net/netip"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

func addr(kind Kind, ifname, p string) Op {
	return Op{Kind: kind, Mechanism: netcfg.Netlink, Interface: ifname, Address: netip.MustParsePrefix(p)}
}

func TestWithoutDropsAnAddWithItsLaterSteps(t *testing.T) {
	ops := []Op{
		addr(AddAddress, "lan0", "192.0.2.100/24"),
		addr(AddAddress, "lan1", "198.51.100.100/24"),
		addr(DeleteAddress, "lan0", "192.0.2.100/24"),
		addr(DeleteAddress, "lan1", "198.51.100.100/24"),
	}
	got := without(ops, 0)
	if len(got) != 2 || got[0].Address != ops[1].Address || got[1].Address != ops[3].Address {
		t.Fatalf("without(0) = %v", got)
	}
	if !valid(got) {
		t.Fatalf("without(0) is not a valid sequence: %v", got)
	}
	if d := without(ops, 2); len(d) != 3 || !valid(d) {
		t.Fatalf("without(2) = %v (valid %v)", d, valid(d))
	}
	if valid([]Op{ops[2]}) {
		t.Fatal("a delete of an absent address counted as valid")
	}
}
