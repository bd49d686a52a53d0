package watchdog

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperModes turn this test binary into a helper process when their
// environment variable is set (see responder_linux_test.go); each returns at
// once otherwise.
var helperModes []func()

func TestMain(m *testing.M) {
	ServeIfResponder() // lets root tests re-exec this binary as the responder
	for _, h := range helperModes {
		h()
	}
	os.Exit(m.Run())
}

// gate blocks checks while closed; open releases them.
type gate struct {
	mu   sync.Mutex
	open chan struct{}
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.open)
}

func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func testConfig(onStall func(Stall)) Config {
	return Config{Interval: 10 * time.Millisecond, Threshold: 300 * time.Millisecond, Timeout: 50 * time.Millisecond,
		Step: func() string { return "churn" }, OnStall: onStall}
}

func TestHealthyProbesReportNoStall(t *testing.T) {
	done := make(chan struct{})
	var n int
	var mu sync.Mutex
	p := ProbeFunc("fast", func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 20 {
			close(done)
		}
		return nil
	})
	w := Start(testConfig(nil), p)
	<-done
	r := w.Stop()
	if err := r.Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
	// The 20th check may be cut off by Stop before it is recorded.
	if len(r.Probes) != 1 || r.Probes[0].Checks < 19 || r.Probes[0].Failures != 0 {
		t.Fatalf("stats = %+v, want >= 19 checks, 0 failures", r.Probes)
	}
}

// A probe that hangs past its deadline (and ignores it) is reported as a
// stall while it still hangs, and closed with the right window once it
// answers again.
func TestHangingProbeIsDetectedWhileItHangs(t *testing.T) {
	g := newGate()
	p := ProbeFunc("hang", func(ctx context.Context) error { return g.wait(context.Background()) })
	detected := make(chan Stall, 1)
	w := Start(testConfig(func(s Stall) { detected <- s }), p)
	defer w.Stop()

	g.shut()
	shutAt := time.Now()
	var s Stall
	select {
	case s = <-detected:
	case <-time.After(5 * time.Second):
		t.Fatal("no stall reported within 5s of the probe hanging")
	}
	if !s.End.IsZero() {
		t.Fatalf("stall reported with End %v, want an open stall", s.End)
	}
	if s.Step != "churn" || s.Probe != "hang" {
		t.Fatalf("stall = %+v, want probe hang in step churn", s)
	}
	g.release()
	releasedAt := time.Now()
	r := w.Stop()
	if len(r.Stalls) != 1 {
		t.Fatalf("stalls = %v, want 1", r.Stalls)
	}
	got := r.Stalls[0]
	if d := shutAt.Sub(got.Start); d < 0 || d > 100*time.Millisecond {
		t.Errorf("stall start %v is %v before the hang began; want within 100ms", got.Start, d)
	}
	if !got.Ongoing {
		if d := got.End.Sub(releasedAt); d < -10*time.Millisecond || d > 200*time.Millisecond {
			t.Errorf("stall end %v is %v after release; want within 200ms", got.End, d)
		}
	}
	if !errors.Is(r.Err(), ErrStall) || !strings.Contains(r.Err().Error(), "on probe hang") {
		t.Errorf("Err() = %v, want ErrStall naming the probe", r.Err())
	}
}

func TestShortOutageUnderThresholdIsNotAStall(t *testing.T) {
	var mu sync.Mutex
	fail := 0
	done := make(chan struct{})
	p := ProbeFunc("flaky", func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		fail++
		switch {
		case fail >= 3 && fail < 8: // about 50ms of failures
			return errors.New("refused")
		case fail == 15:
			close(done)
		}
		return nil
	})
	w := Start(testConfig(func(s Stall) { t.Errorf("OnStall(%v) for a short outage", s) }), p)
	<-done
	r := w.Stop()
	if len(r.Stalls) != 0 {
		t.Fatalf("stalls = %v, want none", r.Stalls)
	}
	if r.Probes[0].Failures != 5 {
		t.Fatalf("failures = %d, want 5", r.Probes[0].Failures)
	}
}

// pausableEcho is an in-process loopback echo server that stops echoing
// while its gate is shut, like a SIGSTOPped responder.
func pausableEcho(t *testing.T, g *gate) net.Addr {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 8)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					g.wait(context.Background())
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr()
}

func TestTCPEchoStallWindow(t *testing.T) {
	g := newGate()
	addr := pausableEcho(t, g)
	p := TCPEcho("tcp-echo", func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr.String())
	})
	defer p.(*tcpEcho).Close()
	detected, recovered := make(chan Stall, 1), make(chan Stall, 1)
	cfg := testConfig(func(s Stall) { detected <- s })
	cfg.OnRecover = func(s Stall) { recovered <- s }
	w := Start(cfg, p)
	defer w.Stop()

	g.shut()
	<-detected
	g.release()
	releasedAt := time.Now()
	<-recovered
	r := w.Stop()
	if len(r.Stalls) != 1 {
		t.Fatalf("stalls = %v, want 1", r.Stalls)
	}
	s := r.Stalls[0]
	if s.Length() < 300*time.Millisecond {
		t.Errorf("stall length %v, want > threshold", s.Length())
	}
	if !s.Ongoing && s.End.Before(releasedAt) {
		t.Errorf("stall ended %v, before the release at %v", s.End, releasedAt)
	}
	if r.Probes[0].P50 <= 0 || r.Probes[0].P99 < r.Probes[0].P50 {
		t.Errorf("latencies p50 %v p99 %v", r.Probes[0].P50, r.Probes[0].P99)
	}
}

// readSignal is a connection that closes reading on its first Read.
type readSignal struct {
	net.Conn
	once    sync.Once
	reading chan struct{}
}

func (c *readSignal) Read(b []byte) (int, error) {
	c.once.Do(func() { close(c.reading) })
	return c.Conn.Read(b)
}

// stopBound is how long Stop may take with a check in flight: a
// correctness bound (Ctrl-C stops a stress within a second), not a
// performance target.
const stopBound = time.Second

// Stop cuts a TCP echo in flight short: waiting on a paused responder, it
// returns when the watchdog stops, not at its 10s deadline.
func TestStopCutsAnEchoInFlightShort(t *testing.T) {
	g := newGate()
	addr := pausableEcho(t, g)
	defer g.release()
	reading := make(chan struct{})
	p := TCPEcho("tcp-echo", func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr.String())
		if err != nil {
			return nil, err
		}
		return &readSignal{Conn: c, reading: reading}, nil
	})
	defer p.(*tcpEcho).Close()
	g.shut()
	w := Start(Config{Interval: 10 * time.Millisecond, Threshold: 20 * time.Second, Timeout: 10 * time.Second}, p)
	<-reading // the first check waits for an echo that does not come
	begin := time.Now()
	r := w.Stop()
	if took := time.Since(begin); took > stopBound {
		t.Fatalf("Stop took %s with an echo in flight, want < %s", took, stopBound)
	} else {
		t.Logf("Stop returned %s after it was called", took)
	}
	if r.Probes[0].Checks != 0 || len(r.Stalls) != 0 {
		t.Errorf("report %+v: the check cut short by Stop is not a result", r)
	}
}

// A check that ignores its context holds Stop for at most one Timeout.
func TestStopWaitsAtMostATimeoutForAHungCheck(t *testing.T) {
	g := newGate()
	g.shut()
	defer g.release()
	entered := make(chan struct{}, 1)
	p := ProbeFunc("hang", func(ctx context.Context) error {
		entered <- struct{}{}
		return g.wait(context.Background())
	})
	cfg := Config{Interval: 10 * time.Millisecond, Threshold: 20 * time.Second, Timeout: 200 * time.Millisecond}
	w := Start(cfg, p)
	<-entered
	begin := time.Now()
	w.Stop()
	if took := time.Since(begin); took > cfg.Timeout+stopBound/2 {
		t.Fatalf("Stop took %s with a hung check, want about %s (its one Timeout)", took, cfg.Timeout)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, c := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
	} {
		if got := Percentile(c.in, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.in, c.p, got, c.want)
		}
	}
}
