// Package kb2901197 holds the KB2901197 specs: a connect with a
// system-chosen local port must not fail with WSAEADDRINUSE (event 4227)
// while connections churn through a narrowed dynamic port range.
//
// On Windows the production spec hammers the host itself (netsh dynamicport,
// host-wide, hence Serial). On Linux, where the kernel has no such bug, the
// controls prove the detector on the real kernel inside the lab namespace:
// bind(port 0)-then-connect must show EADDRINUSE (positive control) and
// IP_BIND_ADDRESS_NO_PORT / plain connect must not (negative controls). The
// injector kb2901197-bind-first turns the production spec red.
package kb2901197

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/internal/hammer"
	"github.com/kbharness/kbharness/internal/winevent"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

// ScenarioID is the scenario id and its Ginkgo label.
const ScenarioID = "KB2901197"

// Serial: the dynamic port range is host-wide on Windows and on an
// attached namespace.
var _ = Describe("KB2901197: WSAEADDRINUSE during dynamic port allocation", Label(ScenarioID, "hammer"), Serial, func() {
	var (
		sc *Scenario
		e  *framework.Env
	)
	BeforeEach(func() {
		var err error
		sc, err = LoadScenario()
		Expect(err).NotTo(HaveOccurred())
		e = framework.NewEnv(sc.Lab)
	})

	It("plain connect through a narrowed range shows zero EADDRINUSE and zero event 4227 (exhaustion is reported, not failed)", func(ctx SpecContext) {
		run := sc.Production
		if inject.BindFirst(e.Lab) {
			run.Mode = hammer.ModeBindConnect
			AddReportEntry("injected", "kb2901197-bind-first: the production run binds port 0 before connecting")
		}
		res := hammerLab(ctx, e, sc, run, 0)
		Expect(res.Count(hammer.ClassAddrInUse)).To(BeZero(),
			"the KB2901197 signature: %d of %d connects failed with EADDRINUSE while the dynamic range churned\n%s",
			res.Count(hammer.ClassAddrInUse), res.Attempts, res.Summary())
		Expect(res.Events[4227]).To(BeZero(), "Tcpip event 4227 logged during the run\n%s", res.Summary())
		Expect(res.Count(hammer.ClassSuccess)).To(BeNumerically(">", 0), "no connection succeeded: the hammer proved nothing\n%s", res.Summary())
	})

	Context("on the Linux kernel, proving the detector", func() {
		BeforeEach(func() {
			// The controls use Linux semantics of bind(port 0) and
			// IP_BIND_ADDRESS_NO_PORT.
			framework.RequireDialect(netcfg.DialectLinux)
		})

		It("positive control: bind-then-connect through the narrowed range shows the signature, with counts", func(ctx SpecContext) {
			res := hammerLab(ctx, e, sc, sc.Positive, 1)
			Expect(res.Signature()).To(BeTrue(), "the detector missed EADDRINUSE that bind(port 0)-then-connect must produce\n%s", res.Summary())
			Expect(res.Count(hammer.ClassSuccess)).To(BeNumerically(">", 0), "nothing connected before the range filled\n%s", res.Summary())
			AddReportEntry("signature", fmt.Sprintf("EADDRINUSE %d of %d attempts, first %s", res.Count(hammer.ClassAddrInUse), res.Attempts, res.First[hammer.ClassAddrInUse]))
		})

		DescribeTable("negative control: no EADDRINUSE when the port is chosen at connect time or no TIME_WAIT is left",
			func(ctx SpecContext, slot int, run Run) {
				res := hammerLab(ctx, e, sc, run, slot)
				Expect(res.Count(hammer.ClassAddrInUse)).To(BeZero(), "%s: %s", run, res.Summary())
				Expect(res.Count(hammer.ClassSuccess)).To(BeNumerically(">", 0), "%s: nothing connected\n%s", run, res.Summary())
			},
			negativeEntries(),
		)
	})
})

// negativeEntries makes one entry, hence one fresh lab, per negative
// control of the fixture; a fixture that does not load gives none (the
// other specs report the error).
func negativeEntries() []TableEntry {
	sc, err := LoadScenario()
	if err != nil {
		return nil
	}
	var out []TableEntry
	for _, r := range sc.Negative {
		out = append(out, Entry(r.String(), 2+len(out), r))
	}
	return out
}

// hammerLab runs the hammer against the lab host's first IPv4 address, in
// the host namespace, through the scenario's narrowed range in the spec's
// slot (its own ports: on a host that outlives specs, one spec's TIME_WAIT
// does not fill the next one's range), and reports
// the counts as report entries. ctx ends on Ctrl-C: the workers stop within
// a second, the range is restored, and the spec fails as interrupted after
// reporting the counts so far.
func hammerLab(ctx context.Context, e *framework.Env, sc *Scenario, run Run, slot int) *hammer.Result {
	GinkgoHelper()
	target := e.Lab.HostAddress(0, netcfg.IPv4).Addr()
	Expect(target.IsValid()).To(BeTrue(), "lab %s has no IPv4 address on its first link", e.Fixture.Name)
	var allowed []netip.Prefix
	for _, l := range e.Fixture.Links {
		for _, p := range l.Addresses {
			allowed = append(allowed, p.Masked())
		}
	}
	cfg := hammer.Config{
		Target:    netip.AddrPortFrom(target, 0),
		Allowed:   allowed,
		Netns:     e.Lab.Namespaces[lab.HostRole],
		Workers:   sc.Workers,
		Count:     sc.Count,
		Duration:  sc.Duration,
		Mode:      run.Mode,
		Close:     run.Close,
		PortRange: sc.LinuxRange.Slot(slot),
		QuietWait: sc.QuietWait,
	}
	if e.Host.Capabilities().Dialect == netcfg.DialectWindows {
		cfg.Netns, cfg.PortRange = "", sc.WindowsRange.Slot(slot)
	}
	cfg.BeforeRangeChange = func(restore []string) error {
		e.Step("narrowing the dynamic port range to %s", cfg.PortRange)
		return e.RecordUndo("narrow the dynamic port range", restore)
	}
	var (
		res *hammer.Result
		err error
		on  netcfg.Runner = netcfg.Exec
	)
	if e.Lab.Remote() {
		on = e.Lab.Transport()
		res, err = hammerRemote(ctx, e, cfg, run)
	} else {
		e.Step("hammering %s (%s) through ports %s", cfg.Target, run, cfg.PortRange)
		res, err = hammer.Run(ctx, cfg)
	}
	if errors.Is(err, netcfg.ErrUnsupported) {
		Skip(err.Error())
	}
	if res != nil && res.Signature() && e.Host.Capabilities().Dialect == netcfg.DialectWindows {
		netstatEvidence(ctx, on, cfg.PortRange)
	}
	if res != nil {
		e.Step("after %d attempts", res.Attempts)
		report(run, res)
	}
	Expect(err).NotTo(HaveOccurred())
	return res
}

// report adds the run's counts as report entries.
func report(run Run, res *hammer.Result) {
	name := "hammer " + run.String()
	AddReportEntry(name, res.Summary())
	counts := map[string]int64{"attempts": res.Attempts}
	for _, c := range hammer.Classes {
		counts[c.String()] = res.Count(c)
	}
	counts["max_time_wait"] = int64(res.Census.MaxTimeWait)
	counts["event_4227"], counts["event_4231"] = int64(res.Events[4227]), int64(res.Events[4231])
	AddReportEntry(name+" counts", counts)
}

// hammerRemote runs the hammer on a remote Windows host: the legacy agent
// (-kb.hammer-agent), copied over the target's transport (hammer.RunAgent).
func hammerRemote(ctx context.Context, e *framework.Env, cfg hammer.Config, run Run) (*hammer.Result, error) {
	GinkgoHelper()
	rem, ok := e.Lab.Transport().(hammer.Remote)
	if !ok || e.Host.Capabilities().Dialect != netcfg.DialectWindows {
		Skip(fmt.Sprintf("the hammer runs on the host under test: on a remote host only the Windows agent does (%s is not a Windows target with file copy)", framework.Options.Target))
	}
	if framework.Options.HammerAgent == "" {
		Skip("on a remote Windows host the hammer is the legacy agent: build agent/hammer (mingw-w64) and pass -kb.hammer-agent PATH")
	}
	exe, err := os.ReadFile(framework.Options.HammerAgent)
	Expect(err).NotTo(HaveOccurred(), "-kb.hammer-agent")
	e.Step("hammering %s on the guest with the legacy agent (%s) through ports %s", cfg.Target, run, cfg.PortRange)
	return hammer.RunAgent(ctx, rem, exe, cfg)
}

// netstatEvidence attaches what the KB article looks at when the signature
// shows on Windows: the TCP states of the ports in the range, from
// `netstat -ano -p TCP`.
func netstatEvidence(ctx context.Context, on netcfg.Runner, r hammer.PortRange) {
	name := fmt.Sprintf("netstat -ano: TCP states in ports %s", r)
	out, err := on.Run(ctx, winevent.NetstatArgv())
	if err != nil {
		AddReportEntry(name, err.Error())
		return
	}
	conns, err := winevent.ParseNetstat(string(out.Stdout))
	if err != nil {
		AddReportEntry(name, err.Error())
		return
	}
	AddReportEntry(name, winevent.CountStates(conns, r.Lo, r.Hi))
}
