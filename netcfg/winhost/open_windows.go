package winhost

import "github.com/kbharness/kbharness/netcfg"

// OpenLocal opens the Windows host this process runs on with every
// mechanism: winipcfg and iphlpapi-legacy in-process; route.exe, netsh and
// powershell run by r (netcfg.Exec, or a stand-in's runner in tests).
func OpenLocal(r netcfg.Runner) (netcfg.Host, error) {
	return OpenWindowsHost(WindowsOptions{Commands: Mechanisms(r, NetIndex)})
}
