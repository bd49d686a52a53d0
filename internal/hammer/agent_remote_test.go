package hammer

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

// fakeGuest is a remote Windows host: a file store, netsh's dynamic port
// range, a System log and the agent's report.
type fakeGuest struct {
	files  map[string][]byte
	rng    string // netsh show dynamicport's answer
	events int    // Tcpip 4227 events logged so far
	ran    []string
	report string
}

const event4227 = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Tcpip'/><EventID>4227</EventID><TimeCreated SystemTime='2026-11-29T23:00:00.000Z'/></System></Event>` + "\r\n"

func (g *fakeGuest) Put(_ context.Context, path string, data []byte) error {
	g.files[path] = data
	return nil
}

func (g *fakeGuest) Run(_ context.Context, argv []string) (netcfg.Output, error) {
	line := strings.Join(argv, " ")
	g.ran = append(g.ran, line)
	switch {
	case strings.HasPrefix(line, "netsh interface ipv4 show dynamicport tcp"):
		return netcfg.Output{Stdout: []byte(g.rng)}, nil
	case strings.HasPrefix(line, "netsh interface ipv4 set dynamicport tcp"):
		return netcfg.Output{Stdout: []byte("Ok.\r\n")}, nil
	case strings.HasPrefix(line, "wevtutil qe System"):
		return netcfg.Output{Stdout: []byte(strings.Repeat(event4227, g.events))}, nil
	case argv[0] == AgentPath:
		g.events++ // the run logs one 4227
		out := netcfg.Output{Stdout: []byte(g.report), ExitCode: 1}
		return out, &netcfg.CommandError{Argv: argv, Output: out}
	}
	return netcfg.Output{}, errors.New("unexpected command " + line)
}

// TestRunAgent copies the agent, journals the range's restore before
// narrowing it, runs the agent (exit 1: signature seen), reads its report,
// counts only the events the run added, and restores the range.
func TestRunAgent(t *testing.T) {
	g := &fakeGuest{files: map[string][]byte{}, events: 3, report: agentGood,
		rng: "\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\nStart Port      : 49152\r\nNumber of Ports : 16384\r\n"}
	var journaled []string
	cfg := Config{Target: netip.MustParseAddrPort("192.0.2.20:0"), Allowed: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Workers: 4, Count: 400, Mode: ModeBindConnect, Close: CloseClientFirst,
		PortRange: PortRange{Lo: 49152, Hi: 49406}, QuietWait: 1,
		BeforeRangeChange: func(restore []string) error { journaled = restore; return nil }}
	res, err := RunAgent(context.Background(), g, []byte("MZ agent"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if string(g.files[AgentPath]) != "MZ agent" {
		t.Errorf("the agent was not copied to %s", AgentPath)
	}
	restore := "netsh interface ipv4 set dynamicport tcp start=49152 num=16384"
	if strings.Join(journaled, " ") != restore {
		t.Errorf("journaled %q, want %q", journaled, restore)
	}
	if i := slices.IndexFunc(g.ran, func(l string) bool { return strings.HasPrefix(l, AgentPath) }); i < 0 ||
		!strings.Contains(g.ran[i-2], "start=49152 num=255") || g.ran[len(g.ran)-1] != restore {
		t.Errorf("commands in order: %q", g.ran)
	}
	if res.Count(ClassAddrInUse) != 337 || !res.Signature() || res.Events[4227] != 1 || res.PortRange != cfg.PortRange {
		t.Errorf("result: addrinuse %d, events %v, range %s", res.Count(ClassAddrInUse), res.Events, res.PortRange)
	}
}
