package kb943650

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kbharness/kbharness/internal/mcast"
	"github.com/kbharness/kbharness/internal/watchdog"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// Source and receiver sides of the lab, and the VIF numbers of the host's
// interfaces on them.
const (
	sourceLink, receiverLink = 0, 1
	sourceVIF, receiverVIF   = 0, 1
)

// Phase is one MFC-present or MFC-absent span of the churn.
type Phase struct {
	Index    int
	MFC      bool  // the (S,G) entries were in the cache for the whole phase
	Sent     int64 // datagrams sent to the first group
	Received int64 // of those, received by the steady receiver
}

// Result is what one stress run saw.
type Result struct {
	Watchdog        watchdog.Report
	Phases          []Phase
	MinSent         int
	Router          mcast.Stats
	Joins, Leaves   int64
	AddrChanges     int64
	ChurnErrors     []string // first few churn errors (they do not fail the run by themselves)
	MCForwardingOff bool     // mc_forwarding back to 0 after MRT_DONE
	DetectedLive    []watchdog.Stall
}

// Silent returns the MFC-present phases that sent at least MinSent
// datagrams and delivered none: forwarding broken.
func (r *Result) Silent() []Phase {
	var out []Phase
	for _, p := range r.Phases {
		if p.MFC && p.Sent >= int64(r.MinSent) && p.Received == 0 {
			out = append(out, p)
		}
	}
	return out
}

// Forwarded is the number of datagrams the steady receiver got in
// MFC-present phases.
func (r *Result) Forwarded() (n int64) {
	for _, p := range r.Phases {
		if p.MFC {
			n += p.Received
		}
	}
	return n
}

// Err says why the run failed: a stall, forwarding that stopped, or state
// left behind.
func (r *Result) Err() error {
	var errs []error
	if err := r.Watchdog.Err(); err != nil {
		errs = append(errs, err)
	}
	if s := r.Silent(); len(s) > 0 {
		idx := make([]string, len(s))
		for i, p := range s {
			idx[i] = fmt.Sprintf("%d (sent %d)", p.Index, p.Sent)
		}
		errs = append(errs, fmt.Errorf("multicast forwarding stopped: MFC-present phases delivered nothing: %s", strings.Join(idx, ", ")))
	}
	if r.Forwarded() == 0 {
		errs = append(errs, errors.New("multicast forwarding never worked: the steady receiver got nothing"))
	}
	if !r.MCForwardingOff {
		errs = append(errs, errors.New("net.ipv4.conf.all.mc_forwarding still 1 after MRT_DONE"))
	}
	return errors.Join(errs...)
}

// Summary is the human report of a run.
func (r *Result) Summary() string {
	present, absent := 0, 0
	for _, p := range r.Phases {
		if p.MFC {
			present++
		} else {
			absent++
		}
	}
	return fmt.Sprintf("phases: %d with MFC, %d without; forwarded %d datagrams to the steady receiver; joins %d, leaves %d; address changes %d; router upcalls: %d NOCACHE, %d WRONGVIF; stalls: %d\n%s",
		present, absent, r.Forwarded(), r.Joins, r.Leaves, r.AddrChanges, r.Router.NoCache, r.Router.WrongVIF, len(r.Watchdog.Stalls), r.Watchdog.Summary())
}

// Run enables multicast forwarding in the lab host, forwards traffic from
// the source peer to receivers behind the other link while groups, MFC
// entries and addresses churn for sc.Duration, watches liveness, and
// restores everything. It returns an error when the stress could not be set
// up; what the stress found is in the Result.
//
// When ctx ends first (Ctrl-C), every churn loop stops at once, the
// watchdog, traffic and responder stop, MRT_DONE and the address restore
// still run, and Run returns the Result so far with an error wrapping
// ctx.Err(): an interrupted stress proves nothing.
//
// step marks each phase (framework.Env.Step: By and the timeline); tl is the
// timeline whose running step the watchdog names in a stall.
func Run(ctx context.Context, l *lab.Lab, tl *netcfg.Timeline, step func(format string, args ...any), sc *Scenario, log io.Writer) (res *Result, err error) {
	res = &Result{MinSent: sc.MinSent}
	var cleanups []func() error
	defer func() {
		var errs []error
		for i := len(cleanups) - 1; i >= 0; i-- {
			if cerr := cleanups[i](); cerr != nil {
				errs = append(errs, cerr)
			}
		}
		if err == nil && len(errs) > 0 {
			err = fmt.Errorf("restoring the lab after the stress: %w", errors.Join(errs...))
		}
	}()
	in := func(role string) mcast.Do { return func(fn func() error) error { return l.Do(role, fn) } }
	hostDo := in(lab.HostRole)
	srcPeer, rcvPeer := l.Link(sourceLink).Peer, l.Link(receiverLink).Peer
	source := l.Gateway(sourceLink, netcfg.IPv4)
	far := l.Gateway(receiverLink, netcfg.IPv4)

	step("enabling multicast forwarding: MRT_INIT, vif0 %s, vif1 %s", l.Interface(sourceLink), l.Interface(receiverLink))
	router, err := mcast.Open(hostDo)
	if err != nil {
		return nil, err
	}
	routerOpen := true
	closeRouter := func() error {
		if !routerOpen {
			return nil
		}
		routerOpen = false
		res.Router = router.Stats()
		return router.Close()
	}
	cleanups = append(cleanups, closeRouter)
	if err := router.AddVIF(sourceVIF, l.Interface(sourceLink)); err != nil {
		return nil, err
	}
	if err := router.AddVIF(receiverVIF, l.Interface(receiverLink)); err != nil {
		return nil, err
	}

	step("starting the echo responder in %s and the watchdog", rcvPeer)
	echoAddr := netip.AddrPortFrom(far, sc.EchoPort)
	responder, err := watchdog.StartResponder(ctx, l.PeerNamespace(receiverLink), echoAddr)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, responder.Stop)
	routeProbe, closeProbe, err := watchdog.RouteRead(l.Namespaces[lab.HostRole], far)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, closeProbe)
	echo := watchdog.TCPEcho("tcp-echo "+echoAddr.String(), watchdog.DialFrom(l.Namespaces[lab.HostRole], echoAddr))
	var liveMu sync.Mutex
	stopWatchdog := watch(sc, tl, log, func(s watchdog.Stall) {
		liveMu.Lock()
		res.DetectedLive = append(res.DetectedLive, s)
		liveMu.Unlock()
	}, &res.Watchdog, routeProbe, echo)
	cleanups = append(cleanups, stopWatchdog)

	step("starting traffic %s -> %s and receivers in %s", source, groupList(sc.Groups), rcvPeer)
	maxPhases := int(sc.Duration/sc.Phase) + 2
	sent := make([]atomic.Int64, maxPhases)
	received := make([]atomic.Int64, maxPhases)
	var phase atomic.Int32
	steady, err := mcast.NewReceiver(in(rcvPeer), l.Link(receiverLink).PeerInterface, sc.Port)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, steady.Close)
	if err := steady.Join(sc.Groups[0]); err != nil {
		return nil, err
	}
	go steady.Receive(func(b []byte) {
		if len(b) >= 8 && binary.BigEndian.Uint32(b[4:]) == 0 {
			if p := int(binary.BigEndian.Uint32(b)); p < maxPhases {
				received[p].Add(1)
			}
		}
	})
	sender, err := mcast.NewSender(in(srcPeer), l.Link(sourceLink).PeerInterface, 8)
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, sender.Close)

	churn := newChurner(ctx, &res.ChurnErrors)
	cleanups = append(cleanups, churn.end)

	// Traffic: each datagram carries the phase it was sent in and its group.
	churn.every(sc.SendInterval, func(int) {
		p := int(phase.Load())
		for gi, g := range sc.Groups {
			var b [16]byte
			binary.BigEndian.PutUint32(b[0:], uint32(p))
			binary.BigEndian.PutUint32(b[4:], uint32(gi))
			if err := sender.Send(netip.AddrPortFrom(g, sc.Port), b[:]); err != nil {
				churn.note(fmt.Errorf("sending to %s: %w", g, err))
				continue
			}
			if gi == 0 && p < maxPhases {
				sent[p].Add(1)
			}
		}
	})
	// Group churn: receivers join and leave every group in turn.
	closers, err := churn.groups(sc.ChurnReceivers, func() (*mcast.Receiver, error) {
		return mcast.NewReceiver(in(rcvPeer), l.Link(receiverLink).PeerInterface, sc.Port)
	}, sc.Groups, sc.JoinInterval, &res.Joins, &res.Leaves)
	cleanups = append(cleanups, closers...)
	if err != nil {
		return nil, err
	}
	// Address churn on the forwarding interfaces (RTM_NEWADDR/RTM_DELADDR).
	if len(sc.ChurnAddresses) > 0 {
		present := make([]bool, len(sc.ChurnAddresses))
		cleanups = append(cleanups, func() error {
			churn.end()
			var errs []error
			for i, a := range sc.ChurnAddresses {
				if present[i] {
					if err := l.Host.DeleteAddress(context.Background(), netcfg.Netlink, netcfg.AddressSpec{Prefix: a.Prefix, Interface: l.Interface(a.Link)}); err != nil {
						errs = append(errs, err)
					}
				}
			}
			return errors.Join(errs...)
		})
		churn.every(sc.AddressInterval, func(n int) {
			i := n % len(sc.ChurnAddresses)
			a := netcfg.AddressSpec{Prefix: sc.ChurnAddresses[i].Prefix, Interface: l.Interface(sc.ChurnAddresses[i].Link)}
			var err error
			if present[i] {
				err = l.Host.DeleteAddress(churn.ctx, netcfg.Netlink, a)
			} else {
				err = l.Host.AddAddress(churn.ctx, netcfg.Netlink, a)
			}
			if err != nil {
				if churn.ctx.Err() == nil {
					churn.note(err)
				}
				return
			}
			present[i] = !present[i]
			atomic.AddInt64(&res.AddrChanges, 1)
		})
	}

	// MFC churn: entries in for one phase, out for the next. The phase
	// number changes only while the entries are in the state it names, so
	// a datagram stamped with a present phase was sent while they were in.
	entries := make([]mcast.MFC, len(sc.Groups))
	for i, g := range sc.Groups {
		entries[i] = mcast.MFC{Source: source, Group: g, In: sourceVIF, Out: []uint16{receiverVIF}}
	}
	mfcIn := make([]bool, maxPhases)
	end := time.NewTimer(sc.Duration)
	defer end.Stop()
	tick := time.NewTicker(sc.Phase)
	defer tick.Stop()
	for p := 1; p < maxPhases; p++ {
		withMFC := p%2 == 1
		if withMFC {
			for _, e := range entries {
				if err := router.AddMFC(e); err != nil {
					churn.note(err)
					withMFC = false
				}
			}
			step("churn phase %d: MFC entries in", p)
			phase.Store(int32(p))
		} else {
			step("churn phase %d: MFC entries out", p)
			phase.Store(int32(p))
			for _, e := range entries {
				if err := router.DelMFC(e); err != nil {
					churn.note(err)
				}
			}
		}
		mfcIn[p] = withMFC
		done := false
		select {
		case <-ctx.Done():
			done = true
		case <-end.C:
			done = true
		case <-tick.C:
		}
		if done {
			break
		}
	}
	last := int(phase.Load())
	// The last phase ends here, before the entries go: stamp nothing more.
	phase.Store(int32(maxPhases - 1))
	interrupted := ctx.Err()
	if interrupted != nil {
		step("interrupted in churn phase %d: stopping the churn", last)
	} else {
		step("stopping the churn")
	}
	churn.end()
	stopWatchdog()

	step("restoring: MRT_DONE and closing the routing socket")
	if err := closeRouter(); err != nil {
		return nil, err
	}
	off, err := mcast.MCForwarding(hostDo, "all")
	if err != nil {
		return nil, err
	}
	res.MCForwardingOff = !off
	// Phase 0 (before the first MFC entry) and the last, cut-short phase
	// are not judged.
	for p := 1; p < last; p++ {
		res.Phases = append(res.Phases, Phase{Index: p, MFC: mfcIn[p], Sent: sent[p].Load(), Received: received[p].Load()})
	}
	if interrupted != nil {
		// The deferred cleanups (responder, sockets, addresses) run before
		// the caller sees this.
		return res, fmt.Errorf("KB943650 stress interrupted in churn phase %d: %w", last, interrupted)
	}
	return res, nil
}

func groupList(gs []netip.Addr) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.String()
	}
	return strings.Join(s, ",")
}
