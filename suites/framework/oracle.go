package framework

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// Config is a configuration on top of a lab fixture: the addresses and routes
// a scenario has added and not removed.
type Config struct {
	Addresses []netcfg.AddressSpec
	Routes    []netcfg.RouteSpec
}

func (c Config) String() string {
	var parts []string
	for _, a := range c.Addresses {
		parts = append(parts, fmt.Sprintf("addr %s dev %s", a.Prefix, a.Interface))
	}
	for _, r := range c.Routes {
		parts = append(parts, fmt.Sprintf("route %s via %s dev %q persistent=%v", r.Dst, r.Gateway, r.Interface, r.Persistent))
	}
	if len(parts) == 0 {
		return "(the lab fixture alone)"
	}
	return strings.Join(parts, "; ")
}

// FreshSnapshot is the history-independence oracle's reference: it builds a
// fresh lab from f, applies c directly (addresses first, then routes, by
// netlink), takes a snapshot and tears the lab down.
func FreshSnapshot(ctx context.Context, f *fixtures.Lab, c Config) (*netcfg.Snapshot, error) {
	l, err := lab.New(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("building a fresh %s lab: %w", f.Name, err)
	}
	defer l.Close()
	for _, a := range c.Addresses {
		if err := l.Host.AddAddress(ctx, netcfg.Netlink, a); err != nil {
			return nil, fmt.Errorf("applying %s to the fresh lab: %w", a.Prefix, err)
		}
	}
	for _, r := range c.Routes {
		if err := l.Host.AddRoute(ctx, netcfg.Netlink, r); err != nil {
			return nil, fmt.Errorf("applying route %s to the fresh lab: %w", r.Dst, err)
		}
	}
	return l.Host.Snapshot(ctx)
}

// HistoryDiff compares the host's current normalised snapshot with a fresh
// lab given c directly. An empty diff means the host's tables do not depend
// on the history that led to c.
func (e *Env) HistoryDiff(c Config) (netcfg.SnapshotDiff, error) {
	want, err := FreshSnapshot(context.Background(), e.Fixture, c)
	if err != nil {
		return netcfg.SnapshotDiff{}, err
	}
	return netcfg.Diff(want, e.Snapshot()), nil
}

// ExpectHistoryIndependent asserts that the host's tables equal those of a
// fresh lab given c directly.
//
// When attached to an existing namespace (-kb.netns) it is not checked, and
// the report says so: a fresh lab cannot reproduce that host's own baseline,
// so the comparison would report the host's other configuration as history.
func (e *Env) ExpectHistoryIndependent(c Config) {
	GinkgoHelper()
	if Options.Netns != "" {
		AddReportEntry("history independence not checked",
			"it needs a fresh lab of the same host, unavailable when attached to namespace "+Options.Netns)
		return
	}
	d, err := e.HistoryDiff(c)
	Expect(err).NotTo(HaveOccurred())
	Expect(d.Empty()).To(BeTrue(),
		"tables depend on history: the host differs from a fresh lab given %s\n(- only in the fresh lab, + only on the host)\n%s", c, d)
}
