package framework

import (
	"context"
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg"
)

// History is a spec's history-independence oracle: the host under test
// checked against its explore.Reference, the normal form the host shows
// when it is given a configuration directly rather than through the
// spec's history.
type History struct {
	env *Env
	Ref explore.Reference
}

// History builds the spec's history-independence reference. Call it at the
// start point, before the spec changes anything, with every element the
// spec's configurations are made of:
//
//   - in a namespace lab kbharness built, the reference is a fresh lab of
//     the same fixture (explore.FreshLabs: element deltas learned on a bare
//     scratch lab, a mismatch confirmed on a fresh lab given the
//     configuration);
//   - on a host it did not build (an attached namespace, the Windows lab
//     VM), where no fresh copy exists, it is the host's own start point plus
//     the deltas of the configuration's elements, each learned on the host
//     itself now: applied alone through the lab's journaled host, read,
//     undone, and checked gone (explore.Baseline). The check runs there
//     too; it is not skipped.
//
// On a host kbharness did not build, the deltas are learned with addrBy
// and routeBy, the spec's own mechanisms. The reference is closed when the
// spec ends.
func (e *Env) History(addrBy, routeBy netcfg.Mechanism, universe ...explore.Element) *History {
	GinkgoHelper()
	ctx := context.Background()
	var (
		ref explore.Reference
		err error
	)
	if e.Lab.Owned() {
		ref, err = explore.NewFreshLabs(ctx, e.Fixture)
	} else {
		e.Timeline.Step("learning the history-independence reference on the host")
		ref, err = explore.NewBaseline(ctx, e.Host, universe, addrBy, routeBy)
		e.Timeline.Step("start point")
	}
	Expect(err).NotTo(HaveOccurred(), "building the history-independence reference of %s", e.Lab.ID)
	DeferCleanup(ref.Close)
	AddReportEntry("history-independence reference", ref.String())
	return &History{env: e, Ref: ref}
}

// Diff compares the host now with the reference's lines for c: "-" lines
// are only in the reference, "+" lines only on the host. A predicted
// expectation is used as it is; ExpectIndependent confirms it first.
func (h *History) Diff(c explore.Config) (netcfg.SnapshotDiff, error) {
	want, _, err := h.Ref.Expect(context.Background(), c)
	if err != nil {
		return netcfg.SnapshotDiff{}, err
	}
	return want.Diff(h.env.Snapshot().Normalize(nil)), nil
}

// ExpectIndependent asserts that within window the host's tables equal the
// reference's for c, the configuration the spec has left on top of the
// start point.
func (h *History) ExpectIndependent(c explore.Config, window time.Duration) {
	GinkgoHelper()
	h.check(nil, c, window, 0)
}

// ExpectAfter checks the host after step op left configuration c: within
// window its tables equal the reference's for c (a predicted expectation
// is confirmed before a mismatch fails the spec), and the step's own
// expectation holds (explore.StepProblems). With settle > 0 the tables
// must then stay right that long.
func (h *History) ExpectAfter(op explore.Op, c explore.Config, window, settle time.Duration) {
	GinkgoHelper()
	h.check(&op, c, window, settle)
}

func (h *History) check(op *explore.Op, c explore.Config, window, settle time.Duration) {
	GinkgoHelper()
	ctx := context.Background()
	want, confirmed, err := h.Ref.Expect(ctx, c)
	Expect(err).NotTo(HaveOccurred(), "expecting the tables of %s", c)
	matched := h.env.WaitFor(window, func(s *netcfg.Snapshot) error {
		if d := want.Diff(s.Normalize(nil)); !d.Empty() {
			return errDiffers
		}
		return nil
	}) == nil
	if !matched && !confirmed {
		want, err = h.Ref.Confirm(ctx, c)
		Expect(err).NotTo(HaveOccurred())
	}
	have := h.env.Snapshot().Normalize(nil)
	after := ""
	if op != nil {
		after = " after " + op.String()
		problems, err := explore.StepProblems(ctx, h.Ref, op, c, want, have)
		Expect(err).NotTo(HaveOccurred())
		Expect(problems).To(BeEmpty(), "step expectation after %s", op)
	}
	d := want.Diff(have)
	Expect(d.Empty()).To(BeTrue(), "history independence%s: the host differs from %s given %s\n%s", after, h.Ref, c, d.Explain(h.Ref.String(), "the host"))
	if settle <= 0 {
		return
	}
	Consistently(func() bool {
		d = want.Diff(h.env.Snapshot().Normalize(nil))
		return d.Empty()
	}).WithTimeout(settle).WithPolling(settle/10).Should(BeTrue(), func() string {
		return fmt.Sprintf("history independence in the %s%s: the host differs from %s given %s\n%s", settle, after, h.Ref, c, d.Explain(h.Ref.String(), "the host"))
	})
}

// errDiffers makes WaitFor keep waiting; the diff is rendered afterwards.
var errDiffers = errors.New("the host differs from the reference")
