// Command kbh-standin is kbharness's Windows command stand-in: one program,
// a client on Windows and the server on Linux (see internal/standin for the
// design and for what the stand-ins cannot prove).
//
// Built for Windows, it is copied under the names route.exe, netsh.exe,
// powershell.exe and wevtutil.exe into a Wine prefix. Started under one of
// them, it sends the command, its arguments and the PersistentRoutes
// registry values to the server at $KBH_STANDIN_ADDR, prints the answer,
// applies the registry operations the server returns, and exits with the
// command's exit status. Under its own name:
//
//	kbh-standin.exe interfaces    the interfaces as Go's net package (GetAdaptersAddresses) sees them
//
// Built for Linux, it is the server, run inside the lab namespace:
//
//	kbh-standin serve --listen 127.0.0.1:0 --ready FILE [--inject secondary-ip-route-loss] [--log FILE]
//
// It writes the address it listens on to FILE once it accepts
// connections, and runs until SIGINT or SIGTERM.
package main
