package kb952876

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kbharness/kbharness/internal/tcpipreg"
	"github.com/kbharness/kbharness/netcfg"
)

// Result is what one churn saw.
type Result struct {
	Adds, Deletes  int64
	RouteErrors    []string // first few route change errors
	Queries        int
	QueryLatencies []time.Duration // sorted
	Cycles         []tcpipreg.Cycle
	// NotResponding are the requests that did not complete within the bound.
	NotResponding []error
	// ServiceErrors are requests that failed otherwise (refused, ...).
	ServiceErrors []error
}

// Err is "Tcpipreg not responding" with every request that timed out, or
// nil.
func (r *Result) Err() error {
	if len(r.NotResponding) == 0 {
		return nil
	}
	lines := make([]string, len(r.NotResponding))
	for i, e := range r.NotResponding {
		lines[i] = e.Error()
	}
	return fmt.Errorf("%w during route churn (%d adds, %d deletes): %d request(s) timed out:\n%s",
		tcpipreg.ErrNotResponding, r.Adds, r.Deletes, len(lines), strings.Join(lines, "\n"))
}

// Summary is the human report of a churn.
func (r *Result) Summary() string {
	p := func(q float64) time.Duration {
		if len(r.QueryLatencies) == 0 {
			return 0
		}
		return r.QueryLatencies[int(q*float64(len(r.QueryLatencies)-1))]
	}
	return fmt.Sprintf("route adds %d, deletes %d; service queries %d (p50 %s, p99 %s); stop/start cycles %d; not responding %d; other service errors %d",
		r.Adds, r.Deletes, r.Queries, p(0.5), p(0.99), len(r.Cycles), len(r.NotResponding), len(r.ServiceErrors))
}

// Churn adds sc.Routes persistent routes by sc.Mechanism, deleting each
// sc.Window routes later, while it queries the service every
// sc.QueryInterval and runs sc.Cycles stop/start cycles spread over the
// churn, every request bounded by svc.Timeout. It removes what it added.
func Churn(ctx context.Context, h netcfg.Host, svc tcpipreg.Bounded, sc *Scenario, log io.Writer) *Result {
	res := &Result{}
	var mu sync.Mutex
	note := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, tcpipreg.ErrNotResponding) {
			res.NotResponding = append(res.NotResponding, err)
			fmt.Fprintf(log, "kb952876: %v\n", err)
		} else {
			res.ServiceErrors = append(res.ServiceErrors, err)
		}
	}
	routeErr := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(res.RouteErrors) < 5 {
			res.RouteErrors = append(res.RouteErrors, err.Error())
		}
	}

	var progress atomic.Int64
	progressed := make(chan struct{}, 1)
	churnDone := make(chan struct{})
	go func() {
		defer close(churnDone)
		del := func(i int) {
			if err := h.DeleteRoute(ctx, sc.Mechanism, sc.route(i)); err != nil {
				routeErr(err)
				return
			}
			atomic.AddInt64(&res.Deletes, 1)
		}
		for i := 0; i < sc.Routes && ctx.Err() == nil; i++ {
			if err := h.AddRoute(ctx, sc.Mechanism, sc.route(i)); err != nil {
				routeErr(err)
			} else {
				atomic.AddInt64(&res.Adds, 1)
			}
			if i >= sc.Window {
				del(i - sc.Window)
			}
			progress.Store(int64(i + 1))
			select {
			case progressed <- struct{}{}:
			default:
			}
		}
		for i := max(0, sc.Routes-sc.Window); i < sc.Routes; i++ {
			del(i)
		}
	}()

	queryCtx, stopQueries := context.WithCancel(ctx)
	queriesDone := make(chan struct{})
	go func() {
		defer close(queriesDone)
		t := time.NewTicker(sc.QueryInterval)
		defer t.Stop()
		for {
			t0 := time.Now()
			_, err := svc.Query(queryCtx)
			if queryCtx.Err() != nil {
				return
			}
			mu.Lock()
			res.Queries++
			if err == nil {
				res.QueryLatencies = append(res.QueryLatencies, time.Since(t0))
			}
			mu.Unlock()
			if err != nil {
				note(err)
			}
			select {
			case <-queryCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	// Cycle c runs once the churn has added (c+1)/(Cycles+1) of its routes.
	for c := 0; c < sc.Cycles; c++ {
		mark := int64((c + 1) * sc.Routes / (sc.Cycles + 1))
		for progress.Load() < mark {
			select {
			case <-progressed:
			case <-churnDone:
				mark = 0
			}
		}
		cy, err := svc.StopStart(ctx)
		if err != nil {
			note(err)
			continue
		}
		res.Cycles = append(res.Cycles, cy)
	}
	<-churnDone
	stopQueries()
	<-queriesDone
	sort.Slice(res.QueryLatencies, func(i, j int) bool { return res.QueryLatencies[i] < res.QueryLatencies[j] })
	return res
}
