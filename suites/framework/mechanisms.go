package framework

import (
	"runtime"

	"github.com/kbharness/kbharness/netcfg"
)

// RouteMechanisms are the mechanisms that write persistent routes on this
// platform: the ones a suite's tables run across. Entries the host cannot
// use skip with the capability's reason.
func RouteMechanisms() []netcfg.Mechanism {
	if runtime.GOOS == "windows" {
		return []netcfg.Mechanism{netcfg.RouteExe, netcfg.Netsh, netcfg.PowerShell}
	}
	return []netcfg.Mechanism{netcfg.Netlink, netcfg.IPRoute2}
}

// AddressMechanisms are the mechanisms that add and delete addresses on this
// platform.
func AddressMechanisms() []netcfg.Mechanism {
	if runtime.GOOS == "windows" {
		return []netcfg.Mechanism{netcfg.Netsh, netcfg.IPHlpAPILegacy, netcfg.WinIPCfg, netcfg.PowerShell}
	}
	return []netcfg.Mechanism{netcfg.Netlink, netcfg.IPRoute2}
}
