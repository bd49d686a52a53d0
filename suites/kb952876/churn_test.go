package kb952876

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kbharness/kbharness/internal/tcpipreg"
	"github.com/kbharness/kbharness/netcfg"
)

func TestScenarioFixture(t *testing.T) {
	sc, err := LoadScenario()
	if err != nil {
		t.Fatal(err)
	}
	if r := sc.route(sc.Routes - 1); !benchRange.Contains(r.Dst.Addr()) || !r.Persistent {
		t.Errorf("last route %v outside %s or not persistent", r, benchRange)
	}
	if got := sc.route(300).Dst.String(); got != "198.18.1.44/32" {
		t.Errorf("route(300) = %s, want 198.18.1.44/32", got)
	}
}

// routeHost is a netcfg.Host that only counts persistent route changes and
// fails on anything else.
type routeHost struct {
	netcfg.Host
	mu      sync.Mutex
	present map[string]bool
}

func (h *routeHost) AddRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m != netcfg.RouteExe || !r.Persistent || h.present[r.Dst.String()] {
		return errors.New("unexpected add")
	}
	h.present[r.Dst.String()] = true
	return nil
}

func (h *routeHost) DeleteRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.present[r.Dst.String()] {
		return netcfg.ErrNotFound
	}
	delete(h.present, r.Dst.String())
	return nil
}

// service answers at once, or blocks stop requests until the test ends.
type service struct {
	mu       sync.Mutex
	state    tcpipreg.State
	hangStop bool
	release  chan struct{}
}

func (s *service) Query() (tcpipreg.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, nil
}

func (s *service) Stop() error {
	if s.hangStop {
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = tcpipreg.Stopped
	return nil
}

func (s *service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = tcpipreg.Running
	return nil
}

func churnScenario(t *testing.T) *Scenario {
	sc, err := LoadScenario()
	if err != nil {
		t.Fatal(err)
	}
	sc.Timeout, sc.QueryInterval = 200*time.Millisecond, 5*time.Millisecond
	return sc
}

func TestChurnWithAHealthyService(t *testing.T) {
	sc := churnScenario(t)
	h := &routeHost{present: map[string]bool{}}
	svc := &service{state: tcpipreg.Running, release: make(chan struct{})}
	res := Churn(context.Background(), h, tcpipreg.Bounded{C: svc, Timeout: sc.Timeout}, sc, io.Discard)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if res.Adds != int64(sc.Routes) || res.Deletes != int64(sc.Routes) || len(h.present) != 0 {
		t.Fatalf("adds %d deletes %d, %d left; want %d each, none left (%v)", res.Adds, res.Deletes, len(h.present), sc.Routes, res.RouteErrors)
	}
	if len(res.Cycles) != sc.Cycles || res.Queries == 0 {
		t.Fatalf("cycles %d queries %d", len(res.Cycles), res.Queries)
	}
	t.Log(res.Summary())
}

// A stop request that never returns is reported as "Tcpipreg not
// responding" after the bound, and the churn still finishes.
func TestChurnWithAHangingService(t *testing.T) {
	sc := churnScenario(t)
	h := &routeHost{present: map[string]bool{}}
	svc := &service{state: tcpipreg.Running, hangStop: true, release: make(chan struct{})}
	defer close(svc.release)
	res := Churn(context.Background(), h, tcpipreg.Bounded{C: svc, Timeout: sc.Timeout}, sc, io.Discard)
	err := res.Err()
	if !errors.Is(err, tcpipreg.ErrNotResponding) {
		t.Fatalf("Err() = %v, want Tcpipreg not responding", err)
	}
	if n := strings.Count(err.Error(), "stop request did not complete within 200ms"); n != sc.Cycles {
		t.Fatalf("%d stop timeouts reported, want %d:\n%v", n, sc.Cycles, err)
	}
	if res.Adds != int64(sc.Routes) || len(h.present) != 0 {
		t.Fatalf("churn did not finish: adds %d, %d left", res.Adds, len(h.present))
	}
}
