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
//	kbh-standin serve --listen 127.0.0.1:0 --ready FILE [--inject secondary-ip-route-loss,kb287032] [--os 2019|2008r2] [--log FILE]
//
// It writes the address it listens on to FILE once it accepts
// connections, and runs until SIGINT or SIGTERM. --os picks the Windows it
// answers as: 2019 (the default) or 2008r2 (`ver` 6.1.7601, PowerShell
// 2.0, no NetTCPIP cmdlets).
//
// Also on Linux, as an sshd ForceCommand, it makes an OpenSSH server look
// like Windows OpenSSH, which runs a command line in cmd.exe:
//
//	kbh-standin ssh-command --server ADDR
//
// splits $SSH_ORIGINAL_COMMAND by the Windows rules and runs it as
// `cmd /c LINE` on the server at ADDR.
package main
