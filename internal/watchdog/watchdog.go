// Package watchdog watches a host's liveness while a stress runs. Every
// interval it runs a set of probes (a netlink or iphlpapi route read, a TCP
// echo across a lab link), each with its own deadline, records their
// latency, and reports a stall — a span with no successful probe longer
// than a threshold — while it is still going on, with its start, length and
// the scenario step that was running.
package watchdog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Probe is one liveness check. Check should return by ctx's deadline; the
// watchdog stops waiting for it at the deadline either way.
type Probe interface {
	Name() string
	Check(ctx context.Context) error
}

// ProbeFunc makes a Probe from a name and a function.
func ProbeFunc(name string, check func(ctx context.Context) error) Probe {
	return funcProbe{name, check}
}

type funcProbe struct {
	name  string
	check func(ctx context.Context) error
}

func (p funcProbe) Name() string                    { return p.name }
func (p funcProbe) Check(ctx context.Context) error { return p.check(ctx) }

// Defaults of Config.
const (
	DefaultInterval  = 100 * time.Millisecond
	DefaultThreshold = 2 * time.Second
	DefaultTimeout   = 500 * time.Millisecond
)

// Config tunes a Watchdog. Zero fields take the defaults above.
type Config struct {
	Interval  time.Duration // between the starts of two checks of one probe
	Threshold time.Duration // a stall longer than this fails the run
	Timeout   time.Duration // each check's own deadline
	// Step names what is running (e.g. Timeline.CurrentStep); may be nil.
	Step func() string
	// OnStall is called once per stall, from the watchdog's goroutine, as
	// soon as the stall passes Threshold — while it is still going on.
	OnStall func(Stall)
	// OnRecover is called when a stall passed to OnStall ends, with its
	// closed window.
	OnRecover func(Stall)
}

// Stall is a span during which one probe got no successful answer.
type Stall struct {
	Probe string
	// Start is the end of the last successful check before the stall (or
	// the watchdog's start): the last time the host was known alive.
	Start time.Time
	// End is the end of the first successful check after it; zero while
	// the stall goes on. Stop closes a running stall at the stop time.
	End time.Time
	// Detected is when the watchdog saw the stall pass the threshold.
	Detected time.Time
	// Ongoing: the stall had not ended when the watchdog stopped.
	Ongoing bool
	Step    string // the step running when the first check failed
	LastErr string // the last check error seen during the stall
	origin  time.Time
}

// Length is End-Start, or now-Start while the stall goes on.
func (s Stall) Length() time.Duration {
	if s.End.IsZero() {
		return time.Since(s.Start)
	}
	return s.End.Sub(s.Start)
}

func (s Stall) String() string {
	end := "still stalled"
	if !s.End.IsZero() {
		end = "to " + s.End.Format("15:04:05.000")
		if s.Ongoing {
			end += " (still stalled at stop)"
		}
	}
	rel := ""
	if !s.origin.IsZero() {
		rel = fmt.Sprintf(" (+%.3fs into the run)", s.Start.Sub(s.origin).Seconds())
	}
	return fmt.Sprintf("stall of %.3fs on probe %s, from %s%s %s, during step %q: last error: %s",
		s.Length().Seconds(), s.Probe, s.Start.Format("15:04:05.000"), rel, end, s.Step, s.LastErr)
}

// ProbeStats are one probe's latencies over a run (successful checks only).
type ProbeStats struct {
	Probe    string
	Checks   int
	Failures int
	P50, P99 time.Duration
	Max      time.Duration
}

func (s ProbeStats) String() string {
	return fmt.Sprintf("%s: %d checks, %d failed, p50 %s, p99 %s, max %s",
		s.Probe, s.Checks, s.Failures, s.P50, s.P99, s.Max)
}

// Report is what a Watchdog saw from Start to Stop.
type Report struct {
	Started, Stopped time.Time
	Threshold        time.Duration
	Probes           []ProbeStats
	Stalls           []Stall // longer than Threshold, in start order
}

// Err is nil without stalls, else an error naming every stall's window.
func (r Report) Err() error {
	if len(r.Stalls) == 0 {
		return nil
	}
	lines := make([]string, len(r.Stalls))
	for i, s := range r.Stalls {
		lines[i] = s.String()
	}
	return fmt.Errorf("%w: %d stall(s) longer than %s:\n%s", ErrStall, len(r.Stalls), r.Threshold, strings.Join(lines, "\n"))
}

// Summary is one line per probe, for the suite report.
func (r Report) Summary() string {
	lines := make([]string, len(r.Probes))
	for i, p := range r.Probes {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// ErrStall matches Report.Err with errors.Is.
var ErrStall = errors.New("host stopped responding")

// Watchdog runs probes until Stop.
type Watchdog struct {
	cfg     Config
	started time.Time
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.Mutex
	probes []*probeState
}

type probeState struct {
	name      string
	latencies []time.Duration
	checks    int
	failures  int
	lastOK    time.Time
	current   *Stall // open since the first failed check after lastOK
	reported  bool   // current was passed to OnStall
	stalls    []Stall
}

// Start begins probing in the background.
func Start(cfg Config, probes ...Probe) *Watchdog {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultThreshold
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watchdog{cfg: cfg, started: time.Now(), cancel: cancel}
	for _, p := range probes {
		st := &probeState{name: p.Name(), lastOK: w.started}
		w.probes = append(w.probes, st)
		w.wg.Add(1)
		go w.run(ctx, p, st)
	}
	w.wg.Add(1)
	go w.monitor(ctx)
	return w
}

func (w *Watchdog) step() string {
	if w.cfg.Step == nil {
		return ""
	}
	return w.cfg.Step()
}

// run checks one probe every interval. A check that ignores its deadline is
// not restarted while it is still out: its late answer is awaited instead.
// When the watchdog stops, a check still out gets one more Timeout to
// return, so a probe that honours its deadline is not in use after Stop
// (the caller may close it).
func (w *Watchdog) run(ctx context.Context, p Probe, st *probeState) {
	defer w.wg.Done()
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	var pending chan error
	defer func() {
		if pending != nil {
			select {
			case <-pending:
			case <-time.After(w.cfg.Timeout):
			}
		}
	}()
	for {
		begin := time.Now()
		cctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
		if pending == nil {
			pending = make(chan error, 1)
			go func(ch chan error) { ch <- p.Check(cctx) }(pending)
		}
		var err error
		select {
		case err = <-pending:
			pending = nil
		case <-cctx.Done():
			err = fmt.Errorf("no answer within %s", w.cfg.Timeout)
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		if ended, ok := w.record(st, begin, time.Now(), err); ok && w.cfg.OnRecover != nil {
			w.cfg.OnRecover(ended)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// record notes one check's result. It returns a stall that was reported to
// OnStall and has now ended.
func (w *Watchdog) record(st *probeState, begin, end time.Time, err error) (ended Stall, wasReported bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st.checks++
	if err == nil {
		st.latencies = append(st.latencies, end.Sub(begin))
		if st.current != nil {
			st.current.End = end
			if st.current.End.Sub(st.current.Start) > w.cfg.Threshold {
				st.stalls = append(st.stalls, *st.current)
			}
			ended, wasReported = *st.current, st.reported
			st.current, st.reported = nil, false
		}
		st.lastOK = end
		return ended, wasReported
	}
	st.failures++
	if st.current == nil {
		st.current = &Stall{Probe: st.name, Start: st.lastOK, Step: w.step(), origin: w.started}
	}
	st.current.LastErr = err.Error()
	return Stall{}, false
}

// monitor notices a stall passing the threshold while it goes on, even
// when the probe's check itself hangs.
func (w *Watchdog) monitor(ctx context.Context) {
	defer w.wg.Done()
	tick := time.NewTicker(w.cfg.Interval / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			var found []Stall
			w.mu.Lock()
			for _, st := range w.probes {
				if now.Sub(st.lastOK) <= w.cfg.Threshold || st.reported {
					continue
				}
				if st.current == nil { // the check in flight has not failed yet
					st.current = &Stall{Probe: st.name, Start: st.lastOK, Step: w.step(), origin: w.started,
						LastErr: fmt.Sprintf("check still running after %s", now.Sub(st.lastOK).Round(time.Millisecond))}
				}
				st.current.Detected = now
				st.reported = true
				found = append(found, *st.current)
			}
			w.mu.Unlock()
			if w.cfg.OnStall != nil {
				for _, s := range found {
					w.cfg.OnStall(s)
				}
			}
		}
	}
}

// Stop ends probing and returns the report, within one Timeout (the wait
// for a check still out). A stall still open is closed at the stop time and
// marked Ongoing.
func (w *Watchdog) Stop() Report {
	w.cancel()
	w.wg.Wait()
	now := time.Now()
	r := Report{Started: w.started, Stopped: now, Threshold: w.cfg.Threshold}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.probes {
		if st.current != nil {
			s := *st.current
			s.End, s.Ongoing = now, true
			if s.End.Sub(s.Start) > w.cfg.Threshold {
				st.stalls = append(st.stalls, s)
			}
			st.current = nil
		}
		r.Stalls = append(r.Stalls, st.stalls...)
		r.Probes = append(r.Probes, stats(st))
	}
	sort.Slice(r.Stalls, func(i, j int) bool { return r.Stalls[i].Start.Before(r.Stalls[j].Start) })
	return r
}

func stats(st *probeState) ProbeStats {
	s := ProbeStats{Probe: st.name, Checks: st.checks, Failures: st.failures}
	l := append([]time.Duration(nil), st.latencies...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	s.P50, s.P99 = Percentile(l, 50), Percentile(l, 99)
	if len(l) > 0 {
		s.Max = l[len(l)-1]
	}
	return s
}

// Percentile returns the p-th percentile (nearest rank) of sorted, 0 if empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return sorted[rank]
}
