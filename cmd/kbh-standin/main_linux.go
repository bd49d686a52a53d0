package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vishvananda/netns"

	"github.com/kbharness/kbharness/internal/standin"
	"github.com/kbharness/kbharness/internal/standin/wire"
	"github.com/kbharness/kbharness/netcfg/target"
)

const usage = `Usage: kbh-standin serve --listen ADDR --ready FILE [--inject NAME[,NAME]] [--os 2019|2008r2] [--wine-prefix DIR [--wine BIN]] [--log FILE]
       kbh-standin ssh-command --server ADDR

serve: serves the Windows stand-in clients (route.exe, netsh.exe,
powershell.exe, wevtutil.exe under Wine, or ssh-command) from the network
namespace it runs in. Writes the address it listens on to FILE once it
accepts connections; runs until SIGINT or SIGTERM. Injectors:
secondary-ip-route-loss, kb287032. --os picks the Windows it answers as: 2019 (the
default; NetTCPIP cmdlets) or 2008r2 (Windows 7 / 2008 R2: ver 6.1.7601,
PowerShell 2.0, no NetTCPIP cmdlets). --wine-prefix lets it take files
(PowerShell's file copy) into the prefix's drive_c and run C:\...\*.exe
programs there under wine64, in its namespace.

ssh-command: an sshd ForceCommand that makes the SSH server look like
Windows OpenSSH: the client's command line ($SSH_ORIGINAL_COMMAND) is split
by the Windows rules and run as cmd /c on the server at ADDR.`

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "ssh-command" {
		os.Exit(sshCommand(os.Args[2:]))
	}
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(os.Stderr, usage) }
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (inside the lab namespace)")
	ready := fs.String("ready", "", "file to write the listening address to")
	inject := fs.String("inject", "", "comma-separated defect injectors")
	logFile := fs.String("log", "", "file to log each command to (default stderr)")
	osName := fs.String("os", standin.DefaultOS, "the Windows release to answer as: 2019 or 2008r2")
	wine := fs.String("wine", "wine64", "the wine binary --wine-prefix runs programs with")
	winePrefix := fs.String("wine-prefix", "", "a Wine prefix: files copied to C:\\ go to its drive_c, and cmd /c runs C:\\...\\*.exe there under wine64")
	if err := fs.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	if *ready == "" || fs.NArg() > 0 {
		fs.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *listen, *ready, *inject, *logFile, standin.Options{OS: *osName, WinePrefix: *winePrefix, Wine: *wine}); err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin: %v\n", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, listen, ready, inject, logFile string, o standin.Options) error {
	var log io.Writer = os.Stderr
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		log = f
	}
	k, closeK, err := standin.OpenKernel(netns.None())
	if err != nil {
		return err
	}
	defer closeK()
	var names []string
	if inject != "" {
		names = strings.Split(inject, ",")
	}
	o.Inject, o.Log = names, log
	srv, err := standin.NewServer(k, o)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := writeReady(ready, l.Addr().String()); err != nil {
		return err
	}
	fmt.Fprintf(log, "kbh-standin: serving on %s (injectors: %q)\n", l.Addr(), names)
	go func() { <-ctx.Done(); l.Close() }()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accepting: %w", err)
		}
		go func() {
			if err := wire.Serve(c, srv.Handle); err != nil {
				fmt.Fprintf(log, "kbh-standin: %v\n", err)
			}
		}()
	}
}

// writeReady writes the address to file atomically (rename), so a reader
// never sees half of it.
func writeReady(file, addr string) error {
	tmp := filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".tmp")
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// sshCommand runs $SSH_ORIGINAL_COMMAND, split by the Windows rules, as
// `cmd /c LINE` on the stand-in server, printing its output and exiting
// with its status, as Windows OpenSSH runs a command in cmd.exe.
func sshCommand(args []string) int {
	fs := flag.NewFlagSet("ssh-command", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(os.Stderr, usage) }
	server := fs.String("server", "", "the stand-in server's address")
	if err := fs.Parse(args); err != nil || *server == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	argv := target.SplitWindowsCommandLine(os.Getenv("SSH_ORIGINAL_COMMAND"))
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "kbh-standin ssh-command: no command (interactive sessions are not served)")
		return 2
	}
	stdin, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin ssh-command: reading stdin: %v\n", err)
		return 255
	}
	resp, err := wire.Call(*server, wire.Request{Command: wire.Cmd, Args: append([]string{"/c"}, argv...), Stdin: stdin})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin ssh-command: %v\n", err)
		return 255
	}
	os.Stdout.WriteString(resp.Stdout)
	os.Stderr.WriteString(resp.Stderr)
	return resp.Exit
}
