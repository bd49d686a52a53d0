package wincmd

import "github.com/kbharness/kbharness/netcfg"

// Mechanisms returns the command mechanisms running through r.
func Mechanisms(r Runner, index Indexer) map[netcfg.Mechanism]netcfg.Changer {
	return map[netcfg.Mechanism]netcfg.Changer{
		netcfg.RouteExe:   RouteExe{Run: r, Index: index},
		netcfg.Netsh:      Netsh{Run: r},
		netcfg.PowerShell: PowerShell{Run: r},
	}
}

// OpenLocal opens the local Windows host with every mechanism: winipcfg and
// iphlpapi-legacy in-process, route.exe, netsh and powershell by exec.
func OpenLocal() (netcfg.Host, error) {
	return netcfg.OpenWindowsHost(netcfg.WindowsOptions{Commands: Mechanisms(Exec, NetIndex)})
}
