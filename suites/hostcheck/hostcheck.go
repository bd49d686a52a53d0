// Package hostcheck holds read-only specs that show the harness reads the
// host under test truthfully: the lab fixture's interfaces, addresses and
// on-link routes are seen, and the in-process view agrees with the OS's own
// command-line view. They change nothing, so they also run where mutations
// are unsupported (the Windows suite binary under Wine).
package hostcheck

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/winhost"
	"github.com/kbharness/kbharness/suites/framework"
)

var _ = Describe("hostcheck: the harness reads the host under test truthfully", Label("hostcheck", "read-only"), func() {
	var e *framework.Env
	BeforeEach(func() { e = framework.NewEnv("default") })

	It("sees every lab interface with the fixture's addresses", func() {
		s := e.Snapshot()
		for _, link := range e.Fixture.Links {
			Expect(interfaceNames(s)).To(ContainElement(link.Interface), "lab interface missing; the host has:\n%s", s)
			for _, p := range link.Addresses {
				Expect(s.HasAddress(p)).To(BeTrue(), "address %s missing on %s; the host has:\n%s", p, link.Interface, s)
			}
		}
	})

	It("sees the on-link route of every fixture address", func() {
		s := e.Snapshot()
		for _, link := range e.Fixture.Links {
			for _, p := range link.Addresses {
				if netcfg.FamilyOf(p) == netcfg.IPv6 && !e.Host.Capabilities().IPv6 {
					continue
				}
				want := netcfg.Route{Dst: p.Masked(), Interface: link.Interface}
				Expect(s.HasRoute(netcfg.StoreActive, want)).To(BeTrue(), "no route %s on %s; the host has:\n%s", want.Dst, link.Interface, s)
			}
		}
	})

	It("agrees with the OS's own command view", func() {
		if e.Lab.Remote() {
			Expect(remoteCrossCheck(e)).To(Succeed())
			return
		}
		Expect(crossCheck(e)).To(Succeed())
	})
})

// remoteCrossCheck compares, on a Windows host reached by commands, the
// registry's PersistentRoutes (`reg query`) with `route print -4`'s
// "Persistent Routes:". A Linux host reached by commands has no second
// view: its snapshot is ip's own output.
func remoteCrossCheck(e *framework.Env) error {
	if e.Host.Capabilities().Dialect != netcfg.DialectWindows {
		Skip("a Linux host reached by commands has one view, ip's: nothing to compare it with")
	}
	m, err := winhost.CheckRegistry(context.Background(), e.Lab.Transport())
	if err != nil {
		return err
	}
	if !m.Empty() {
		return fmt.Errorf("persistent store views differ: registry (reg query) only %v, route print only %v", m.OnlyRegistry, m.OnlyOther)
	}
	return nil
}

func interfaceNames(s *netcfg.Snapshot) []string {
	var out []string
	for _, i := range s.Interfaces {
		out = append(out, i.Name)
	}
	return out
}

func errorIfDiffers(what string, d netcfg.SnapshotDiff) error {
	if d.Empty() {
		return nil
	}
	return fmt.Errorf("%s differ %s", what, d.Explain("the in-process view", "the command's view"))
}
