package winhost

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
	"github.com/kbharness/kbharness/netcfg/winreg"
)

// fakeRunner records each argv and answers from a script keyed by the
// argv's first words; an argv it has no answer for fails the test.
type fakeRunner struct {
	t       *testing.T
	answers map[string]answer // key: strings.Join(argv[:n], " ") for the longest matching n
	ran     []string
}

type answer struct {
	out string
	err error
}

func (f *fakeRunner) Run(_ context.Context, argv []string) (netcfg.Output, error) {
	line := strings.Join(argv, " ")
	f.ran = append(f.ran, line)
	for n := len(argv); n > 0; n-- {
		if a, ok := f.answers[strings.Join(argv[:n], " ")]; ok {
			out := netcfg.Output{Stdout: []byte(a.out)}
			if a.err != nil {
				return out, &netcfg.CommandError{Argv: argv, Output: out, Err: a.err}
			}
			return out, nil
		}
	}
	f.t.Errorf("unexpected command %q", line)
	return netcfg.Output{}, errors.New("unexpected command")
}

func indexOf(alias string) (int, error) {
	if alias == "Ethernet 2" {
		return 11, nil
	}
	return 0, errors.New("no such interface")
}

var (
	defaultRoute = netcfg.RouteSpec{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Persistent: true}
	secondary    = netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "Ethernet 2"}
)

func TestRouteExe(t *testing.T) {
	for _, tc := range []struct {
		name    string
		do      func(RouteExe) error
		answers map[string]answer
		wantRan []string
		wantErr string // substring; "" for success
	}{
		{
			name:    "route -p add without IF, as in the KB article",
			do:      func(c RouteExe) error { return c.AddRoute(context.Background(), defaultRoute) },
			answers: map[string]answer{"route -p add": {out: " OK!\r\n"}},
			wantRan: []string{"route -p add 0.0.0.0 mask 0.0.0.0 192.0.2.1"},
		},
		{
			name: "route add with IF resolves the alias",
			do: func(c RouteExe) error {
				r := defaultRoute
				r.Interface, r.Persistent, r.Metric = "Ethernet 2", false, 5
				return c.AddRoute(context.Background(), r)
			},
			answers: map[string]answer{"route add": {out: " OK!\r\n"}},
			wantRan: []string{"route add 0.0.0.0 mask 0.0.0.0 192.0.2.1 metric 5 if 11"},
		},
		{
			name:    "exit 0 without OK! is a failure",
			do:      func(c RouteExe) error { return c.AddRoute(context.Background(), defaultRoute) },
			answers: map[string]answer{"route -p add": {out: "The route addition failed: The object already exists.\r\n"}},
			wantRan: []string{"route -p add 0.0.0.0 mask 0.0.0.0 192.0.2.1"},
			wantErr: "The route addition failed",
		},
		{
			name:    "a non-zero exit carries argv and output",
			do:      func(c RouteExe) error { return c.DeleteRoute(context.Background(), defaultRoute) },
			answers: map[string]answer{"route delete": {out: "The route deletion failed: Element not found.", err: errors.New("exit status 1")}},
			wantRan: []string{"route delete 0.0.0.0 mask 0.0.0.0 192.0.2.1"},
			wantErr: `running ["route" "delete" "0.0.0.0" "mask" "0.0.0.0" "192.0.2.1"]: exit status 1: The route deletion failed`,
		},
		{
			name: "unknown interface",
			do: func(c RouteExe) error {
				r := defaultRoute
				r.Interface = "nope"
				return c.AddRoute(context.Background(), r)
			},
			wantErr: "no such interface",
		},
		{
			name:    "addresses are unsupported",
			do:      func(c RouteExe) error { return c.AddAddress(context.Background(), secondary) },
			wantErr: "route.exe changes routes only",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRunner{t: t, answers: tc.answers}
			err := tc.do(RouteExe{Run: f, Index: indexOf})
			checkErr(t, err, tc.wantErr)
			if d := cmp.Diff(tc.wantRan, f.ran); d != "" {
				t.Errorf("commands run (-want +got):\n%s", d)
			}
		})
	}
}

func TestNetsh(t *testing.T) {
	f := &fakeRunner{t: t, answers: map[string]answer{
		"netsh interface ipv4 add address":    {out: "Ok.\r\n"},
		"netsh interface ipv4 delete address": {out: "Element not found.\r\n", err: errors.New("exit status 1")},
	}}
	c := Netsh{Run: f}
	if err := c.AddAddress(context.Background(), secondary); err != nil {
		t.Fatal(err)
	}
	checkErr(t, c.DeleteAddress(context.Background(), secondary), "Element not found")
	if err := c.AddAddress(context.Background(), netcfg.AddressSpec{Prefix: secondary.Prefix}); err == nil {
		t.Error("an address without an interface must be refused before netsh runs")
	}
	want := []string{
		"netsh interface ipv4 add address Ethernet 2 192.0.2.21 255.255.255.0",
		"netsh interface ipv4 delete address Ethernet 2 192.0.2.21",
	}
	if d := cmp.Diff(want, f.ran); d != "" {
		t.Errorf("commands run (-want +got):\n%s", d)
	}
}

func TestPowerShellShowsTheScriptOnFailure(t *testing.T) {
	f := &fakeRunner{t: t, answers: map[string]answer{"powershell.exe -NoProfile -NonInteractive -EncodedCommand": {err: errors.New("exit status 1")}}}
	r := defaultRoute
	r.Interface = "Ethernet 2"
	checkErr(t, PowerShell{Run: f}.AddRoute(context.Background(), r), "New-NetRoute -DestinationPrefix '0.0.0.0/0' -InterfaceAlias 'Ethernet 2'")
}

func TestPersistentRoutesFromRoutePrint(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []winreg.Route
	}{
		{"16-jc-fixture-win2008-route-print-persistent-default.txt",
			[]winreg.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.168.23.1"), Metric: winreg.DefaultMetric}}},
		{"20-jc-fixture-win10-hyperv-vmware-crlf-persistent-157.txt",
			[]winreg.Route{{Dst: netip.MustParsePrefix("157.0.0.0/8"), Gateway: netip.MustParseAddr("157.55.80.1"), Metric: 3}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			text, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			f := &fakeRunner{t: t, answers: map[string]answer{"route print -4": {out: string(text)}}}
			got, err := PersistentRoutes(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
				t.Errorf("persistent routes (-want +got):\n%s", d)
			}
		})
	}
}

func TestCheckPersistentStore(t *testing.T) {
	text, err := os.ReadFile("testdata/16-jc-fixture-win2008-route-print-persistent-default.txt")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRunner{t: t, answers: map[string]answer{"route print -4": {out: string(text)}}}
	agreeing := &netcfg.Snapshot{Routes: []netcfg.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.168.23.1"), Metric: winreg.DefaultMetric, Store: netcfg.StorePersistent},
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.168.23.1"), Metric: 0, Store: netcfg.StoreActive},
	}}
	m, err := CheckPersistentStore(context.Background(), f, agreeing)
	if err != nil || !m.Empty() {
		t.Fatalf("agreeing views: %+v, %v", m, err)
	}
	m, err = CheckPersistentStore(context.Background(), f, &netcfg.Snapshot{})
	if err != nil || len(m.OnlyOther) != 1 || m.OnlyOther[0] != "0.0.0.0,0.0.0.0,192.168.23.1,-1" {
		t.Fatalf("registry without the route: %+v, %v; want it only in route print", m, err)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("error = %v, want one containing %q", err, want)
	}
}

func TestProbes(t *testing.T) {
	text, err := os.ReadFile("testdata/16-jc-fixture-win2008-route-print-persistent-default.txt")
	if err != nil {
		t.Fatal(err)
	}
	interfaces, err := os.ReadFile("testdata/05-wsl-vpn-notes-win10-show-interfaces.txt")
	if err != nil {
		t.Fatal(err)
	}
	works := &fakeRunner{t: t, answers: map[string]answer{
		"route print -4":                                     {out: string(text)},
		"netsh interface ipv4 show interfaces":               {out: string(interfaces)},
		"powershell.exe -NoProfile -NonInteractive -Command": {out: "Get-NetRoute\r\n"},
	}}
	// Wine: netsh.exe and powershell.exe are stubs that print nothing useful.
	stubs := &fakeRunner{t: t, answers: map[string]answer{
		"route print -4":                                     {err: errors.New(`exec: "route": executable file not found in %PATH%`)},
		"netsh interface ipv4 show interfaces":               {out: "\r\n"},
		"powershell.exe -NoProfile -NonInteractive -Command": {},
	}}
	for _, f := range []*fakeRunner{works, stubs} {
		for _, c := range []interface{ Probe(context.Context) error }{RouteExe{Run: f}, Netsh{Run: f}, PowerShell{Run: f}} {
			err := c.Probe(context.Background())
			if f == works && err != nil {
				t.Errorf("%T.Probe on a working host: %v", c, err)
			}
			if f == stubs && !errors.Is(err, netcfg.ErrUnsupported) {
				t.Errorf("%T.Probe on stubs: got %v, want ErrUnsupported", c, err)
			}
		}
	}
}

// TestLegacyPS runs AddIPAddress and DeleteIPAddress by P/Invoke: the NTE
// context AddIPAddress printed is kept, handed to the undo recorder as a
// guarded DeleteIPAddress, and used by DeleteAddress.
func TestLegacyPS(t *testing.T) {
	add, err := pwsh.LegacyAddArgv(secondary.Prefix, 11)
	if err != nil {
		t.Fatal(err)
	}
	del := pwsh.LegacyDeleteArgv(7)
	r := &fakeRunner{t: t, answers: map[string]answer{
		strings.Join(add, " "): {out: "NTEContext=7 NTEInstance=1234\r\n"},
		strings.Join(del, " "): {},
	}}
	c := &LegacyPS{Run: r, Index: indexOf}
	var undo []netcfg.UndoCommand
	ctx := netcfg.WithUndoRecorder(context.Background(), func(u netcfg.UndoCommand) error { undo = append(undo, u); return nil })
	if err := c.AddAddress(ctx, secondary); err != nil {
		t.Fatal(err)
	}
	if len(undo) != 1 || !slices.Equal(undo[0].Argv, del) || *undo[0].Guard != secondary || !strings.Contains(undo[0].Undoes, "NTE context 7") {
		t.Errorf("undo recorded: %+v", undo)
	}
	if err := c.DeleteAddress(ctx, secondary); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAddress(ctx, secondary); !errors.Is(err, netcfg.ErrNotFound) {
		t.Errorf("deleting it again: %v, want ErrNotFound (no NTE context)", err)
	}
	if err := c.AddAddress(ctx, netcfg.AddressSpec{Prefix: netip.MustParsePrefix("2001:db8::21/64"), Interface: "Ethernet 2"}); !errors.Is(err, netcfg.ErrUnsupported) {
		t.Errorf("IPv6 by AddIPAddress: %v, want ErrUnsupported", err)
	}
	if err := c.AddRoute(ctx, defaultRoute); !errors.Is(err, netcfg.ErrUnsupported) {
		t.Errorf("a route by AddIPAddress: %v, want ErrUnsupported", err)
	}
}

// TestCheckRegistry reads the registry of a host reached by commands with
// reg query and compares it with a real route print capture.
func TestCheckRegistry(t *testing.T) {
	text, err := os.ReadFile("testdata/16-jc-fixture-win2008-route-print-persistent-default.txt")
	if err != nil {
		t.Fatal(err)
	}
	query := strings.Join(winreg.QueryArgv(), " ")
	key := "\r\nHKEY_LOCAL_MACHINE\\" + winreg.PersistentRoutesKey + "\r\n"
	f := &fakeRunner{t: t, answers: map[string]answer{
		"route print -4": {out: string(text)},
		query:            {out: key + "    0.0.0.0,0.0.0.0,192.168.23.1,-1    REG_SZ    \r\n\r\n"},
	}}
	if m, err := CheckRegistry(context.Background(), f); err != nil || !m.Empty() {
		t.Fatalf("agreeing views: %+v, %v", m, err)
	}
	f.answers[query] = answer{out: "ERROR: The system was unable to find the specified registry key or value.\r\n", err: errors.New("exit status 1")}
	m, err := CheckRegistry(context.Background(), f)
	if err != nil || len(m.OnlyOther) != 1 {
		t.Fatalf("no PersistentRoutes key: %+v, %v; want the route only in route print", m, err)
	}
	f.answers[query] = answer{out: key + "    not-a-route    REG_SZ    \r\n"}
	if _, err := CheckRegistry(context.Background(), f); err == nil {
		t.Error("a value name that is no route: no error")
	}
}
