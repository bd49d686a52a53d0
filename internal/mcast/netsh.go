package mcast

import (
	"bufio"
	"fmt"
	"strings"
)

// SetGlobalArgv builds `netsh interface ipv4 set global
// multicastforwarding=enabled|disabled`.
func SetGlobalArgv(enabled bool) []string {
	return []string{"netsh", "interface", "ipv4", "set", "global", "multicastforwarding=" + onOff(enabled)}
}

// SetInterfaceArgv builds `netsh interface ipv4 set interface "<name>"
// forwarding=enabled|disabled`. exec passes the alias as one argument, so
// spaces need no quoting.
func SetInterfaceArgv(ifname string, enabled bool) []string {
	return []string{"netsh", "interface", "ipv4", "set", "interface", "interface=" + ifname, "forwarding=" + onOff(enabled)}
}

// ShowGlobalArgv builds `netsh interface ipv4 show global`.
func ShowGlobalArgv() []string { return []string{"netsh", "interface", "ipv4", "show", "global"} }

// ShowInterfaceArgv builds `netsh interface ipv4 show interface interface="<name>"`.
func ShowInterfaceArgv(ifname string) []string {
	return []string{"netsh", "interface", "ipv4", "show", "interface", "interface=" + ifname}
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

// ParseMulticastForwarding reads the "Multicast Forwarding : enabled" line
// of `netsh interface ipv4 show global`.
func ParseMulticastForwarding(out string) (bool, error) {
	return parseSwitch(out, "Multicast Forwarding", "netsh interface ipv4 show global")
}

// ParseInterfaceForwarding reads the "Forwarding : enabled" line of
// `netsh interface ipv4 show interface interface=<name>`.
func ParseInterfaceForwarding(out string) (bool, error) {
	return parseSwitch(out, "Forwarding", "netsh interface ipv4 show interface")
}

// parseSwitch finds the "label : enabled|disabled" line (label matched
// exactly, case-insensitively) in netsh's list output.
func parseSwitch(out, label, command string) (bool, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for line := 1; sc.Scan(); line++ {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), label) {
			continue
		}
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "enabled":
			return true, nil
		case "disabled":
			return false, nil
		default:
			return false, fmt.Errorf("parsing %s output: line %d: %s is %q, want enabled or disabled", command, line, label, v)
		}
	}
	return false, fmt.Errorf("parsing %s output: no %q line", command, label)
}
