package framework

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg"
)

// TestHistoryOnAttachedHost runs History against a namespace standing for
// a real lab host kbharness did not build (-kb.target netns:NAME): lan0 and lan1, veth
// pairs with both ends inside it, the fixtures' IPv4 addresses, plus an
// address and a static route of its own. There is no fresh copy of such a
// host, so the reference is its baseline plus deltas learned on it; the
// specs change the host behind the suite's back and check that the
// history-independence check fails, naming the difference.
func TestHistoryOnAttachedHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	ns := fmt.Sprintf("kbt-%d-history", os.Getpid())
	for _, argv := range [][]string{
		{"netns", "add", ns},
		{"-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan0p"},
		{"-n", ns, "link", "add", "lan1", "type", "veth", "peer", "name", "lan1p"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "link", "set", "lan0", "up"}, {"-n", ns, "link", "set", "lan0p", "up"},
		{"-n", ns, "link", "set", "lan1", "up"}, {"-n", ns, "link", "set", "lan1p", "up"},
		{"-n", ns, "addr", "add", "192.0.2.20/24", "dev", "lan0"},
		{"-n", ns, "addr", "add", "198.51.100.20/24", "dev", "lan1"},
		{"-n", ns, "addr", "add", "192.0.2.99/24", "dev", "lan0"},
		{"-n", ns, "route", "add", "203.0.113.0/24", "via", "192.0.2.1", "proto", "static"},
	} {
		if out, err := exec.Command("ip", argv...).CombinedOutput(); err != nil {
			t.Fatalf("ip %q: %v: %s", argv, err, out)
		}
		if argv[0] == "netns" {
			t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		}
	}
	t.Setenv("KBHARNESS_STATE_DIR", t.TempDir())
	saved := Options
	t.Cleanup(func() { Options = saved })
	Options.Target, Options.Inject, Options.LabDir = "netns:"+ns, "", ""
	RegisterFailHandler(Fail)
	RunSpecs(t, "framework: the history-independence check on an attached host")
}

// behindTheBack runs `ip -n NS ARGS` as someone else on the host would.
func behindTheBack(args ...string) {
	GinkgoHelper()
	out, err := exec.Command("ip", append([]string{"-n", strings.TrimPrefix(Options.Target, "netns:")}, args...)...).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "ip %q: %s", args, out)
}

var _ = Describe("History on a host kbharness did not build", func() {
	var (
		e          *Env
		history    *History
		route      netcfg.RouteSpec
		routeAlone explore.Element
	)
	BeforeEach(func() {
		e = NewEnv("default")
		Expect(e.Lab.Owned()).To(BeFalse())
		route = netcfg.RouteSpec{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: "lan0", Persistent: true}
		routeAlone = explore.Element{Route: &route}
		history = e.History("", "", routeAlone)
		Expect(history.Ref.String()).To(Equal("the baseline plus learned deltas"))
		e.AddRoute(netcfg.Netlink, route)
		history.ExpectIndependent(explore.ConfigOf(routeAlone), time.Second)
	})

	It("fails when the route vanished", func() {
		behindTheBack("route", "del", "default", "via", "192.0.2.1", "dev", "lan0")
		failures := InterceptGomegaFailures(func() { history.ExpectIndependent(explore.ConfigOf(routeAlone), 200*time.Millisecond) })
		Expect(failures).To(ContainElement(And(
			ContainSubstring("history independence: the host differs from the baseline plus learned deltas given route 0.0.0.0/0 via 192.0.2.1 dev lan0"),
			ContainSubstring("(- only in the baseline plus learned deltas, + only on the host)\n- default via 192.0.2.1 dev lan0 proto static metric 0\n- default via 192.0.2.1 dev lan0 proto static metric 0 store persistent\n"),
		)))
	})

	It("fails when a stale route appeared", func() {
		behindTheBack("route", "add", "192.0.2.21/32", "dev", "lan0")
		DeferCleanup(behindTheBack, "route", "del", "192.0.2.21/32", "dev", "lan0")
		failures := InterceptGomegaFailures(func() { history.ExpectIndependent(explore.ConfigOf(routeAlone), 200*time.Millisecond) })
		Expect(failures).To(ContainElement(
			ContainSubstring("(- only in the baseline plus learned deltas, + only on the host)\n+ 192.0.2.21 dev lan0 proto boot metric 0\n"),
		))
	})

	It("fails a step whose own lines are missing", func() {
		behindTheBack("route", "del", "default", "via", "192.0.2.1", "dev", "lan0")
		op := routeAlone.Op(true, netcfg.Netlink)
		failures := InterceptGomegaFailures(func() { history.ExpectAfter(op, explore.ConfigOf(routeAlone), 200*time.Millisecond, 0) })
		Expect(failures).To(ContainElement(
			ContainSubstring("missing for present route 0.0.0.0/0 via 192.0.2.1 dev lan0: default via 192.0.2.1 dev lan0 proto static metric 0"),
		))
	})
})
