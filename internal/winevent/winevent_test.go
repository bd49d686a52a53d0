package winevent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sample(t *testing.T, prefix string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join("testdata", prefix+"*"))
	if len(m) != 1 {
		t.Fatalf("testdata %s*: %d matches", prefix, len(m))
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestQueryArgv(t *testing.T) {
	since := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"tcpip since", Query{Log: "System", Selectors: []Selector{TcpipPortEvents}, Since: since},
			[]string{"wevtutil", "qe", "System", "/q:*[System[Provider[@Name='Tcpip'] and (EventID=4227 or EventID=4231) and TimeCreated[@SystemTime>='2024-05-01T10:00:00.000Z']]]", "/f:xml"}},
		{"crash window text newest", Query{Log: "System", Selectors: []Selector{KernelPower41, EventLog6008, BugCheck1001},
			Since: since, Until: since.Add(90 * time.Second), Format: FormatText, Max: 50, Newest: true},
			[]string{"wevtutil", "qe", "System", "/q:*[System[((Provider[@Name='Microsoft-Windows-Kernel-Power'] and (EventID=41)) or (Provider[@Name='EventLog'] and (EventID=6008)) or (Provider[@Name='Microsoft-Windows-WER-SystemErrorReporting'] and (EventID=1001))) and TimeCreated[@SystemTime>='2024-05-01T10:00:00.000Z' and @SystemTime<='2024-05-01T10:01:30.000Z']]]",
				"/f:text", "/c:50", "/rd:true"}},
		{"any id, no window", Query{Log: "System", Selectors: []Selector{{Provider: "Tcpip"}}},
			[]string{"wevtutil", "qe", "System", "/q:*[System[Provider[@Name='Tcpip']]]", "/f:xml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.q.Argv()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("argv\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	ok := Query{Log: "System", Selectors: []Selector{TcpipPortEvents}}
	for _, tc := range []struct {
		name string
		edit func(*Query)
		want string
	}{
		{"no log", func(q *Query) { q.Log = "" }, "log is empty"},
		{"no selector", func(q *Query) { q.Selectors = nil }, "no selector"},
		{"quote in provider", func(q *Query) { q.Selectors = []Selector{{Provider: "Tcp'ip"}} }, "quote"},
		{"bad id", func(q *Query) { q.Selectors = []Selector{{Provider: "Tcpip", EventIDs: []int{70000}}} }, "out of 0..65535"},
		{"window backwards", func(q *Query) { q.Since = time.Unix(100, 0); q.Until = time.Unix(50, 0) }, "before since"},
		{"format", func(q *Query) { q.Format = "json" }, "unknown format"},
		{"max", func(q *Query) { q.Max = -1 }, "negative"},
	} {
		q := ok
		tc.edit(&q)
		if _, err := q.Argv(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// The 4227 sample is Event Viewer's "Copy details as text", cut by its
// source after the first <Data>: the header lines, the message and the
// System block are real.
func TestParse4227Sample(t *testing.T) {
	text := sample(t, "04-")
	t.Run("xml", func(t *testing.T) {
		evs, err := ParseXML([]byte(text))
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("error = %v, want ErrTruncated", err)
		}
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		ev := evs[0]
		want := time.Date(2019, 1, 16, 2, 1, 10, 611477100, time.UTC)
		if ev.Provider != "Tcpip" || ev.EventID != 4227 || ev.Level != "3" || !ev.Time.Equal(want) || ev.RecordID != 14996 || ev.Channel != "System" {
			t.Errorf("event = %+v", ev)
		}
		if n := Count(evs, TcpipPortEvents); n != 1 {
			t.Errorf("Count(4227/4231) = %d, want 1", n)
		}
	})
}

// wevtutil prints events one after another with no root element; this
// input repeats the real System block of the 4227 sample as wevtutil would
// print a 4227 and a 4231 (the second System block is edited: ID, time,
// record).
func TestParseXMLConcatenated(t *testing.T) {
	text := sample(t, "04-")
	sys := text[strings.Index(text, "<Event "):strings.Index(text, "<EventData>")]
	second := strings.NewReplacer(">4227<", ">4231<", "02:01:10.611477100Z", "02:01:11.000000000Z", ">14996<", ">14997<").Replace(sys)
	in := sys + "<EventData><Data Name='x'>1</Data></EventData></Event>\r\n" + second + "<EventData></EventData></Event>\r\n"
	for _, wrap := range []string{"%s", "<Events>%s</Events>"} {
		evs, err := ParseXML([]byte(strings.Replace(wrap, "%s", in, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].EventID != 4227 || evs[1].EventID != 4231 || evs[1].RecordID != 14997 || evs[0].Data[0] != (Data{"x", "1"}) {
			t.Fatalf("events = %+v", evs)
		}
		if n := Count(evs, Selector{Provider: "tcpip", EventIDs: []int{4227}}); n != 1 {
			t.Errorf("Count(4227) = %d", n)
		}
	}
	for _, in := range []string{"", "\r\n"} {
		if evs, err := ParseXML([]byte(in)); err != nil || evs != nil {
			t.Errorf("empty output %q: %v, %v", in, evs, err)
		}
	}
	if _, err := ParseXML([]byte("<Event><System><EventID>x</EventID><Provider Name='Tcpip'/></System></Event>")); err == nil {
		t.Error("bad EventID: no error")
	}
	if _, err := ParseXML([]byte("Error: access denied")); err == nil {
		t.Error("no XML: no error")
	}
}

func TestParseNetstatSamples(t *testing.T) {
	dynamic := [2]uint16{49152, 65535}
	for _, tc := range []struct {
		prefix          string
		rows            int
		timeWait        int // TIME_WAIT rows, any port
		timeWaitDynamic int // TIME_WAIT rows with the local port in 49152..65535
		pid             bool
	}{
		{"01-", 7, 7, 0, true},       // server side of a churn: local :8080
		{"02-", 20, 18, 0, false},    // -an: no PID column
		{"08-", 318, 3, 0, true},     // -aonb, CRLF, IPv6, UDP, owner lines; range widened below 49152
		{"10-", 144, 111, 103, true}, // 2008 R2 MySQL loopback churn: client ports 61404..61600
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			conns, err := ParseNetstat(sample(t, tc.prefix))
			if err != nil {
				t.Fatal(err)
			}
			if len(conns) != tc.rows {
				t.Errorf("%d rows, want %d", len(conns), tc.rows)
			}
			all := CountStates(conns, 0, 65535)
			dyn := CountStates(conns, dynamic[0], dynamic[1])
			if all["TIME_WAIT"] != tc.timeWait || dyn["TIME_WAIT"] != tc.timeWaitDynamic {
				t.Errorf("TIME_WAIT %d (dynamic range %d), want %d (%d)", all["TIME_WAIT"], dyn["TIME_WAIT"], tc.timeWait, tc.timeWaitDynamic)
			}
			if (conns[0].PID >= 0) != tc.pid {
				t.Errorf("first row PID %d, want present=%v", conns[0].PID, tc.pid)
			}
		})
	}
	if _, err := ParseNetstat("  TCP    0.0.0.0:80    0.0.0.0:0\n"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("short row: %v", err)
	}
	if _, err := ParseNetstat("  TCP    nowhere:80    0.0.0.0:0    LISTENING    4\n"); err == nil {
		t.Error("bad address: no error")
	}
}

// TestNetstatColumnsByContent: a state with a space stays whole (crafted:
// localized states are kept as printed), with and without -o; an IPv6
// address that overflows its column moves nothing; a PID is a DWORD, exact
// also on 32-bit builds.
func TestNetstatColumnsByContent(t *testing.T) {
	text := "  Proto  Local Address          Foreign Address        State           PID\n" +
		"  TCP    192.0.2.10:49152       198.51.100.7:443       EN ATTENTE      4294967292\n" +
		"  TCP    [2001:db8:1:2:3:4:5:6]:49153  [2001:db8::7]:443  TIME_WAIT  0\n" +
		"  UDP    0.0.0.0:5353           *:*                                    2876\n" +
		"  TCP    192.0.2.10:49154       198.51.100.7:443       EN ATTENTE\n"
	conns, err := ParseNetstat(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range conns {
		got = append(got, fmt.Sprintf("%s %s %s %q %d", c.Proto, c.Local, c.Remote, c.State, c.PID))
	}
	want := []string{
		`TCP 192.0.2.10:49152 198.51.100.7:443 "EN ATTENTE" 4294967292`,
		`TCP [2001:db8:1:2:3:4:5:6]:49153 [2001:db8::7]:443 "TIME_WAIT" 0`,
		`UDP 0.0.0.0:5353 invalid AddrPort "" 2876`,
		`TCP 192.0.2.10:49154 198.51.100.7:443 "EN ATTENTE" -1`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"  TCP    0.0.0.0:80    0.0.0.0:0    99999999999\n", "  UDP    0.0.0.0:53    *:*    x    1\n"} {
		if _, err := ParseNetstat(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestNetstatArgv(t *testing.T) {
	if got := NetstatArgv(); !slices.Equal(got, []string{"netstat", "-ano", "-p", "TCP"}) {
		t.Errorf("argv %q", got)
	}
}
