package tcpipreg

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeService is a service whose requests can hang: a hung request blocks
// until the test ends (release), like `net stop tcpipreg` in KB952876.
type fakeService struct {
	mu      sync.Mutex
	state   State
	pending int // queries left before a pending state settles
	hang    map[string]bool
	stuck   bool // a stop never leaves StopPending
	err     error
	release chan struct{}
}

func newFake(t *testing.T) *fakeService {
	f := &fakeService{state: Running, hang: map[string]bool{}, release: make(chan struct{})}
	t.Cleanup(func() { close(f.release) })
	return f
}

func (f *fakeService) block(what string) {
	f.mu.Lock()
	h := f.hang[what]
	f.mu.Unlock()
	if h {
		<-f.release
	}
}

func (f *fakeService) Query() (State, error) {
	f.block("query")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending > 0 {
		if f.pending--; f.pending == 0 {
			switch {
			case f.state == StopPending && !f.stuck:
				f.state = Stopped
			case f.state == StartPending:
				f.state = Running
			}
		}
	}
	return f.state, nil
}

func (f *fakeService) Stop() error {
	f.block("stop")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.state, f.pending = StopPending, 3
	return nil
}

func (f *fakeService) Start() error {
	f.block("start")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.pending = StartPending, 2
	return nil
}

const bound = 150 * time.Millisecond

func TestStopStartCycle(t *testing.T) {
	f := newFake(t)
	b := Bounded{C: f, Timeout: bound, Poll: 5 * time.Millisecond}
	c, err := b.StopStart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Query(); s != Running {
		t.Fatalf("state after the cycle = %s, want running", s)
	}
	t.Logf("cycle %+v", c)
}

func TestHangingRequestsAreNotResponding(t *testing.T) {
	for _, c := range []struct {
		name, hang string
		run        func(b Bounded) error
		want       string
	}{
		{"query", "query", func(b Bounded) error { _, err := b.Query(context.Background()); return err },
			"Tcpipreg not responding: query did not complete within 150ms"},
		{"stop", "stop", func(b Bounded) error { _, err := b.StopStart(context.Background()); return err },
			"stop/start cycle of tcpipreg: stop request: Tcpipreg not responding: stop request did not complete within 150ms"},
		{"start", "start", func(b Bounded) error { _, err := b.StopStart(context.Background()); return err },
			"stop/start cycle of tcpipreg: start request: Tcpipreg not responding: start request did not complete within 150ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.hang[c.hang] = true
			t0 := time.Now()
			err := c.run(Bounded{C: f, Timeout: bound, Poll: 5 * time.Millisecond})
			took := time.Since(t0)
			if !errors.Is(err, ErrNotResponding) || err.Error() != c.want {
				t.Fatalf("err = %v\nwant %s (matching ErrNotResponding)", err, c.want)
			}
			if took < bound || took > bound+500*time.Millisecond {
				t.Errorf("gave up after %v, want about %v", took, bound)
			}
		})
	}
}

func TestServiceStuckStopping(t *testing.T) {
	f := newFake(t)
	f.stuck = true
	_, err := Bounded{C: f, Timeout: bound, Poll: 5 * time.Millisecond}.StopStart(context.Background())
	if !errors.Is(err, ErrNotResponding) || !strings.Contains(err.Error(), "wait for stopped: Tcpipreg not responding: still stop-pending, not stopped") {
		t.Fatalf("err = %v", err)
	}
}

func TestRefusedRequestIsNotATimeout(t *testing.T) {
	f := newFake(t)
	f.err = errors.New("Access is denied.")
	_, err := Bounded{C: f, Timeout: bound}.StopStart(context.Background())
	if err == nil || errors.Is(err, ErrNotResponding) || !strings.Contains(err.Error(), "stop request of tcpipreg: Access is denied.") {
		t.Fatalf("err = %v, want the refusal, not a timeout", err)
	}
}

func TestComparePersistent(t *testing.T) {
	data, err := os.ReadFile("../../netcfg/routeexe/testdata/20-jc-fixture-win10-hyperv-vmware-crlf-persistent-157.txt")
	if err != nil {
		t.Fatal(err)
	}
	routePrint := string(data)
	m, err := ComparePersistent([]string{"157.0.0.0,255.0.0.0,157.55.80.1,3"}, routePrint)
	if err != nil || !m.Empty() {
		t.Fatalf("matching views: %+v, %v", m, err)
	}
	m, err = ComparePersistent([]string{"157.0.0.0,255.0.0.0,157.55.80.1,3", "198.18.0.7,255.255.255.255,192.0.2.1,-1"}, routePrint)
	if err != nil || len(m.OnlyRegistry) != 1 || len(m.OnlyOther) != 0 {
		t.Fatalf("registry has an extra route: %+v, %v", m, err)
	}
	m, err = ComparePersistent(nil, routePrint)
	if err != nil || len(m.OnlyOther) != 1 {
		t.Fatalf("registry lost the route: %+v, %v", m, err)
	}
	if _, err := ComparePersistent([]string{"157.0.0.0,255.0.0.0"}, routePrint); err == nil || !strings.Contains(err.Error(), "157.0.0.0,255.0.0.0") {
		t.Fatalf("bad value name: err = %v", err)
	}
	data, err = os.ReadFile("../../netcfg/routeexe/testdata/16-jc-fixture-win2008-route-print-persistent-default.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err = ComparePersistent([]string{"0.0.0.0,0.0.0.0,192.168.23.1,-1"}, string(data))
	if err != nil || !m.Empty() {
		t.Fatalf("Default metric: %+v, %v", m, err)
	}
}
