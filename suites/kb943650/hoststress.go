package kb943650

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/internal/mcast"
	"github.com/kbharness/kbharness/internal/watchdog"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// HostResult is what a stress on a host without peers of its own saw.
type HostResult struct {
	Watchdog           watchdog.Report
	Sent, Received     int64 // datagrams the local sender sent to the first group, and the local steady receiver got
	Joins, Leaves      int64
	AddrChanges        int64
	ChurnErrors        []string // first few churn errors (they do not fail the run by themselves)
	ForwardingRestored bool     // the forwarding switches are back as they were
	// NoTraffic says why no local multicast traffic ran (the host cannot
	// open multicast sockets: Wine 8's UDP sockets); "" when it ran.
	NoTraffic string
}

// Err says why the run failed: a stall, churn that never happened, or
// forwarding left changed.
func (r *HostResult) Err() error {
	var errs []error
	if err := r.Watchdog.Err(); err != nil {
		errs = append(errs, err)
	}
	if (r.NoTraffic == "" && (r.Sent == 0 || r.Joins == 0)) || r.AddrChanges == 0 {
		errs = append(errs, fmt.Errorf("the churn did not run: %d datagrams sent, %d joins, %d address changes (errors: %s)",
			r.Sent, r.Joins, r.AddrChanges, strings.Join(r.ChurnErrors, "; ")))
	}
	if !r.ForwardingRestored {
		errs = append(errs, errors.New("multicast forwarding was not restored to its state before the stress"))
	}
	return errors.Join(errs...)
}

// Summary is the human report of a run.
func (r *HostResult) Summary() string {
	traffic := fmt.Sprintf("local traffic: sent %d datagrams, the steady receiver got %d; joins %d, leaves %d", r.Sent, r.Received, r.Joins, r.Leaves)
	if r.NoTraffic != "" {
		traffic = "no local traffic: " + r.NoTraffic
	}
	return fmt.Sprintf("%s; address changes %d; stalls: %d\n%s", traffic, r.AddrChanges, len(r.Watchdog.Stalls), r.Watchdog.Summary())
}

// RunOnHost is the stress for a host kbharness did not build (a Windows lab
// VM, an attached namespace), which has no peers of its own to source and
// receive forwarded traffic. It turns multicast forwarding on (netsh
// `set global multicastforwarding=enabled` and per-interface `forwarding=`
// on Windows, each undo journaled first; MRT_INIT and a VIF per lab link on
// Linux), then for sc.Duration sends to sc.Groups out of the first lab
// interface while local receivers join and leave them there and the churn
// addresses come and go (by the host's own address mechanism), with the
// watchdog probing the host (a snapshot round trip, and TCP echo to a
// responder on the host's first address). Everything is restored at the
// end, also when ctx ends first (then Run returns an error wrapping
// ctx.Err()).
func RunOnHost(ctx context.Context, l *lab.Lab, tl *netcfg.Timeline, step func(format string, args ...any), sc *Scenario, log io.Writer) (res *HostResult, err error) {
	res = &HostResult{}
	var cleanups []func() error
	defer func() {
		var errs []error
		for i := len(cleanups) - 1; i >= 0; i-- {
			if cerr := cleanups[i](); cerr != nil {
				errs = append(errs, cerr)
			}
		}
		if err == nil && len(errs) > 0 {
			err = fmt.Errorf("restoring the host after the stress: %w", errors.Join(errs...))
		}
	}()
	if len(l.Fixture.Links) < 1 {
		return res, fmt.Errorf("lab %s has no link to send multicast on", l.Fixture.Name)
	}
	hostDo := func(fn func() error) error { return l.Do(lab.HostRole, fn) }
	caps := l.Host.Capabilities()
	var ifnames []string
	for i := range l.Fixture.Links {
		ifnames = append(ifnames, l.Interface(i))
	}

	step("enabling multicast forwarding on %s", strings.Join(ifnames, ", "))
	restoreForwarding, err := enableForwarding(ctx, l, caps.Dialect, hostDo, ifnames)
	if err != nil {
		return res, err
	}
	restored := false
	cleanups = append(cleanups, func() error {
		if restored {
			return nil
		}
		restored = true
		err := restoreForwarding()
		res.ForwardingRestored = err == nil
		return err
	})

	step("starting the echo responder on %s and the watchdog", l.HostAddress(0, netcfg.IPv4).Addr())
	echoAddr := netip.AddrPortFrom(l.HostAddress(0, netcfg.IPv4).Addr(), sc.EchoPort)
	var ln net.Listener
	if err := hostDo(func() (err error) { ln, err = net.Listen("tcp", echoAddr.String()); return err }); err != nil {
		return res, fmt.Errorf("starting the echo responder on %s: %w", echoAddr, err)
	}
	go watchdog.ServeEcho(ln)
	cleanups = append(cleanups, ln.Close)
	snapshot := watchdog.ProbeFunc("snapshot", func(ctx context.Context) error {
		_, err := l.Host.Snapshot(ctx)
		return err
	})
	echo := watchdog.TCPEcho("tcp-echo "+echoAddr.String(), watchdog.DialFrom(l.Namespaces[lab.HostRole], echoAddr))
	stopWatchdog := watch(sc, tl, log, nil, &res.Watchdog, snapshot, echo)
	cleanups = append(cleanups, stopWatchdog)

	step("starting local traffic to %s on %s and the churn", groupList(sc.Groups), ifnames[0])
	steady, err := mcast.NewReceiver(hostDo, ifnames[0], sc.Port)
	var sender *mcast.Sender
	if err == nil {
		cleanups = append(cleanups, steady.Close)
		if err = steady.Join(sc.Groups[0]); err != nil {
			return res, err
		}
		go steady.Receive(func([]byte) { atomic.AddInt64(&res.Received, 1) })
		sender, err = mcast.NewSender(hostDo, ifnames[0], 1)
		if err == nil {
			cleanups = append(cleanups, sender.Close)
		}
	}
	switch {
	case errors.Is(err, netcfg.ErrUnsupported):
		// Forwarding, the address churn and the watchdog still run.
		res.NoTraffic = err.Error()
		fmt.Fprintf(log, "kb943650: no local multicast traffic: %v\n", err)
	case err != nil:
		return res, err
	}

	churn := newChurner(ctx, &res.ChurnErrors)
	cleanups = append(cleanups, churn.end)

	if res.NoTraffic == "" {
		churn.every(sc.SendInterval, func(int) {
			for gi, g := range sc.Groups {
				if err := sender.Send(netip.AddrPortFrom(g, sc.Port), []byte("kbharness KB943650")); err != nil {
					churn.note(fmt.Errorf("sending to %s: %w", g, err))
					continue
				}
				if gi == 0 {
					atomic.AddInt64(&res.Sent, 1)
				}
			}
		})
	}
	if res.NoTraffic == "" {
		closers, err := churn.groups(sc.ChurnReceivers, func() (*mcast.Receiver, error) {
			return mcast.NewReceiver(hostDo, ifnames[0], sc.Port)
		}, sc.Groups, sc.JoinInterval, &res.Joins, &res.Leaves)
		cleanups = append(cleanups, closers...)
		if err != nil {
			return res, err
		}
	}
	if len(sc.ChurnAddresses) > 0 {
		mech, err := addressMechanism(caps)
		if err != nil {
			return res, err
		}
		present := make([]bool, len(sc.ChurnAddresses))
		spec := func(i int) (netcfg.AddressSpec, error) {
			a := sc.ChurnAddresses[i]
			if a.Link >= len(l.Fixture.Links) {
				return netcfg.AddressSpec{}, fmt.Errorf("churnAddresses[%d].link %d: lab %s has %d links", i, a.Link, l.Fixture.Name, len(l.Fixture.Links))
			}
			return netcfg.AddressSpec{Prefix: a.Prefix, Interface: l.Interface(a.Link)}, nil
		}
		for i := range sc.ChurnAddresses {
			if _, err := spec(i); err != nil {
				return res, err
			}
		}
		// What the churn leaves (also a change whose command was cut
		// short by the end of the churn) is undone by the lab's journal
		// when the spec ends.
		churn.every(sc.AddressInterval, func(n int) {
			i := n % len(sc.ChurnAddresses)
			a, _ := spec(i)
			var err error
			if present[i] {
				err = l.Host.DeleteAddress(churn.ctx, mech, a)
			} else {
				err = l.Host.AddAddress(churn.ctx, mech, a)
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

	step("churning for %s", sc.Duration)
	select {
	case <-ctx.Done():
	case <-time.After(sc.Duration):
	}
	interrupted := ctx.Err()
	step("stopping the churn")
	churn.end()
	stopWatchdog()
	if interrupted != nil {
		return res, fmt.Errorf("KB943650 stress interrupted: %w", interrupted)
	}
	return res, nil
}

// enableForwarding turns multicast forwarding on by the dialect's means and
// returns how to restore it.
func enableForwarding(ctx context.Context, l *lab.Lab, d netcfg.Dialect, hostDo mcast.Do, ifnames []string) (func() error, error) {
	switch d {
	case netcfg.DialectWindows:
		record := func(undo []string) error {
			return l.Journal().Record(journal.Op{Kind: journal.Run, Argv: undo, Undoes: "enable multicast forwarding"})
		}
		return mcast.EnableForwarding(ctx, netcfg.Exec, record, ifnames...)
	case netcfg.DialectLinux:
		// The kernel ends multicast routing (MRT_DONE) when the socket
		// closes, also when this process dies: nothing to journal.
		router, err := mcast.Open(hostDo)
		if err != nil {
			return nil, err
		}
		for i, ifname := range ifnames {
			if err := router.AddVIF(uint16(i), ifname); err != nil {
				return nil, errors.Join(err, router.Close())
			}
		}
		return func() error {
			if err := router.Close(); err != nil {
				return err
			}
			on, err := mcast.MCForwarding(hostDo, "all")
			if err == nil && on {
				err = errors.New("net.ipv4.conf.all.mc_forwarding still 1 after MRT_DONE")
			}
			return err
		}, nil
	}
	return nil, netcfg.Unsupported("multicast forwarding", "no means known for dialect "+string(d))
}

// addressMechanism is the first address mechanism of the host's dialect it
// can use.
func addressMechanism(c netcfg.Capabilities) (netcfg.Mechanism, error) {
	for _, m := range c.Dialect.AddressMechanisms() {
		if slices.Contains(c.Mechanisms, m) {
			return m, nil
		}
	}
	return "", netcfg.Unsupported("address churn", fmt.Sprintf("no %s address mechanism works here (%v)", c.Dialect, c.Missing))
}
