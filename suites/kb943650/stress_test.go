package kb943650

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/mcast"
	"github.com/kbharness/kbharness/internal/watchdog"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/suites/framework/inject"
)

func TestMain(m *testing.M) {
	watchdog.ServeIfResponder()
	os.Exit(m.Run())
}

func TestScenarioFixture(t *testing.T) {
	sc, err := LoadScenario()
	if err != nil {
		t.Fatal(err)
	}
	if sc.Duration > 20*time.Second {
		t.Errorf("duration %s: the CI run must stay under a minute", sc.Duration)
	}
	bad := strings.Replace(mustRead(t), "239.255.43.51", "224.1.2.3", 1)
	var s Scenario
	err = fixtures.Decode("kb943650.yaml", []byte(bad), &s)
	if err == nil || !strings.Contains(err.Error(), "groups[1]") || !strings.Contains(err.Error(), "kb943650.yaml") {
		t.Errorf("a non-scoped group: err = %v, want one naming the file and groups[1]", err)
	}
}

func mustRead(t *testing.T) string {
	b, err := fixtures.ReadEmbedded(ScenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// shortScenario is the fixture with a shorter churn, for tests.
func shortScenario(t *testing.T, d time.Duration) *Scenario {
	sc, err := LoadScenario()
	if err != nil {
		t.Fatal(err)
	}
	sc.Duration = d
	return sc
}

func newLab(t *testing.T, name string) *lab.Lab {
	if os.Geteuid() != 0 {
		t.Skip("requires root: creates network namespaces")
	}
	f, err := fixtures.LoadLab(name)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.New(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func logWriter(t *testing.T) io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}

// Green: real multicast is forwarded through the lab host in every
// MFC-present phase, the watchdog sees no stall, mc_forwarding is reset.
func TestStressGreen(t *testing.T) {
	sc := shortScenario(t, 4*time.Second)
	l := newLab(t, sc.Lab)
	tl := netcfg.NewTimeline()
	res, err := Run(context.Background(), l, tl, stepOf(tl), sc, logWriter(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	if err := res.Err(); err != nil {
		t.Fatalf("clean run failed: %v\nchurn errors: %v", err, res.ChurnErrors)
	}
	if res.Joins == 0 || res.AddrChanges == 0 || len(res.Phases) < 4 {
		t.Errorf("churn too thin: %d joins, %d address changes, %d phases", res.Joins, res.AddrChanges, len(res.Phases))
	}
}

// Red: the stall injector SIGSTOPs the echo responder for 2s mid-run; the
// run fails naming the stall's window, seen while it was going on.
func TestStallInjectorTurnsItRed(t *testing.T) {
	t.Setenv("KBHARNESS_STALL", "1s:2500ms")
	sc := shortScenario(t, 5*time.Second)
	l := newLab(t, sc.Lab)
	stop, err := inject.Start(context.Background(), inject.Stall, l)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	tl := netcfg.NewTimeline()
	res, err := Run(context.Background(), l, tl, stepOf(tl), sc, logWriter(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	runErr := res.Err()
	if runErr == nil {
		t.Fatalf("run with a 2.5s stall passed:\n%s", res.Summary())
	}
	t.Log(runErr)
	window := regexp.MustCompile(`stall of (\d+\.\d+)s on probe tcp-echo \S+, from \d\d:\d\d:\d\d\.\d{3} \(\+\d+\.\d+s into the run\) to \d\d:\d\d:\d\d\.\d{3}, during step "churn phase \d+: MFC entries (in|out)"`)
	m := window.FindStringSubmatch(runErr.Error())
	if m == nil {
		t.Fatalf("failure does not name the stall window:\n%v", runErr)
	}
	if len(res.DetectedLive) == 0 {
		t.Errorf("the stall was not reported while it was going on")
	}
	if len(res.Watchdog.Stalls) != 1 {
		t.Errorf("stalls = %d, want 1: %v", len(res.Watchdog.Stalls), res.Watchdog.Stalls)
	}
	if l := res.Watchdog.Stalls[0].Length(); l < 2500*time.Millisecond || l > 3500*time.Millisecond {
		t.Errorf("stall length %v, want the 2.5s pause (+ up to a probe timeout and interval)", l)
	}
	if s := res.Silent(); len(s) > 0 {
		t.Errorf("the stall of the responder should not stop forwarding: silent phases %v", s)
	}
}

// stopBound is how long an interrupted stress may take to return, cleanup
// included: a correctness bound (Ctrl-C stops every stress within a
// second), not a performance target.
const stopBound = time.Second

// Ctrl-C: cancelling ctx mid-churn stops the stress within stopBound,
// restores the lab — MRT_DONE (mc_forwarding back to 0), churn addresses
// deleted, the echo responder gone — and returns ctx's error.
func TestStressStopsOnCancel(t *testing.T) {
	sc := shortScenario(t, 60*time.Second)
	l := newLab(t, sc.Lab)
	tl := netcfg.NewTimeline()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	responder := make(chan int, 1)
	go func() {
		if r, err := watchdog.WaitResponder(ctx); err == nil {
			responder <- r.Pid()
		}
	}()
	var (
		mu          sync.Mutex
		cancelledAt time.Time
		timer       *time.Timer
	)
	step := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		tl.Step(s)
		mu.Lock()
		defer mu.Unlock()
		if timer == nil && strings.HasPrefix(s, "churn phase 1:") {
			// Cancel from another goroutine, as the signal handler does,
			// once every churn loop runs.
			timer = time.AfterFunc(1500*time.Millisecond, func() {
				mu.Lock()
				cancelledAt = time.Now()
				mu.Unlock()
				cancel()
			})
		}
	}
	res, err := Run(ctx, l, tl, step, sc, logWriter(t))
	returnedAt := time.Now()
	mu.Lock()
	took := returnedAt.Sub(cancelledAt)
	mu.Unlock()
	if cancelledAt.IsZero() {
		t.Fatalf("Run returned before the cancel: %v", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: err = %v, want context.Canceled", err)
	}
	if took > stopBound {
		t.Errorf("Run returned %s after the cancel, want < %s", took, stopBound)
	}
	t.Logf("Run returned %s after the cancel: %v", took, err)
	if res == nil || !res.MCForwardingOff {
		t.Errorf("result %+v: want mc_forwarding seen back to 0 after MRT_DONE", res)
	}
	on, err := mcast.MCForwarding(func(fn func() error) error { return l.Do(lab.HostRole, fn) }, "all")
	if err != nil || on {
		t.Errorf("mc_forwarding in %s after the cancel: %v, %v; want 0", l.Namespaces[lab.HostRole], on, err)
	}
	out, err := exec.Command("ip", "-n", l.Namespaces[lab.HostRole], "-o", "addr", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr show: %v: %s", err, out)
	}
	for _, a := range sc.ChurnAddresses {
		if strings.Contains(string(out), " "+a.Prefix.String()+" ") {
			t.Errorf("churn address %s left on %s after the cancel", a.Prefix, l.Interface(a.Link))
		}
	}
	select {
	case pid := <-responder:
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("echo responder %d still exists after the cancel", pid)
		}
	default:
		t.Errorf("no echo responder was started")
	}
}

func stepOf(tl *netcfg.Timeline) func(string, ...any) {
	return func(format string, args ...any) { tl.Step(fmt.Sprintf(format, args...)) }
}
