package mcast

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
