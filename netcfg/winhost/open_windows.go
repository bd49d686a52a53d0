package winhost

import "github.com/kbharness/kbharness/netcfg"

// Mechanisms returns the command mechanisms running through r, with
// interface indexes from index.
func Mechanisms(r netcfg.Runner, index Indexer) map[netcfg.Mechanism]Changer {
	return map[netcfg.Mechanism]Changer{
		netcfg.RouteExe:   RouteExe{Run: r, Index: index},
		netcfg.Netsh:      Netsh{Run: r},
		netcfg.PowerShell: PowerShell{Run: r},
	}
}

// OpenLocal opens the Windows host this process runs on with every
// mechanism: winipcfg and iphlpapi-legacy in-process; route.exe, netsh and
// powershell run by r (netcfg.Exec, or a stand-in's runner in tests).
func OpenLocal(r netcfg.Runner) (netcfg.Host, error) {
	return OpenWindowsHost(WindowsOptions{Commands: Mechanisms(r, NetIndex)})
}
