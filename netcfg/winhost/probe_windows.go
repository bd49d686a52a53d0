package winhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"os/exec"
	"time"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"

	"github.com/kbharness/kbharness/netcfg/internal/iphlpapi"
)

// The iphlpapi.dll procedures each capability calls, directly or inside
// winipcfg. winipcfg calls LazyProc.Addr, which panics on a missing
// procedure, so every one is found (LazyProc.Find) before first use.
var (
	snapshotProcs = []string{"GetAdaptersAddresses", "GetIpForwardTable2", "GetUnicastIpAddressTable", "FreeMibTable"}
	eventProcs    = []string{"NotifyRouteChange2", "NotifyUnicastIpAddressChange", "CancelMibChangeNotify2"}
	winipcfgProcs = []string{
		"ConvertInterfaceIndexToLuid", "GetBestInterfaceEx",
		"InitializeIpForwardEntry", "CreateIpForwardEntry2", "DeleteIpForwardEntry2",
		"InitializeUnicastIpAddressEntry", "CreateUnicastIpAddressEntry", "DeleteUnicastIpAddressEntry",
	}
	legacyProcs = []string{"AddIPAddress", "DeleteIPAddress", "GetAdaptersInfo", "GetBestInterfaceEx",
		"ConvertInterfaceIndexToLuid", "GetUnicastIpAddressEntry"} // the last two: the DAD state after AddIPAddress
)

// probe is what OpenWindowsHost found this host can do. A nil error means
// the capability works; otherwise the error says why not and matches
// ErrUnsupported.
type probe struct {
	snapshot   error
	events     error
	persistent error
	ipv6       bool // GetIpForwardTable2 lists IPv6 routes (Wine 8's lists none)
	mechanisms map[netcfg.Mechanism]error
}

// requireProcs returns an UnsupportedError naming the first procedure of
// names that iphlpapi.dll does not export, as "<what> <procedure>".
func requireProcs(what string, names ...string) error {
	for _, n := range names {
		if err := iphlpapi.FindProc(n); err != nil {
			return netcfg.Unsupported(what+" "+n, "procedure not found in iphlpapi.dll: "+err.Error())
		}
	}
	return nil
}

func probeHost(commands map[netcfg.Mechanism]Changer) probe {
	p := probe{
		snapshot:   requireProcs("snapshot", snapshotProcs...),
		events:     requireProcs("change events", eventProcs...),
		persistent: probePersistentStore(),
		mechanisms: map[netcfg.Mechanism]error{
			netcfg.WinIPCfg:       requireProcs("winipcfg", winipcfgProcs...),
			netcfg.IPHlpAPILegacy: probeLegacy(),
			netcfg.RouteExe:       probeCommand(commands, netcfg.RouteExe, "route.exe"),
			netcfg.Netsh:          probeCommand(commands, netcfg.Netsh, "netsh.exe"),
			netcfg.PowerShell:     probeCommand(commands, netcfg.PowerShell, "powershell.exe"),
		},
	}
	if p.snapshot == nil {
		v6, err := winipcfg.GetIPForwardTable2(windows.AF_INET6)
		p.ipv6 = err == nil && len(v6) > 0
	}
	if err := requireElevation(); err != nil {
		for m, merr := range p.mechanisms {
			if merr == nil {
				p.mechanisms[m] = netcfg.Unsupported("mechanism "+string(m), err.Error())
			}
		}
	}
	return p
}

// requireElevation fails when the process token is not elevated: every
// write needs administrator rights (AddIPAddress then fails with
// ERROR_INVALID_HANDLE, CreateIpForwardEntry2 with ERROR_ACCESS_DENIED,
// route.exe with "The requested operation requires elevation").
func requireElevation() error {
	if windows.GetCurrentProcessToken().IsElevated() {
		return nil
	}
	return errors.New("the process is not elevated: changing addresses and routes needs administrator rights (run as Administrator)")
}

// probeLegacy finds AddIPAddress and DeleteIPAddress, then calls
// AddIPAddress on interface index 0, which exists on no host: a working
// implementation rejects it, a stub answers ERROR_NOT_SUPPORTED (Wine).
func probeLegacy() error {
	if err := requireProcs("iphlpapi-legacy", legacyProcs...); err != nil {
		return err
	}
	var nte, instance uint32
	a := iphlpapi.IPv4ToIPAddr(legacyProbeAddr)
	err := iphlpapi.AddIPAddress(a, iphlpapi.MaskToIPAddr(32), 0, &nte, &instance)
	switch {
	case err == nil:
		// Cannot happen on a sane host; leave nothing behind if it does.
		_ = iphlpapi.DeleteIPAddress(nte)
	case errors.Is(err, windows.ERROR_NOT_SUPPORTED):
		return netcfg.Unsupported("iphlpapi-legacy AddIPAddress", "AddIPAddress returns ERROR_NOT_SUPPORTED (a stub implementation, as in Wine)")
	}
	return nil
}

// probeCommand finds a command mechanism's implementation among commands
// (WindowsOptions.Commands) and its executable on PATH, then lets the
// implementation probe (run a read command and parse its output).
func probeCommand(commands map[netcfg.Mechanism]Changer, m netcfg.Mechanism, exe string) error {
	c := commands[m]
	if c == nil {
		return netcfg.Unsupported("mechanism "+string(m), "the host was opened without it: open it with netcfg/wincmd, which runs and parses the command")
	}
	if _, err := exec.LookPath(exe); err != nil {
		return netcfg.Unsupported("mechanism "+string(m), fmt.Sprintf("%s not found: %v", exe, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandProbeTimeout)
	defer cancel()
	return c.Probe(ctx)
}

// commandProbeTimeout bounds one command probe; PowerShell's first start
// on a cold VM takes seconds.
const commandProbeTimeout = 60 * time.Second
