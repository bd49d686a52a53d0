// Package standin is the server side of kbharness's Windows command
// stand-ins: route.exe, netsh.exe, powershell.exe and wevtutil.exe as the
// Windows suite binary runs them under Wine, implemented over the real
// Linux kernel of the lab namespace the server runs in.
//
// # How it fits together
//
// cmd/kbh-standin built for Windows is a small PE copied under the four
// names into the Wine prefix. Run as one of them, it sends its name, its
// argv and the values of HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\
// Parameters\PersistentRoutes (package wire) to the server at
// $KBH_STANDIN_ADDR, prints what comes back, applies the registry
// operations that come back, and exits with the status that comes back.
// cmd/kbh-standin built for Linux is the server (`kbh-standin serve`); a
// Server (this package) runs each command:
//
//   - argv is parsed as the real command parses it, for exactly the
//     commands kbharness issues (netcfg/routeexe, netcfg/netsh, netcfg/pwsh,
//     internal/winevent, internal/mcast, internal/hammer, and the probes);
//   - changes go to the kernel by netlink (addresses, routes) and
//     /proc/sys/net (dynamic port range, forwarding), so what Wine's
//     iphlpapi reads afterwards (GetIpForwardTable2, GetAdaptersAddresses,
//     GetUnicastIpAddressTable) is the change: read-after-write is real;
//   - deleting an address deletes that address only, as on Windows: the
//     server sets net.ipv4.conf.<if>.promote_secondaries first, since Linux
//     would otherwise take every secondary address of the subnet with its
//     primary;
//   - the persistent store, which the kernel does not have, is the
//     server's: route -p add, netsh store=persistent (the default) and
//     New-NetRoute/New-NetIPAddress without -PolicyStore write both stores,
//     store=active and -PolicyStore ActiveStore the active one only, and
//     route delete removes from both. Its IPv4 routes are mirrored into the
//     PersistentRoutes values ("dest,mask,gateway,metric"), which the
//     clients write, as Windows' Tcpipreg keeps that key for legacy readers;
//   - outputs are rendered in the real formats (`route print`, netsh's show
//     tables and blocks, PowerShell's JSON, list and table views, wevtutil),
//     checked by format_linux_test.go against real captures and parsed back
//     by kbharness's own parsers to the kernel's values;
//   - what the real command rejects is rejected, with the real text where
//     Microsoft documents it: `route /?`'s "(Destination & Mask) !=
//     Destination" and its metric range 1 to 9999, KB929851's limits of the
//     dynamic port range, the NetTCPIP cmdlets' store rules, PowerShell's
//     parameter binding errors;
//   - anything else is rejected loudly: "kbh-standin: unsupported: ..."
//     on stderr and exit status 1, never an answer that looks like Windows'.
//
// Interfaces: Wine's iphlpapi numbers and names interfaces after the Linux
// ones (IfIndex = ifindex, alias = description = the Linux name; checked
// under Wine 8 with GetAdaptersAddresses), and so do the stand-ins.
//
// Defect injectors (Options.Inject) make the server behave like a broken
// stack: InjectSecondaryIPRouteLoss as in the secondary-ip-route-loss
// article (deleting an address deletes the persistent routes of its
// interface from both stores), InjectKB287032 as in KB287032 (deleting an
// address out of FIFO order leaves its host route behind).
//
// # What the stand-ins cannot prove
//
// They implement Microsoft's documented syntax and semantics, not Windows'
// implementation. A suite that passes against them shows that kbharness
// issues well-formed commands, reads their outputs correctly, and
// reasons correctly about a stack that behaves as documented, over a real
// kernel. It does not show how Windows behaves:
//
//   - where the documentation is silent the stand-ins chose, and say so
//     where they do (Remove-NetRoute without -PolicyStore removes from both
//     stores; netsh delete with store=persistent removes from both;
//     which Win32 error, hence which text, route.exe and netsh print for a
//     duplicate, a missing route or an unknown interface; PowerShell's CIM
//     error texts, taken from captures; "Ok." after netsh changes);
//   - Windows' own route logic is Linux's here: interface metrics (none:
//     every interface metric is 0, route print's metric is the route's),
//     automatic metrics, route selection, which routes may coexist (Linux
//     refuses a second IPv4 route to a destination with the same metric,
//     whatever its gateway), which host and broadcast routes exist, what
//     happens to routes when an address goes (the subject of two of the KB
//     articles!), lifetimes, DAD: IPv6 DAD is Linux's; for IPv4 only
//     AddIPAddress probes the link (one ARP probe, ProbeWindow of
//     listening) and keeps the Duplicate state itself (Linux has none for
//     IPv4) while the address sits in the kernel, usable, where Windows
//     would not use it; Wine's iphlpapi reports every address as Preferred
//     regardless;
//   - agent/iphlpapi, the stand-in DLL of the in-process writes, checks
//     the rows as documented and stops there: Windows' own validation of a
//     row (origins, lifetimes, SkipAsSource, Protocol) is not reproduced;
//   - the persistent store is never applied at a boot, there is none; it
//     is seeded once from the registry at the first command and kept by the
//     server afterwards (a registry value written behind its back after that
//     is overwritten);
//   - one TCP dynamic port range serves TCP and UDP, IPv4 and IPv6 (Linux's
//     ip_local_port_range; KB929851: Windows keeps one per transport and IP
//     version); multicastforwarding= is remembered, not applied
//     (Linux has no such switch); the event log is always empty;
//   - localized output: the stand-ins print English only;
//   - Windows bugs: by construction none, unless injected.
//
// Messages: documented texts are quoted from `route /?`, the netsh and
// NetTCPIP references and KB929851; the Win32 error texts ("Element not
// found.", "The object already exists.", "The parameter is incorrect.")
// are Windows' own messages for the codes, the choice of code is ours;
// texts marked in the code as ours (a metric out of range) say what is
// wrong without pretending to be Windows' wording.
package standin
