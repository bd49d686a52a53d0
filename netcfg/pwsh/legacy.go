package pwsh

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
)

// LegacyType is the C# class PowerShell compiles with Add-Type to call the
// legacy IP Helper functions by P/Invoke: AddIPAddress, DeleteIPAddress
// (by NTE context) and GetNumberOfInterfaces. It keeps to C# 2.0 and
// .NET 2.0, which PowerShell 2.0 (Windows 7 / Server 2008 R2) compiles.
// IPAddr arguments are the address bytes in network order, as one DWORD.
const LegacyType = `using System;
using System.ComponentModel;
using System.Net;
using System.Runtime.InteropServices;
public static class KbhIpHlp {
    [DllImport("iphlpapi.dll")] static extern int AddIPAddress(uint Address, uint IpMask, uint IfIndex, out uint NTEContext, out uint NTEInstance);
    [DllImport("iphlpapi.dll")] static extern int DeleteIPAddress(uint NTEContext);
    [DllImport("iphlpapi.dll")] static extern int GetNumberOfInterfaces(out uint NumIf);
    static uint V4(string s) { return BitConverter.ToUInt32(IPAddress.Parse(s).GetAddressBytes(), 0); }
    public static string Add(string address, string mask, uint ifIndex) {
        uint context, instance;
        int r = AddIPAddress(V4(address), V4(mask), ifIndex, out context, out instance);
        if (r != 0) { throw new Win32Exception(r); }
        return "NTEContext=" + context + " NTEInstance=" + instance;
    }
    public static void Delete(uint context) {
        int r = DeleteIPAddress(context);
        if (r != 0) { throw new Win32Exception(r); }
    }
    public static uint Interfaces() {
        uint n;
        int r = GetNumberOfInterfaces(out n);
        if (r != 0) { throw new Win32Exception(r); }
        return n;
    }
}`

// legacyScript compiles LegacyType once per powershell.exe and runs call.
func legacyScript(call string) string {
	return stop + "if (-not ('KbhIpHlp' -as [type])) { Add-Type -TypeDefinition @'\n" + LegacyType + "\n'@ }\n" + call
}

// LegacyAddArgv runs AddIPAddress(addr, mask of p, ifIndex) by P/Invoke;
// it prints "NTEContext=C NTEInstance=I" (ParseLegacyAdd). IPv4 only.
func LegacyAddArgv(p netip.Prefix, ifIndex int) ([]string, error) {
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("AddIPAddress is IPv4-only: %s", p)
	}
	mask := netip.AddrFrom4([4]byte{})
	if p.Bits() > 0 {
		m := ^uint32(0) << (32 - p.Bits())
		mask = netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
	}
	return EncodedArgv(legacyScript(fmt.Sprintf("[KbhIpHlp]::Add(%s, %s, %d)", Quote(p.Addr().String()), Quote(mask.String()), ifIndex))), nil
}

// LegacyDeleteArgv runs DeleteIPAddress(context) by P/Invoke.
func LegacyDeleteArgv(context uint32) []string {
	return EncodedArgv(legacyScript(fmt.Sprintf("[KbhIpHlp]::Delete(%d)", context)))
}

// LegacyProbeArgv compiles the class and calls GetNumberOfInterfaces: it
// prints a number where P/Invoke from PowerShell works.
func LegacyProbeArgv() []string { return EncodedArgv(legacyScript("[KbhIpHlp]::Interfaces()")) }

var legacyAdd = regexp.MustCompile(`(?m)^NTEContext=(\d+) NTEInstance=(\d+)\r?$`)

// ParseLegacyAdd reads what LegacyAddArgv's script prints.
func ParseLegacyAdd(out string) (context, instance uint32, err error) {
	m := legacyAdd.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("AddIPAddress by P/Invoke: no NTEContext in %q", out)
	}
	c, err1 := strconv.ParseUint(m[1], 10, 32)
	i, err2 := strconv.ParseUint(m[2], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("AddIPAddress by P/Invoke: NTEContext out of range in %q", out)
	}
	return uint32(c), uint32(i), nil
}
