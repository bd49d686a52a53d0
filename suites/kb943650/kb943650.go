package kb943650

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/internal/crashmark"
	"github.com/kbharness/kbharness/internal/watchdog"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/suites/framework"
)

// ScenarioID is the scenario id and its Ginkgo label.
const ScenarioID = "KB943650"

// The suite binary re-executes itself as the echo responder in a peer
// namespace (watchdog.StartResponder).
func init() { watchdog.ServeIfResponder() }

var _ = Describe("KB943650: multicast forwarding under churn keeps forwarding and the host responding",
	Label(ScenarioID, "slow"), Serial, func() {
		It("forwards multicast from gw1 through the lab host to gw2 while groups, MFC entries and addresses churn",
			Label(string(netcfg.Netlink)), func(ctx SpecContext) {
				sc, env := start()
				env.RequireBuiltLab("peer namespaces that send and receive forwarded traffic (hosts kbharness did not build run the host spec)")
				guardCrash()
				// ctx ends on Ctrl-C: Run then stops within a second,
				// restores the lab and returns ctx's error, which fails the
				// spec.
				res, err := Run(ctx, env.Lab, env.Timeline, env.Step, sc, GinkgoWriter)
				if errors.Is(err, netcfg.ErrUnsupported) {
					Skip(err.Error())
				}
				if res != nil {
					AddReportEntry("KB943650 stress", res.Summary())
					AddReportEntry("probe latency p50/p99", res.Watchdog.Summary())
				}
				Expect(err).NotTo(HaveOccurred())
				env.Step("after the churn: the host stayed responsive and forwarded in every MFC-present phase")
				Expect(res.Watchdog.Err()).NotTo(HaveOccurred(), "the liveness watchdog saw the host stop responding")
				Expect(res.Silent()).To(BeEmpty(), "MFC-present phases that forwarded nothing")
				Expect(res.Forwarded()).To(BeNumerically(">", 0), "datagrams forwarded to the steady receiver")
				Expect(res.MCForwardingOff).To(BeTrue(), "mc_forwarding back to 0 after MRT_DONE")
			})

		It("keeps a host kbharness did not build responding while multicast forwarding is on and groups and addresses churn",
			Label(string(netcfg.Netsh), "host"), func(ctx SpecContext) {
				sc, env := start()
				if env.Lab.Owned() {
					Skip("a namespace lab runs the forwarding spec, with peers; this one is for hosts kbharness did not build")
				}
				env.RequireLocalHost("multicast sockets and a TCP echo on the host")
				guardCrash()
				res, err := RunOnHost(ctx, env.Lab, env.Timeline, env.Step, sc, GinkgoWriter)
				if errors.Is(err, netcfg.ErrUnsupported) {
					Skip(err.Error())
				}
				if res != nil {
					AddReportEntry("KB943650 stress", res.Summary())
				}
				Expect(err).NotTo(HaveOccurred())
				env.Step("after the churn: the host stayed responsive and forwarding is restored")
				Expect(res.Err()).NotTo(HaveOccurred())
			})
	})

// start loads the scenario and builds (or opens) its lab.
func start() (*Scenario, *framework.Env) {
	GinkgoHelper()
	sc, err := LoadScenario()
	Expect(err).NotTo(HaveOccurred())
	return sc, framework.NewEnv(sc.Lab)
}

// guardCrash fails on the crash marker of an interrupted run whose host
// crashed, then leaves a marker of its own until the spec ends (a host that
// dies during the stress keeps it, for the next run to report).
func guardCrash() {
	GinkgoHelper()
	By("looking for a crash marker left by an interrupted run")
	marker, err := crashmark.DefaultPath(ScenarioID)
	Expect(err).NotTo(HaveOccurred())
	previous, err := crashmark.Check(marker, crashmark.QueryEvents)
	Expect(err).NotTo(HaveOccurred())
	if previous != nil {
		AddReportEntry("previous run of "+ScenarioID, previous.String())
		Expect(crashmark.Clear(marker)).To(Succeed())
		Expect(previous.Crashed()).To(BeFalse(), previous.String())
	}
	_, err = crashmark.Write(marker, ScenarioID)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(crashmark.Clear, marker)
}
