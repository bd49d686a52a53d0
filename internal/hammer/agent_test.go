package hammer

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// agentGood is a report kbh-hammer printed under Wine (bind-connect,
// client-first, 4 workers, count 400, ports 40000-40063).
const agentGood = `{"agent":"kbh-hammer","version":1,"target":"127.0.0.1:40005","mode":"bind-connect","close":"client-first","elapsed_ms":55.678,"attempts":400,"counts":{"success":63,"addrinuse":337,"exhausted":0,"refused":0,"timeout":0,"other":0},"first":{"success":{"op":"","err":"","local_port":40029,"at_ms":1.357},"addrinuse":{"op":"bind","err":"WSAEADDRINUSE (10048)","local_port":0,"at_ms":29.426}},"server_errors":0}` + "\r\n"

func TestParseAgentReport(t *testing.T) {
	res, err := ParseAgentReport([]byte(agentGood))
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{
		Target: netip.MustParseAddrPort("127.0.0.1:40005"), Mode: ModeBindConnect, Close: CloseClientFirst,
		Elapsed: 55678 * time.Microsecond, Attempts: 400,
	}
	want.Counts[ClassSuccess], want.Counts[ClassAddrInUse] = 63, 337
	want.First[ClassSuccess] = &Example{LocalPort: 40029, At: 1357 * time.Microsecond}
	want.First[ClassAddrInUse] = &Example{Op: "bind", Err: "WSAEADDRINUSE (10048)", At: 29426 * time.Microsecond}
	if got, want := fmt.Sprintf("%+v", *res), fmt.Sprintf("%+v", *want); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for c := range res.First {
		if (res.First[c] == nil) != (want.First[c] == nil) || (res.First[c] != nil && *res.First[c] != *want.First[c]) {
			t.Errorf("first %s = %v, want %v", Class(c), res.First[c], want.First[c])
		}
	}
	if !res.Signature() || !strings.Contains(res.Summary(), "SIGNATURE: 337 EADDRINUSE") {
		t.Errorf("summary lacks the signature:\n%s", res.Summary())
	}

	// Server errors, IPv6, every class, and an interrupted run.
	all := `{"agent":"kbh-hammer","version":1,"target":"[::1]:1234","mode":"connect","close":"abortive","elapsed_ms":1000,"attempts":21,
	  "counts":{"success":1,"addrinuse":2,"exhausted":3,"refused":4,"timeout":5,"other":6},
	  "first":{"success":{"op":"","err":"","local_port":1,"at_ms":0},
	    "addrinuse":{"op":"connect","err":"WSAEADDRINUSE (10048)","local_port":2,"at_ms":1},
	    "exhausted":{"op":"connect","err":"WSAENOBUFS (10055)","local_port":0,"at_ms":2},
	    "refused":{"op":"connect","err":"WSAECONNREFUSED (10061)","local_port":3,"at_ms":3},
	    "timeout":{"op":"connect","err":"WSAETIMEDOUT (10060)","local_port":4,"at_ms":4},
	    "other":{"op":"recv","err":"WSAECONNRESET (10054)","local_port":5,"at_ms":1000}},
	  "server_errors":2,"server_error":{"op":"recv","err":"unexpected EOF","at_ms":1001.5},"interrupted":true}`
	res, err = ParseAgentReport([]byte(all))
	if !errors.Is(err, ErrAgentInterrupted) || res == nil {
		t.Fatalf("interrupted report: %v, %v", res, err)
	}
	if res.Target != netip.MustParseAddrPort("[::1]:1234") || res.Counts != [numClasses]int64{1, 2, 3, 4, 5, 6} ||
		res.ServerErrs != 2 || res.ServerErr.Err != "unexpected EOF" || res.ServerErr.At != 1001500*time.Microsecond ||
		res.First[ClassOther].Op != "recv" || res.First[ClassTimeout].LocalPort != 4 {
		t.Errorf("parsed %+v", res)
	}
	res, err = ParseAgentReport([]byte(strings.Replace(all, `"interrupted":true`, `"interrupted":false`, 1)))
	if err != nil || res.Attempts != 21 {
		t.Errorf("not interrupted: %v, %v", res, err)
	}
}

func TestParseAgentReportRejects(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(agentGood, old) {
			panic("agentGood lacks " + old)
		}
		return strings.Replace(agentGood, old, new, 1)
	}
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"empty", "", "empty report"},
		{"not an object", "[1,2]", "not a JSON object"},
		{"truncated", agentGood[:100], "unexpected EOF"},
		{"trailing garbage", agentGood + "x", "trailing data"},
		{"two objects", agentGood + "{}", "trailing data"},
		{"missing agent", edit(`"agent":"kbh-hammer",`, ""), "field agent: missing"},
		{"other agent", edit(`"kbh-hammer"`, `"kbh-other"`), `field agent: "kbh-other"`},
		{"version 2", edit(`"version":1`, `"version":2`), "field version: 2"},
		{"version string", edit(`"version":1`, `"version":"1"`), "field version: want a whole number"},
		{"target without port", edit(`"127.0.0.1:40005"`, `"127.0.0.1"`), "field target"},
		{"target port 0", edit(`"127.0.0.1:40005"`, `"127.0.0.1:0"`), "field target"},
		{"linux mode", edit(`"bind-connect"`, `"bind-no-port"`), `field mode: unknown mode "bind-no-port"`},
		{"bad close", edit(`"client-first"`, `"never"`), `field close: unknown close "never"`},
		{"elapsed missing", edit(`"elapsed_ms":55.678,`, ""), "field elapsed_ms: missing"},
		{"elapsed negative", edit(`"elapsed_ms":55.678`, `"elapsed_ms":-1`), "field elapsed_ms: negative"},
		{"elapsed string", edit(`"elapsed_ms":55.678`, `"elapsed_ms":"55"`), "field elapsed_ms: want a number"},
		{"elapsed huge", edit(`"elapsed_ms":55.678`, `"elapsed_ms":1e300`), "field elapsed_ms: 1e300 ms is more than"},
		{"attempts null", edit(`"attempts":400`, `"attempts":null`), "field attempts: null"},
		{"attempts negative", edit(`"attempts":400`, `"attempts":-400`), "field attempts: negative"},
		{"attempts float", edit(`"attempts":400`, `"attempts":400.0`), "field attempts: want a whole number"},
		{"attempts too big", edit(`"attempts":400`, `"attempts":99999999999999999999`), "field attempts: want a whole number"},
		{"sum", edit(`"attempts":400`, `"attempts":401`), "field counts: sum to 400, but attempts is 401"},
		{"count missing", edit(`"refused":0,`, ""), "field counts.refused: missing"},
		{"count negative", edit(`"timeout":0`, `"timeout":-1`), "field counts.timeout: negative"},
		{"unknown class", edit(`"other":0}`, `"other":0,"weird":0}`), `unknown class in counts: "weird"`},
		{"counts not an object", edit(`"counts":{"success":63,"addrinuse":337,"exhausted":0,"refused":0,"timeout":0,"other":0}`, `"counts":[]`), "field counts: want an object"},
		{"first missing", edit(`"first":{"success":{"op":"","err":"","local_port":40029,"at_ms":1.357},"addrinuse":{"op":"bind","err":"WSAEADDRINUSE (10048)","local_port":0,"at_ms":29.426}},`, ""), "field first: missing"},
		{"first of a class seen missing", edit(`"success":{"op":"","err":"","local_port":40029,"at_ms":1.357},`, ""), "field first.success: missing, but counts.success is 63"},
		{"first of a class not seen", edit(`"first":{`, `"first":{"refused":{"op":"connect","err":"x","local_port":1,"at_ms":1},`), "field first.refused: present, but counts.refused is 0"},
		{"first unknown class", edit(`"first":{`, `"first":{"weird":{},`), `unknown class in first: "weird"`},
		{"first port too big", edit(`"local_port":40029`, `"local_port":65536`), "field first.success.local_port: 65536 out of 0..65535"},
		{"first port missing", edit(`"local_port":0,`, ""), "field first.addrinuse.local_port: missing"},
		{"first at negative", edit(`"at_ms":29.426`, `"at_ms":-29.426`), "field first.addrinuse.at_ms: negative"},
		{"first at after the end", edit(`"at_ms":29.426`, `"at_ms":60`), "field first.addrinuse.at_ms: 60ms is after the end of the run"},
		{"first failure without err", edit(`"err":"WSAEADDRINUSE (10048)"`, `"err":""`), "field first.addrinuse: a failure without op and err"},
		{"first success with err", edit(`"op":"","err":""`, `"op":"","err":"x"`), "field first.success: a success with"},
		{"first unknown field", edit(`"at_ms":1.357}`, `"at_ms":1.357,"x":1}`), `unknown field in first.success: "x"`},
		{"server_errors missing", edit(`,"server_errors":0`, ""), "field server_errors: missing"},
		{"server_errors negative", edit(`"server_errors":0`, `"server_errors":-3`), "field server_errors: negative"},
		{"server_error missing", edit(`"server_errors":0`, `"server_errors":3`), "field server_error: missing, but server_errors is 3"},
		{"server_error without errors", edit(`"server_errors":0`, `"server_errors":0,"server_error":{"op":"recv","err":"x","at_ms":1}`), "field server_error: present, but server_errors is 0"},
		{"server_error with a port", edit(`"server_errors":0`, `"server_errors":1,"server_error":{"op":"recv","err":"x","local_port":1,"at_ms":1}`), `unknown field in server_error: "local_port"`},
		{"interrupted not a bool", edit(`"server_errors":0`, `"server_errors":0,"interrupted":1`), "field interrupted: want true or false"},
		{"unknown field", edit(`"server_errors":0`, `"server_errors":0,"census":{}`), `unknown field: "census"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ParseAgentReport([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if res != nil {
				t.Errorf("a rejected report gave a result: %+v", res)
			}
		})
	}
}

func TestAgentArgv(t *testing.T) {
	base := func() Config {
		return Config{Target: netip.MustParseAddrPort("127.0.0.1:0"), Workers: 4, Count: 400, Mode: ModeBindConnect, Close: CloseClientFirst}
	}
	lab := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		want    string // the argv after the exe, space-joined
		wantErr string
	}{
		{"count", func(*Config) {}, "--target 127.0.0.1:0 --workers 4 --count 400 --duration 0ms --mode bind-connect --close client-first --payload 0 --timeout 0ms", ""},
		{"everything", func(c *Config) {
			c.Target, c.Allowed = netip.MustParseAddrPort("192.0.2.20:8080"), lab
			c.Workers, c.Count, c.Duration, c.Timeout = 64, 0, 90*time.Second, 1500*time.Millisecond
			c.Mode, c.Close, c.Payload = ModeReuseUnicastPort, CloseServerFirst, MaxPayload
			c.CensusEvery = time.Second
			c.Progress = func(Progress) {}
		}, "--target 192.0.2.20:8080 --workers 64 --count 0 --duration 90000ms --mode reuse-unicastport --close server-first --payload 65536 --timeout 1500ms", ""},
		{"ipv6", func(c *Config) { c.Target = netip.MustParseAddrPort("[::1]:99") }, "--target [::1]:99 --workers 4", ""},
		{"v4-mapped", func(c *Config) { c.Target = netip.MustParseAddrPort("[::ffff:127.0.0.1]:5") }, "--target 127.0.0.1:5 ", ""},
		{"invalid config", func(c *Config) { c.Workers = 0 }, "", "workers 0"},
		{"not a lab address", func(c *Config) { c.Target = netip.MustParseAddrPort("198.51.100.1:0") }, "", "neither loopback nor a lab address"},
		{"linux mode", func(c *Config) { c.Mode = ModeBindNoPort }, "", "mode bind-no-port: the agent has only"},
		{"port range", func(c *Config) { c.PortRange = PortRange{Lo: 40000, Hi: 40255} }, "", "port range 40000-40255: the agent does not change"},
		{"netns", func(c *Config) { c.Netns = "kbh-x" }, "", `netns "kbh-x"`},
		{"quiet wait", func(c *Config) { c.QuietWait = time.Second }, "", "quiet wait"},
		{"sub-millisecond duration", func(c *Config) { c.Duration = 1500 * time.Microsecond }, "", "duration 1.5ms is not a whole number"},
		{"sub-millisecond timeout", func(c *Config) { c.Timeout = time.Microsecond }, "", "timeout 1µs is not a whole number"},
		{"zone", func(c *Config) { c.Target = netip.MustParseAddrPort("[::1%eth0]:1") }, "", "no IPv6 zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			argv, err := AgentArgv(`C:\kbh\kbh-hammer.exe`, c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("AgentArgv = %q, %v; want an error containing %q", argv, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if argv[0] != `C:\kbh\kbh-hammer.exe` || !strings.HasPrefix(strings.Join(argv[1:], " ")+" ", tc.want) {
				t.Errorf("AgentArgv = %q, want the exe then %q", argv, tc.want)
			}
		})
	}
	if _, err := AgentArgv("", base()); err == nil {
		t.Error("AgentArgv accepted no executable")
	}
	// Every mode the agent has, and only those, is accepted.
	for _, m := range Modes {
		c := base()
		c.Mode = m
		_, err := AgentArgv("kbh-hammer.exe", c)
		if got := err == nil; got != slices.Contains(AgentModes, m) {
			t.Errorf("mode %s: accepted %v (%v)", m, got, err)
		}
	}
}

func FuzzParseAgentReport(f *testing.F) {
	f.Add([]byte(agentGood))
	f.Add([]byte(`{"agent":"kbh-hammer","version":1,"target":"[::1]:1","mode":"connect","close":"abortive","elapsed_ms":1,"attempts":1,"counts":{"success":0,"addrinuse":0,"exhausted":0,"refused":0,"timeout":0,"other":1},"first":{"other":{"op":"recv","err":"e","local_port":5,"at_ms":1}},"server_errors":1,"server_error":{"op":"recv","err":"x","at_ms":2},"interrupted":true}`))
	f.Add([]byte(`{"counts":{"success":9223372036854775807,"addrinuse":1}}`))
	f.Add([]byte(`{"first":{"success":null},"elapsed_ms":1e400}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseAgentReport(data)
		if err != nil && !errors.Is(err, ErrAgentInterrupted) {
			if res != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		var sum int64
		for c, n := range res.Counts {
			sum += n
			if n < 0 || (n > 0) != (res.First[c] != nil) {
				t.Fatalf("class %s: count %d, first %v", Class(c), n, res.First[c])
			}
		}
		if sum != res.Attempts || res.Elapsed < 0 || !res.Target.IsValid() {
			t.Fatalf("accepted an inconsistent report: %+v", res)
		}
	})
}

// The Wine run of .ci/wine/hammer-agent.sh: these read the reports it
// wrote and are skipped without them.

// TestAgentWineHappyPath: the agent's connect-mode run on an un-narrowed
// range (KBH_AGENT_HAPPY_REPORT) succeeded every time.
func TestAgentWineHappyPath(t *testing.T) {
	path := os.Getenv("KBH_AGENT_HAPPY_REPORT")
	if path == "" {
		t.Skip("KBH_AGENT_HAPPY_REPORT not set (.ci/wine/hammer-agent.sh sets it)")
	}
	res := readAgentReport(t, path)
	t.Logf("agent under Wine, connect mode:\n%s", res.Summary())
	if res.Attempts == 0 || res.Counts[ClassSuccess] != res.Attempts || res.ServerErrs != 0 {
		t.Errorf("the happy path was not all success (%d of %d, %d server errors)", res.Counts[ClassSuccess], res.Attempts, res.ServerErrs)
	}
}

// TestAgentWineCompare: the agent (KBH_AGENT_REPORT, its JSON) and the Go
// hammer's Windows build (KBH_GO_REPORT, the text `kbharness hammer`
// printed) ran the same churn on ranges of KBH_RANGE_SIZE ports: both
// succeeded about once per port, both saw the signature, and the same
// classes.
func TestAgentWineCompare(t *testing.T) {
	agentPath, goPath := os.Getenv("KBH_AGENT_REPORT"), os.Getenv("KBH_GO_REPORT")
	if agentPath == "" || goPath == "" {
		t.Skip("KBH_AGENT_REPORT and KBH_GO_REPORT not set (.ci/wine/hammer-agent.sh sets them)")
	}
	size, err := strconv.Atoi(os.Getenv("KBH_RANGE_SIZE"))
	if err != nil || size <= 0 {
		t.Fatalf("KBH_RANGE_SIZE=%q: want the narrowed range's size", os.Getenv("KBH_RANGE_SIZE"))
	}
	agent := readAgentReport(t, agentPath)
	text, err := os.ReadFile(goPath)
	if err != nil {
		t.Fatal(err)
	}
	goAttempts, goCounts, err := parseSummaryCounts(string(text))
	if err != nil {
		t.Fatalf("%s: %v\n%s", goPath, err, text)
	}
	t.Logf("agent (kbh-hammer.exe) under Wine:\n%s", agent.Summary())
	t.Logf("Go hammer (kbharness.exe hammer) under Wine:\n%s", text)

	// Both listeners may take a port of the range, and a worker may race
	// the last free one: a few either way.
	const slack = 4
	var agentSet, goSet []string
	for _, c := range Classes {
		if agent.Counts[c] > 0 {
			agentSet = append(agentSet, c.String())
		}
		if goCounts[c] > 0 {
			goSet = append(goSet, c.String())
		}
	}
	t.Logf("range %d ports; agent: %d attempts %v %v; Go: %d attempts %v %v", size, agent.Attempts, agentSet, agent.Counts, goAttempts, goSet, goCounts)
	for _, side := range []struct {
		name     string
		attempts int64
		counts   [numClasses]int64
	}{{"agent", agent.Attempts, agent.Counts}, {"Go hammer", goAttempts, goCounts}} {
		if side.counts[ClassSuccess] == 0 || side.counts[ClassAddrInUse] == 0 {
			t.Errorf("%s: success %d, addrinuse %d; want both > 0", side.name, side.counts[ClassSuccess], side.counts[ClassAddrInUse])
		}
		if d := side.counts[ClassSuccess] - int64(size); d < -slack || d > slack {
			t.Errorf("%s: %d successes on a range of %d ports (slack %d)", side.name, side.counts[ClassSuccess], size, slack)
		}
	}
	if agent.Attempts != goAttempts {
		t.Errorf("attempts: agent %d, Go hammer %d", agent.Attempts, goAttempts)
	}
	if !slices.Equal(agentSet, goSet) {
		t.Errorf("classes seen: agent %v, Go hammer %v", agentSet, goSet)
	}
	if e := agent.First[ClassAddrInUse]; e != nil && (e.Op != "bind" || !strings.HasPrefix(e.Err, "WSAEADDRINUSE")) {
		t.Errorf("agent's first addrinuse: %v, want bind: WSAEADDRINUSE", e)
	}
}

func readAgentReport(t *testing.T, path string) *Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseAgentReport(data)
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
	return res
}

var (
	summaryHead  = regexp.MustCompile(`(?m)^target \S+ mode \S+ close \S+ range \S+: (\d+) attempts in `)
	summaryClass = regexp.MustCompile(`(?m)^  (success|addrinuse|exhausted|refused|timeout|other) +(\d+)`)
)

// parseSummaryCounts reads the attempts and counts of Result.Summary's text.
func parseSummaryCounts(s string) (attempts int64, counts [numClasses]int64, err error) {
	m := summaryHead.FindStringSubmatch(s)
	if m == nil {
		return 0, counts, errors.New("no summary line (target ... N attempts in ...)")
	}
	attempts, _ = strconv.ParseInt(m[1], 10, 64)
	seen := 0
	for _, m := range summaryClass.FindAllStringSubmatch(s, -1) {
		for _, c := range Classes {
			if c.String() == m[1] {
				counts[c], _ = strconv.ParseInt(m[2], 10, 64)
				seen++
			}
		}
	}
	if seen != len(Classes) {
		return 0, counts, fmt.Errorf("%d class lines, want %d", seen, len(Classes))
	}
	return attempts, counts, nil
}
