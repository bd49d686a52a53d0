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
)

const usage = `Usage: kbh-standin serve --listen ADDR --ready FILE [--inject NAME[,NAME]] [--log FILE]

Serves the Windows stand-in clients (route.exe, netsh.exe, powershell.exe,
wevtutil.exe under Wine) from the network namespace it runs in. Writes the
address it listens on to FILE once it accepts connections; runs until
SIGINT or SIGTERM. Injectors: ` + "secondary-ip-route-loss" + `.`

func main() {
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
	if err := fs.Parse(os.Args[2:]); err != nil {
		os.Exit(2)
	}
	if *ready == "" || fs.NArg() > 0 {
		fs.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *listen, *ready, *inject, *logFile); err != nil {
		fmt.Fprintf(os.Stderr, "kbh-standin: %v\n", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, listen, ready, inject, logFile string) error {
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
	srv, err := standin.NewServer(k, standin.Options{Inject: names, Log: log})
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
