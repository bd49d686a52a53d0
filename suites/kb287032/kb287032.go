package kb287032

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

// ScenarioID is the scenario id and its Ginkgo label.
const ScenarioID = "KB287032"

var _ = Describe("KB287032: routes stay right when dynamic addresses leave a multihomed host in any order", Label(ScenarioID), Serial, func() {
	var sc *Scenario
	BeforeEach(func() {
		var err error
		sc, err = LoadScenario()
		Expect(err).NotTo(HaveOccurred())
	})

	DescribeTable("add dynamic addresses alternately to both adapters and a manual route per adapter, then remove the addresses",
		func(d netcfg.Dialect, addrBy netcfg.Mechanism, order string, seed uint64) {
			framework.RequireDialect(d)
			e := framework.NewEnv(sc.Lab)
			e.RequireMechanism(addrBy)
			u, err := explore.NewUniverse(e.Fixture, (sc.Addresses+1)/2, 0, []netcfg.Mechanism{addrBy})
			Expect(err).NotTo(HaveOccurred())
			adds := alternate(u, sc.Addresses)
			// At the start point: a fresh lab in a lab kbharness built, the
			// host's own baseline plus learned deltas on an attached host.
			routeBy := e.FirstMechanism(d.RouteMechanisms())
			history := e.History(addrBy, routeBy, u.Elements()...)

			var c explore.Config
			step := func(o explore.Op, settle bool) {
				GinkgoHelper()
				next, err := c.Apply(o)
				Expect(err).NotTo(HaveOccurred())
				c = next
				switch o.Kind {
				case explore.AddAddress:
					e.AddAddress(o.Mechanism, *o.Element().Address)
				case explore.DeleteAddress:
					e.DeleteAddress(o.Mechanism, *o.Element().Address)
				case explore.AddRoute:
					e.AddRoute(o.Mechanism, *o.Element().Route)
				}
				e.Step("after %s", o)
				window := time.Duration(0)
				if settle {
					window = sc.Settle
				}
				history.ExpectAfter(o, c, sc.Window, window)
			}

			e.Step("start point")
			for _, a := range adds {
				e.Step("adding %s by %s", a.Address, addrBy)
				step(a, false)
			}
			for _, r := range u.Routes {
				e.Step("adding the manual route %s via %s on %s", r.Dst, r.Gateway, r.Interface)
				step(explore.Element{Route: &r}.Op(true, routeBy), false)
			}
			for _, a := range removalOrder(adds, order, seed) {
				e.Step("deleting %s by %s (%s order)", a.Address, addrBy, order)
				a.Kind = explore.DeleteAddress
				step(a, true)
			}
			e.Step("history independence: the tables equal the reference given the manual routes alone")
			var routes []explore.Element
			for i := range u.Routes {
				routes = append(routes, explore.Element{Route: &u.Routes[i]})
			}
			history.ExpectIndependent(explore.ConfigOf(routes...), sc.Window)
		},
		entries(),
	)

	It("explorer: random churn of addresses and routes keeps the tables history-independent",
		Label("explorer", "nightly"), func() {
			framework.RequireNamespaceLabs()
			f, err := framework.LoadLab(sc.Lab)
			Expect(err).NotTo(HaveOccurred())
			opts := explore.Options{
				Lab: f, Seed: sc.Explorer.Seed, Steps: sc.Explorer.Steps, MaxLen: sc.Explorer.MaxLen,
				Progress: GinkgoWriter, Shrink: 20 * time.Second,
			}
			names := framework.Injectors()
			if len(names) > 0 {
				opts.Inject = func(ctx context.Context, l *lab.Lab) (func() error, error) {
					var stops []func() error
					for _, n := range names {
						stop, err := inject.Start(ctx, n, l)
						if err != nil {
							return nil, err
						}
						stops = append(stops, stop)
					}
					return func() error {
						var errs []error
						for _, s := range stops {
							errs = append(errs, s())
						}
						return errors.Join(errs...)
					}, nil
				}
			}
			res, err := explore.Explore(context.Background(), opts)
			if errors.Is(err, netcfg.ErrUnsupported) {
				Skip(err.Error())
			}
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry("explorer", res.Summary())
			if res.Failure == nil && res.OpError == nil {
				return
			}
			replay, _ := explore.EncodeReplay(res.Repro, names)
			AddReportEntry("replay.yaml", string(replay))
			AddReportEntry("repro.sh", explore.IPScript(res.Repro))
			AddReportEntry("repro.cmd", explore.WindowsScript(res.Repro))
			what := fmt.Sprint(res.Failure)
			if res.OpError != nil {
				what = res.OpError.Error()
			}
			Fail(fmt.Sprintf("the explorer found a failure, shrunk to %d steps:\n%s%s\n----- replay.yaml -----\n%s\n----- repro.sh -----\n%s",
				len(res.Repro.Ops), explore.FormatOps(res.Repro.Ops), what, replay, explore.IPScript(res.Repro)))
		})
})

// entries crosses the address mechanisms with the removal orders.
func entries() []TableEntry {
	sc, err := LoadScenario()
	var seeds []uint64
	if err == nil {
		seeds = sc.RandomSeeds
	}
	var out []TableEntry
	for _, d := range netcfg.Dialects {
		for _, m := range d.AddressMechanisms() {
			out = append(out,
				Entry(fmt.Sprintf("by %s, removed FIFO (the workaround)", m), Label(string(d), string(m), "fifo"), d, m, "fifo", uint64(0)),
				Entry(fmt.Sprintf("by %s, removed LIFO", m), Label(string(d), string(m), "lifo"), d, m, "lifo", uint64(0)))
			for _, s := range seeds {
				out = append(out, Entry(fmt.Sprintf("by %s, removed in random order (seed %d)", m, s), Label(string(d), string(m), "random"), d, m, "random", s))
			}
		}
	}
	return out
}

// alternate returns the add operations of n dynamic addresses, alternately
// on the first and the second adapter.
func alternate(u explore.Universe, n int) []explore.Op {
	perIf := map[string][]explore.Op{}
	var ifs []string
	for _, e := range u.Elements() {
		if a := e.Address; a != nil {
			if _, ok := perIf[a.Interface]; !ok {
				ifs = append(ifs, a.Interface)
			}
			perIf[a.Interface] = append(perIf[a.Interface], e.Op(true, u.Mechanisms[0]))
		}
	}
	var out []explore.Op
	for i := 0; len(out) < n; i++ {
		list := perIf[ifs[i%len(ifs)]]
		if i/len(ifs) < len(list) {
			out = append(out, list[i/len(ifs)])
		}
	}
	return out
}

// removalOrder returns adds in the removal order asked for.
func removalOrder(adds []explore.Op, order string, seed uint64) []explore.Op {
	out := append([]explore.Op(nil), adds...)
	switch order {
	case "lifo":
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case "random":
		r := rand.New(rand.NewPCG(seed, seed))
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}
