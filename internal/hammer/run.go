package hammer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Run hammers cfg.Target and returns every outcome counted. It stops by
// itself after cfg.Count attempts or cfg.Duration (capped by MaxCount and
// MaxDuration), or when ctx ends; a narrowed port range is restored before
// it returns, also when ctx is cancelled by a signal handler. When ctx ends
// the run early, every worker stops after its attempt in flight (each
// bounded by cfg.Timeout, microseconds in a lab) and Run returns the counts
// so far with an error wrapping ctx.Err(): an interrupted run proves
// nothing.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := supported(&cfg); err != nil {
		return nil, err
	}
	res = &Result{Mode: cfg.Mode, Close: cfg.Close}
	var l *listener
	if err := inNetns(cfg.Netns, func() (err error) { l, err = listen(&cfg); return err }); err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Target, err)
	}
	defer l.close()
	res.Target = l.addr

	if !cfg.PortRange.IsZero() {
		if err := waitQuiet(ctx, cfg.Netns, cfg.PortRange, l.addr.Port(), cfg.QuietWait); err != nil {
			return nil, err
		}
		if cfg.BeforeRangeChange != nil {
			old, err := getPortRange(cfg.Netns)
			if err == nil {
				err = cfg.BeforeRangeChange(restoreRangeArgv(old))
			}
			if err != nil {
				return nil, fmt.Errorf("recording how to restore the dynamic port range: %w", err)
			}
		}
		restore, err := setPortRange(cfg.Netns, cfg.PortRange)
		if err != nil {
			return nil, fmt.Errorf("narrowing the dynamic port range to %s: %w", cfg.PortRange, err)
		}
		defer func() {
			if rerr := restore(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("restoring the dynamic port range: %w", rerr))
			}
		}()
	}
	if r, err := getPortRange(cfg.Netns); err == nil {
		res.PortRange = r
	}

	e := &engine{cfg: &cfg, target: l.addr, workers: make([]*workerState, cfg.Workers)}
	if cfg.Count > 0 {
		e.remaining.Store(int64(cfg.Count))
	}

	// Workers enter the namespace and make their client first; the clock
	// starts when all are ready, as a plain C loop's would.
	var (
		wg    sync.WaitGroup
		ready sync.WaitGroup
		begin = make(chan struct{})
		errs  = make([]error, cfg.Workers)
	)
	for i := range cfg.Workers {
		e.workers[i] = &workerState{}
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			isReady := sync.OnceFunc(ready.Done)
			defer isReady() // a worker that failed before the barrier
			errs[i] = inNetns(cfg.Netns, func() error { return e.work(e.workers[i], isReady, begin) })
		}()
	}
	ready.Wait()
	e.start = time.Now()

	runCtx, cancel := context.WithTimeout(ctx, cfg.duration())
	defer cancel()
	go func() { <-runCtx.Done(); e.stop.Store(true) }()

	var serverWG sync.WaitGroup
	for range cfg.Workers {
		serverWG.Add(1)
		go func() { defer serverWG.Done(); l.serve(e) }()
	}
	censusDone := make(chan struct{})
	if cfg.CensusEvery >= 0 {
		go e.censusLoop(runCtx, censusDone)
	} else {
		close(censusDone)
	}
	progressDone := make(chan struct{})
	if cfg.Progress != nil {
		go e.progressLoop(runCtx, progressDone)
	} else {
		close(progressDone)
	}
	close(begin)

	wg.Wait()
	res.Elapsed = time.Since(e.start)
	// ctx, not the run's own budget, ended it.
	interrupted := ctx.Err()
	e.stop.Store(true)
	cancel()
	l.shutdown()
	serverWG.Wait()
	<-censusDone
	<-progressDone
	e.finalCensus()
	e.fill(res)
	if ev, err := tcpipEvents(ctx, e.start, time.Now()); err != nil {
		res.EventsErr = err.Error()
	} else {
		res.Events = ev
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("running workers: %w", err)
	}
	if interrupted != nil {
		return res, fmt.Errorf("hammer interrupted after %d attempts in %s: %w", res.Attempts, res.Elapsed.Round(time.Millisecond), interrupted)
	}
	return res, nil
}

type engine struct {
	cfg       *Config
	target    netip.AddrPort
	start     time.Time
	stop      atomic.Bool
	remaining atomic.Int64 // attempts left when cfg.Count > 0
	workers   []*workerState

	mu         sync.Mutex
	census     CensusStats
	serverErrs int64
	serverErr  *Example
}

type workerState struct {
	counts [numClasses]atomic.Int64
	first  [numClasses]*Example
	_      [64]byte // keep workers' counters on their own cache lines
}

// claim reserves one attempt; false when the run is over.
func (e *engine) claim() bool {
	if e.stop.Load() {
		return false
	}
	return e.cfg.Count == 0 || e.remaining.Add(-1) >= 0
}

// work runs one worker's loop: it makes its client, reports ready, waits
// for begin, then attempts connections until the budget is spent.
func (e *engine) work(w *workerState, ready func(), begin <-chan struct{}) error {
	c, err := newClient(e.cfg, e.target)
	if err != nil {
		return err
	}
	defer c.free()
	ready()
	<-begin
	needPort := func(class Class) bool { return w.first[class] == nil }
	for e.claim() {
		op, port, err := c.attempt(needPort)
		class := ClassSuccess
		if err != nil {
			class = classify(err)
		}
		w.counts[class].Add(1)
		if w.first[class] == nil {
			ex := &Example{LocalPort: port, At: time.Since(e.start)}
			if err != nil {
				ex.Op, ex.Err = op, err.Error()
			}
			w.first[class] = ex
		}
	}
	return nil
}

// serverError records an accept or read error on the listener side.
func (e *engine) serverError(op string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.serverErrs++
	if e.serverErr == nil {
		e.serverErr = &Example{Op: op, Err: err.Error(), At: time.Since(e.start)}
	}
}

func (e *engine) counts() (total int64, counts [numClasses]int64) {
	for _, w := range e.workers {
		if w == nil {
			continue
		}
		for c := range counts {
			n := w.counts[c].Load()
			counts[c] += n
			total += n
		}
	}
	return total, counts
}

func (e *engine) sampleCensus(probe func() (Census, error)) {
	c, err := probe()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		if e.census.Err == "" {
			e.census.Err = err.Error()
		}
		return
	}
	e.census.Samples++
	e.census.Last = c
	e.census.MaxTimeWait = max(e.census.MaxTimeWait, c["TIME_WAIT"])
	e.census.MaxClosing = max(e.census.MaxClosing, c.Closing())
}

func (e *engine) censusLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	every := e.cfg.CensusEvery
	if every == 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.sampleCensus(func() (Census, error) { return census(e.cfg.Netns, e.target) })
		}
	}
}

// finalCensus takes one sample after the workers stop, when TIME_WAIT is
// at its height.
func (e *engine) finalCensus() {
	if e.cfg.CensusEvery < 0 {
		return
	}
	e.sampleCensus(func() (Census, error) { return census(e.cfg.Netns, e.target) })
}

func (e *engine) progressLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	lastAt := e.start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			total, counts := e.counts()
			p := Progress{Elapsed: now.Sub(e.start), Attempts: total, Counts: counts}
			if dt := now.Sub(lastAt).Seconds(); dt > 0 {
				p.Rate = float64(total-last) / dt
			}
			last, lastAt = total, now
			e.mu.Lock()
			p.Census = e.census.Last
			e.mu.Unlock()
			e.cfg.Progress(p)
		}
	}
}

func (e *engine) fill(r *Result) {
	r.Attempts, r.Counts = e.counts()
	for _, w := range e.workers {
		for c, ex := range w.first {
			if ex != nil && (r.First[c] == nil || ex.At < r.First[c].At) {
				r.First[c] = ex
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r.Census = e.census
	r.ServerErrs, r.ServerErr = e.serverErrs, e.serverErr
}

// waitQuiet polls (every 100ms, for up to window) until no TCP socket has a
// local port in r: sockets an earlier run left in TIME_WAIT would fill the
// narrowed range before the first connect. The run's own listener (port
// own, chosen before the range narrows, so possibly inside it) is not
// counted.
func waitQuiet(ctx context.Context, netns string, r PortRange, own uint16, window time.Duration) error {
	if window == 0 {
		return nil
	}
	deadline := time.Now().Add(window)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		busy, err := socketsInRange(netns, r, own)
		if err != nil {
			return fmt.Errorf("checking that ports %s are free: %w", r, err)
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ports %s still hold %d TCP sockets after %s (TIME_WAIT of an earlier run, or another program): the narrowed range would be full before the first connect", r, busy, window)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for ports %s to be free: %w", r, ctx.Err())
		case <-tick.C:
		}
	}
}
