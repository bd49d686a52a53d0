package mcast

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kbharness/kbharness/netcfg"
)

func TestNetshArgv(t *testing.T) {
	for _, c := range []struct {
		got, want []string
	}{
		{SetGlobalArgv(true), strings.Fields("netsh interface ipv4 set global multicastforwarding=enabled")},
		{SetGlobalArgv(false), strings.Fields("netsh interface ipv4 set global multicastforwarding=disabled")},
		{SetInterfaceArgv("Ethernet 2", true), []string{"netsh", "interface", "ipv4", "set", "interface", "interface=Ethernet 2", "forwarding=enabled"}},
		{ShowGlobalArgv(), strings.Fields("netsh interface ipv4 show global")},
		{ShowInterfaceArgv("Ethernet 2"), []string{"netsh", "interface", "ipv4", "show", "interface", "interface=Ethernet 2"}},
	} {
		if d := cmp.Diff(c.want, c.got); d != "" {
			t.Errorf("argv (-want +got):\n%s", d)
		}
	}
}

// showGlobal follows the layout of `netsh interface ipv4 show global` on
// Windows 10 (label, padding, " : ", value). It is typed from that layout,
// not a recorded capture: /work/shared/samples has no show-global output.
const showGlobal = `Querying active state...

General Global Parameters
---------------------------------------------
Default Hop Limit                   : 128 hops
Neighbor Cache Limit                : 256 entries per interface
Route Cache Limit                   : 4096 entries per compartment
Reassembly Limit                    : 267358144 bytes
ICMP Redirects                      : enabled
Source Routing Behavior             : dontforward
Task Offload                        : enabled
Dhcp Media Sense                    : enabled
Media Sense Logging                 : disabled
MLD Level                           : all
MLD Version                         : version3
Multicast Forwarding                : %s
Group Forwarded Fragments           : disabled
Randomize Identifiers               : enabled
Address Mask Reply                  : disabled
`

const showInterface = `
Interface Ethernet 2 Parameters
----------------------------------------------
IfLuid                             : ethernet_32769
IfIndex                            : 12
State                              : connected
Metric                             : 25
Link MTU                           : 1500 bytes
Reachable Time                     : 20500 ms
Base Reachable Time                : 30000 ms
Retransmission Interval            : 1000 ms
DAD Transmits                      : 3
Site Prefix Length                 : 64
Site Id                            : 1
Forwarding                         : %s
Advertising                        : disabled
Neighbor Discovery                 : enabled
Neighbor Unreachability Detection  : enabled
Router Discovery                   : dhcp
Managed Address Configuration      : enabled
Other Stateful Configuration       : enabled
Weak Host Sends                    : disabled
Weak Host Receives                 : disabled
Use Automatic Metric               : enabled
Ignore Default Routes              : disabled
Advertised Router Lifetime         : 1800 seconds
Advertise Default Route            : disabled
Current Hop Limit                  : 0
Force ARPND Wake up patterns       : disabled
Directed MAC Wake up patterns      : disabled
ECN capability                     : application
`

func TestParseForwardingSwitches(t *testing.T) {
	for _, v := range []string{"enabled", "disabled"} {
		got, err := ParseMulticastForwarding(strings.Replace(showGlobal, "%s", v, 1))
		if err != nil || got != (v == "enabled") {
			t.Errorf("ParseMulticastForwarding(%s) = %v, %v", v, got, err)
		}
		got, err = ParseInterfaceForwarding(strings.ReplaceAll(strings.Replace(showInterface, "%s", v, 1), "\n", "\r\n"))
		if err != nil || got != (v == "enabled") {
			t.Errorf("ParseInterfaceForwarding(%s) = %v, %v", v, got, err)
		}
	}
	if _, err := ParseMulticastForwarding("Default Hop Limit : 128 hops\n"); err == nil || !strings.Contains(err.Error(), `no "Multicast Forwarding" line`) {
		t.Errorf("missing line: err = %v", err)
	}
	if _, err := ParseMulticastForwarding("x\nMulticast Forwarding : maybe\n"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad value: err = %v", err)
	}
}

// fakeNetsh keeps the global and per-interface switches and answers the
// netsh commands EnableForwarding issues; failOn makes one argv fail.
type fakeNetsh struct {
	global bool
	ifs    map[string]bool
	failOn string
	ran    []string
}

func (f *fakeNetsh) Run(_ context.Context, argv []string) (netcfg.Output, error) {
	line := strings.Join(argv, " ")
	f.ran = append(f.ran, line)
	if line == f.failOn {
		return netcfg.Output{ExitCode: 1}, &netcfg.CommandError{Argv: argv, Output: netcfg.Output{ExitCode: 1}}
	}
	state := func(b bool) string { return onOff(b) }
	switch {
	case line == strings.Join(ShowGlobalArgv(), " "):
		return netcfg.Output{Stdout: []byte(fmt.Sprintf(showGlobal, state(f.global)))}, nil
	case strings.HasPrefix(line, "netsh interface ipv4 set global multicastforwarding="):
		f.global = strings.HasSuffix(line, "=enabled")
		return netcfg.Output{Stdout: []byte("Ok.\n")}, nil
	case strings.HasPrefix(line, "netsh interface ipv4 show interface interface="):
		return netcfg.Output{Stdout: []byte(fmt.Sprintf(showInterface, state(f.ifs[argv[5][len("interface="):]])))}, nil
	case strings.HasPrefix(line, "netsh interface ipv4 set interface interface="):
		f.ifs[argv[5][len("interface="):]] = argv[6] == "forwarding=enabled"
		return netcfg.Output{Stdout: []byte("Ok.\n")}, nil
	}
	return netcfg.Output{}, fmt.Errorf("unexpected %q", line)
}

func TestEnableForwardingRecordsEachUndoFirst(t *testing.T) {
	f := &fakeNetsh{ifs: map[string]bool{"Ethernet 2": true, "Ethernet 3": false}}
	var recorded [][]string
	record := func(undo []string) error { recorded = append(recorded, undo); return nil }
	restore, err := EnableForwarding(context.Background(), f, record, "Ethernet 2", "Ethernet 3")
	if err != nil {
		t.Fatal(err)
	}
	if !f.global || !f.ifs["Ethernet 2"] || !f.ifs["Ethernet 3"] {
		t.Fatalf("after EnableForwarding: global %v, interfaces %v", f.global, f.ifs)
	}
	want := [][]string{SetGlobalArgv(false), SetInterfaceArgv("Ethernet 2", true), SetInterfaceArgv("Ethernet 3", false)}
	if fmt.Sprint(recorded) != fmt.Sprint(want) {
		t.Errorf("recorded undos %q, want %q", recorded, want)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if f.global || !f.ifs["Ethernet 2"] || f.ifs["Ethernet 3"] {
		t.Errorf("after restore: global %v, interfaces %v; want the values before", f.global, f.ifs)
	}

	// A failure halfway puts back what was changed.
	f = &fakeNetsh{ifs: map[string]bool{"Ethernet 2": false}, failOn: strings.Join(SetInterfaceArgv("Ethernet 2", true), " ")}
	if _, err := EnableForwarding(context.Background(), f, func([]string) error { return nil }, "Ethernet 2"); err == nil {
		t.Fatal("EnableForwarding succeeded although netsh failed")
	}
	if f.global {
		t.Error("the global switch stayed on after the failure")
	}
}
