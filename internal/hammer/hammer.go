// Package hammer churns TCP connections through a (narrowed) dynamic port
// range and classifies every outcome, to catch the KB2901197 signature: a
// connect with a system-chosen local port failing with WSAEADDRINUSE
// (EADDRINUSE on Linux) because a port still closing was handed out again.
//
// Run starts a listener bound only to the target (loopback or a lab address
// in a documentation range), W workers doing connect → optional payload →
// close for a bounded count or time, a census of local TCP states
// (sock_diag on Linux, GetTcpTable2 on Windows) and, when asked, narrows the
// dynamic port range for the run and always restores it
// (net.ipv4.ip_local_port_range inside the lab namespace on Linux,
// `netsh int ipv4 set dynamicport tcp` on Windows).
//
// The socket code lives in files chosen by suffix: hammer_linux.go (raw
// socket(2)/bind(2)/connect(2) on threads locked inside the namespace),
// hammer_windows.go (Winsock) and hammer_other.go (ErrUnsupported).
package hammer

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/kbharness/kbharness/fixtures"
)

// Hard limits: every run stops by itself within them.
const (
	MaxWorkers     = 64
	MaxCount       = 5_000_000
	MaxDuration    = 10 * time.Minute
	MaxTimeout     = 30 * time.Second
	MaxQuietWait   = 10 * time.Minute
	MaxPayload     = 64 << 10
	DefaultTimeout = 2 * time.Second
)

// Mode is how a worker gets its local port.
type Mode string

const (
	// ModeConnect: connect() with no bind; the stack picks the local port
	// at connect time (the KB2901197 case).
	ModeConnect Mode = "connect"
	// ModeBindConnect: bind(port 0), then connect(). The port is picked at
	// bind time, without the remote endpoint, so on Linux a range full of
	// TIME_WAIT yields EADDRINUSE — the positive control.
	ModeBindConnect Mode = "bind-connect"
	// ModeBindReuseAddr: SO_REUSEADDR, bind(port 0), then connect().
	ModeBindReuseAddr Mode = "bind-reuseaddr"
	// ModeBindNoPort: IP_BIND_ADDRESS_NO_PORT, bind(port 0), then
	// connect(): the port is picked at connect time (Linux; the negative
	// control).
	ModeBindNoPort Mode = "bind-no-port"
	// ModePortScalability: SO_PORT_SCALABILITY, bind(port 0), connect()
	// (Windows 7/2008 R2 and later).
	ModePortScalability Mode = "port-scalability"
	// ModeReuseUnicastPort: SO_REUSE_UNICASTPORT, bind(port 0), connect():
	// the port is picked at connect time (Windows 10/2016 and later).
	ModeReuseUnicastPort Mode = "reuse-unicastport"
)

// Modes lists every Mode.
var Modes = []Mode{ModeConnect, ModeBindConnect, ModeBindReuseAddr, ModeBindNoPort, ModePortScalability, ModeReuseUnicastPort}

// Close is who closes a connection and how.
type Close string

const (
	// CloseClientFirst: the client closes first (FIN) and keeps the
	// TIME_WAIT on its local port.
	CloseClientFirst Close = "client-first"
	// CloseServerFirst: the server closes first and keeps the TIME_WAIT;
	// the client closes after reading end of stream.
	CloseServerFirst Close = "server-first"
	// CloseAbortive: SO_LINGER {on, 0} then close: the client sends RST and
	// no TIME_WAIT is left.
	CloseAbortive Close = "abortive"
)

// Closes lists every Close.
var Closes = []Close{CloseClientFirst, CloseServerFirst, CloseAbortive}

// PortRange is an inclusive dynamic port range.
type PortRange struct {
	Lo, Hi uint16
}

// Size is the number of ports in the range.
func (r PortRange) Size() int { return int(r.Hi) - int(r.Lo) + 1 }

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Lo, r.Hi) }

// IsZero reports an unset range.
func (r PortRange) IsZero() bool { return r == PortRange{} }

// Config is one hammer run.
type Config struct {
	// Target is the listener's address: loopback, or an address inside one
	// of Allowed. Port 0 lets the stack pick the listening port.
	Target netip.AddrPort
	// Allowed are the lab prefixes a non-loopback Target may lie in; each
	// must lie in a documentation range.
	Allowed []netip.Prefix
	// Netns is the Linux network namespace (name under /run/netns, or a
	// path) every socket is made in; "" is the caller's own namespace.
	// Ignored on Windows.
	Netns string
	// Workers is the number of concurrent clients (1..MaxWorkers).
	Workers int
	// Count bounds the connection attempts (0: only Duration bounds them).
	Count int
	// Duration bounds the run (0: MaxDuration).
	Duration time.Duration
	// Mode picks how clients get their local port.
	Mode Mode
	// Close picks who closes first, and how.
	Close Close
	// Payload is the number of bytes each client sends after connecting.
	Payload int
	// Timeout bounds each connect and read (0: DefaultTimeout).
	Timeout time.Duration
	// PortRange, if set, is the dynamic port range for the run; the old
	// range is restored when Run returns. On Linux it needs Netns.
	PortRange PortRange
	// QuietWait bounds how long Run waits, before narrowing, for the range
	// to hold no TCP socket (TIME_WAIT left by an earlier run on a host
	// that outlives runs); 0 does not wait. Polled every 100ms.
	QuietWait time.Duration
	// BeforeRangeChange, if set, is given the command that restores the
	// current range before PortRange is applied: a journal records it, so
	// the range comes back even if this process is killed.
	BeforeRangeChange func(restore []string) error
	// CensusEvery is the interval of the local TCP state census (0: one
	// second; negative: no census).
	CensusEvery time.Duration
	// Progress, if set, is called about once a second from its own
	// goroutine with the counts so far.
	Progress func(Progress)
}

// Validate checks c against the safety rules and hard limits.
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.Allowed {
		if !fixtures.IsDocumentationPrefix(p) {
			errs = append(errs, fmt.Errorf("allowed prefix %s is not in a documentation range", p))
		}
	}
	a := c.Target.Addr()
	switch {
	case !a.IsValid():
		errs = append(errs, errors.New("no target address"))
	case a.Unmap().IsLoopback():
	case !slices.ContainsFunc(c.Allowed, func(p netip.Prefix) bool { return p.Contains(a.Unmap()) }):
		errs = append(errs, fmt.Errorf("target %s is neither loopback nor a lab address (allowed: %v)", a, c.Allowed))
	}
	if c.Workers < 1 || c.Workers > MaxWorkers {
		errs = append(errs, fmt.Errorf("workers %d out of 1..%d", c.Workers, MaxWorkers))
	}
	if c.Count < 0 || c.Count > MaxCount {
		errs = append(errs, fmt.Errorf("count %d out of 0..%d", c.Count, MaxCount))
	}
	if c.Duration < 0 || c.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("duration %s out of 0..%s", c.Duration, MaxDuration))
	}
	if c.Count == 0 && c.Duration == 0 {
		errs = append(errs, errors.New("neither count nor duration set"))
	}
	if !slices.Contains(Modes, c.Mode) {
		errs = append(errs, fmt.Errorf("unknown mode %q (have %s)", c.Mode, joinStrings(Modes)))
	}
	if !slices.Contains(Closes, c.Close) {
		errs = append(errs, fmt.Errorf("unknown close %q (have %s)", c.Close, joinStrings(Closes)))
	}
	if c.Payload < 0 || c.Payload > MaxPayload {
		errs = append(errs, fmt.Errorf("payload %d out of 0..%d", c.Payload, MaxPayload))
	}
	if c.Timeout < 0 || c.Timeout > MaxTimeout {
		errs = append(errs, fmt.Errorf("timeout %s out of 0..%s", c.Timeout, MaxTimeout))
	}
	if c.QuietWait < 0 || c.QuietWait > MaxQuietWait {
		errs = append(errs, fmt.Errorf("quiet wait %s out of 0..%s", c.QuietWait, MaxQuietWait))
	}
	if !c.PortRange.IsZero() && (c.PortRange.Lo == 0 || c.PortRange.Hi < c.PortRange.Lo) {
		errs = append(errs, fmt.Errorf("bad port range %s", c.PortRange))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validating hammer config: %w", err)
	}
	return nil
}

func (c *Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Config) duration() time.Duration {
	if c.Duration == 0 {
		return MaxDuration
	}
	return c.Duration
}

func joinStrings[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// Class is the outcome of one connection attempt.
type Class int

const (
	ClassSuccess   Class = iota // connected, payload sent, closed
	ClassAddrInUse              // EADDRINUSE / WSAEADDRINUSE: the KB2901197 signature
	ClassExhausted              // EADDRNOTAVAIL, ENOBUFS / WSAENOBUFS: the range is used up
	ClassRefused                // ECONNREFUSED / WSAECONNREFUSED
	ClassTimeout                // connect or read did not finish within Timeout
	ClassOther                  // anything else
	numClasses
)

// Classes lists every Class in report order.
var Classes = []Class{ClassSuccess, ClassAddrInUse, ClassExhausted, ClassRefused, ClassTimeout, ClassOther}

func (c Class) String() string {
	switch c {
	case ClassSuccess:
		return "success"
	case ClassAddrInUse:
		return "addrinuse"
	case ClassExhausted:
		return "exhausted"
	case ClassRefused:
		return "refused"
	case ClassTimeout:
		return "timeout"
	case ClassOther:
		return "other"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Example is the first attempt seen in a class.
type Example struct {
	Op        string        // the call that failed: "socket", "bind", "connect", "send", "recv"; "" on success
	Err       string        // error text; "" on success
	LocalPort uint16        // local port, 0 if none was bound
	At        time.Duration // since the start of the run: when the class began
}

func (e Example) String() string {
	if e.Err == "" {
		return fmt.Sprintf("at %s local port %d", e.At.Round(time.Millisecond), e.LocalPort)
	}
	return fmt.Sprintf("%s: %s (local port %d) at %s", e.Op, e.Err, e.LocalPort, e.At.Round(time.Millisecond))
}

// Census counts our TCP sockets by state (canonical upper-case names:
// "ESTABLISHED", "TIME_WAIT", "FIN_WAIT1", ...).
type Census map[string]int

// Closing counts the sockets in a closing state other than TIME_WAIT.
func (c Census) Closing() int {
	return c["FIN_WAIT1"] + c["FIN_WAIT2"] + c["CLOSING"] + c["LAST_ACK"] + c["CLOSE_WAIT"]
}

func (c Census) String() string {
	return fmt.Sprintf("time_wait=%d closing=%d established=%d", c["TIME_WAIT"], c.Closing(), c["ESTABLISHED"])
}

// CensusStats sums up the census samples of a run.
type CensusStats struct {
	Samples     int
	MaxTimeWait int
	MaxClosing  int
	Last        Census
	Err         string // first census error, if any
}

// Progress is a running total, reported about once a second.
type Progress struct {
	Elapsed  time.Duration
	Attempts int64
	Rate     float64 // attempts per second over the last interval
	Counts   [numClasses]int64
	Census   Census // latest sample; nil if none yet
}

func (p Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs %9d done %8.0f/s", p.Elapsed.Seconds(), p.Attempts, p.Rate)
	for _, c := range Classes {
		fmt.Fprintf(&b, " %s=%d", c, p.Counts[c])
	}
	if p.Census != nil {
		fmt.Fprintf(&b, " | %s", p.Census)
	}
	return b.String()
}

// Result is the outcome of a run.
type Result struct {
	Target     netip.AddrPort // the listener's actual address
	Mode       Mode
	Close      Close
	PortRange  PortRange // range in effect during the run (zero if unknown)
	Elapsed    time.Duration
	Attempts   int64
	Counts     [numClasses]int64
	First      [numClasses]*Example // first example per class; nil if none
	Census     CensusStats
	ServerErrs int64    // accept/read errors on the listener side
	ServerErr  *Example // the first of them
	// Events counts Tcpip events 4227 (time-wait collision: the signature)
	// and 4231 (port space exhausted) logged during the run, by ID
	// (Windows; nil elsewhere).
	Events    map[int]int
	EventsErr string // why Events could not be read, if so
}

// Count returns the number of attempts in class c.
func (r *Result) Count(c Class) int64 { return r.Counts[c] }

// Signature reports whether the KB2901197 signature was seen: at least one
// EADDRINUSE/WSAEADDRINUSE, or a Tcpip event 4227.
func (r *Result) Signature() bool { return r.Counts[ClassAddrInUse] > 0 || r.Events[4227] > 0 }

// Rate is attempts per second over the run.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Attempts) / r.Elapsed.Seconds()
}

// Summary is a multi-line human report.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "target %s mode %s close %s range %s: %d attempts in %s (%.0f/s)\n",
		r.Target, r.Mode, r.Close, r.PortRange, r.Attempts, r.Elapsed.Round(time.Millisecond), r.Rate())
	for _, c := range Classes {
		fmt.Fprintf(&b, "  %-9s %9d", c, r.Counts[c])
		if e := r.First[c]; e != nil {
			fmt.Fprintf(&b, "  first: %s", e)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "  census: %d samples, max time_wait %d, max closing %d", r.Census.Samples, r.Census.MaxTimeWait, r.Census.MaxClosing)
	if r.Census.Err != "" {
		fmt.Fprintf(&b, " (error: %s)", r.Census.Err)
	}
	b.WriteByte('\n')
	if r.ServerErrs > 0 {
		fmt.Fprintf(&b, "  server errors: %d, first: %s\n", r.ServerErrs, r.ServerErr)
	}
	if r.Events != nil || r.EventsErr != "" {
		fmt.Fprintf(&b, "  events: 4227=%d 4231=%d", r.Events[4227], r.Events[4231])
		if r.EventsErr != "" {
			fmt.Fprintf(&b, " (error: %s)", r.EventsErr)
		}
		b.WriteByte('\n')
	}
	if r.Signature() {
		fmt.Fprintf(&b, "  SIGNATURE: %d EADDRINUSE (first: %v), %d event 4227\n", r.Counts[ClassAddrInUse], r.First[ClassAddrInUse], r.Events[4227])
	}
	return b.String()
}
