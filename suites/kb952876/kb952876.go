package kb952876

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/internal/tcpipreg"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/suites/framework"
)

// ScenarioID is the scenario id and its Ginkgo label.
const ScenarioID = "KB952876"

var _ = Describe("KB952876: Tcpipreg keeps responding and its registry view stays right under route churn",
	Label(ScenarioID, "route.exe", "windows", "slow", "destructive"), Serial, func() {
		It("answers bounded queries and stop/start cycles while thousands of persistent routes come and go", func(ctx SpecContext) {
			// Tcpipreg exists only on Windows.
			framework.RequireDialect(netcfg.DialectWindows)
			sc, err := LoadScenario()
			Expect(err).NotTo(HaveOccurred())
			host, err := openHost()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(host.Close)
			ctrl, closeSCM, err := tcpipreg.Open(tcpipreg.ServiceName)
			if errors.Is(err, netcfg.ErrUnsupported) {
				Skip(err.Error())
			}
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(closeSCM)
			svc := tcpipreg.Bounded{C: ctrl, Timeout: sc.Timeout}

			By("start point: tcpipreg answers")
			state, err := svc.Query(ctx)
			Expect(err).NotTo(HaveOccurred())
			if state != tcpipreg.Running {
				Skip("tcpipreg is " + string(state) + ", not running: nothing to stress")
			}
			// Whatever happens, leave the service running.
			DeferCleanup(func() {
				if s, err := svc.Query(ctx); err == nil && s == tcpipreg.Stopped {
					ctrl.Start()
				}
			})

			By("churning persistent routes while querying and cycling tcpipreg")
			res := Churn(ctx, host, svc, sc, GinkgoWriter)
			AddReportEntry("KB952876 churn", res.Summary())
			Expect(res.Err()).NotTo(HaveOccurred())
			// A churn whose route changes failed proves nothing about tcpipreg.
			Expect(res.Adds).To(Equal(int64(sc.Routes)), "persistent routes added by %s (first errors: %v)", sc.Mechanism, res.RouteErrors)
			Expect(res.Deletes).To(Equal(int64(sc.Routes)), "persistent routes deleted by %s (first errors: %v)", sc.Mechanism, res.RouteErrors)
			Expect(res.Cycles).To(HaveLen(sc.Cycles), "stop/start cycles completed (other errors: %v)", res.ServiceErrors)

			By("after the churn: the PersistentRoutes registry view matches the persistent store")
			Eventually(func() error { return compareViews(ctx) }).WithTimeout(sc.Timeout).WithPolling(500 * time.Millisecond).Should(Succeed())
		})
	})
