package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/hammer"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	remote "github.com/kbharness/kbharness/netcfg/target"
)

func init() {
	register(&command{
		Name:    "hammer",
		Summary: "churn TCP connections through a narrowed dynamic port range (KB2901197)",
		Run:     runHammer,
	})
}

const hammerUsage = `Usage: kbharness hammer [--lab F | --target URL] [flags]

Churns TCP connections (connect, optional payload, close) against a listener
of its own bound only to the target, classifies every outcome and prints a
progress line a second and a summary. The KB2901197 signature is any
EADDRINUSE/WSAEADDRINUSE (or Tcpip event 4227 on Windows): exit code 1.
Exit code 2 on bad usage or input: a flag out of its bounds (each flag
gives them), a --lab fixture that does not load.

The listener (--listen) must be loopback or lie in a lab prefix (--allow,
or the lab's own addresses with --lab). --range narrows the dynamic port
range for the run and restores it afterwards, also on Ctrl-C: on Linux only
inside a lab namespace (--lab or --target netns:NAME), on Windows with
netsh (host-wide).

--target netns:NAME hammers inside an existing namespace. --target ssh://,
winrm:// or psdirect:// (see the README's legacy guests) hammers on a remote
Windows guest with the legacy agent (--agent kbh-hammer.exe, built from
agent/hammer): it is copied to the guest and run there, --range is set and
restored with netsh on the guest; credentials as for the suites. Range
changes on hosts kbharness did not build are journaled: kbharness cleanup
--target URL restores them after a crash.

Examples (Linux, as root):
  kbharness hammer --lab default --mode bind-connect --range 40000-40255 --count 3000
  kbharness hammer --lab default --mode connect --range 40000-40255 --duration 5s
  kbharness hammer --target ssh://Administrator@198.51.100.7 --agent kbh-hammer.exe --range 49152-49406 --count 3000`

func runHammer(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("hammer", hammerUsage, stderr)
	labName := fs.String("lab", "", "build this lab ("+strings.Join(fixtures.LabNames(), ", ")+" or a YAML path) and hammer its host address; removed afterwards")
	hostURL := fs.String("target", "", "the host to hammer on: netns:NAME (Linux), or ssh://, winrm://, psdirect:// (a Windows guest, with --agent); a --range change there is journaled and undone, also after a crash (kbharness cleanup --target)")
	agent := fs.String("agent", "", "the legacy hammer agent (agent/hammer built for Windows) to run on a remote --target")
	target := fs.String("listen", "", "listener address ADDR or ADDR:PORT (default: the lab host's address with --lab, else 127.0.0.1; on a remote guest, the guest's)")
	remote.Default.Register(fs, "")
	allow := fs.String("allow", "", "comma-separated lab prefixes a non-loopback target may lie in (documentation ranges only)")
	workers := fs.Int("workers", 2, fmt.Sprintf("concurrent clients, 1 to %d", hammer.MaxWorkers))
	count := fs.Int("count", 0, fmt.Sprintf("connection attempts, 0 to %d (0: bounded by --duration only)", hammer.MaxCount))
	duration := fs.Duration("duration", 10*time.Second, "time bound of the run, 0 to "+fixtures.FormatDuration(hammer.MaxDuration)+" (0: bounded by --count, at most "+fixtures.FormatDuration(hammer.MaxDuration)+")")
	mode := fs.String("mode", string(hammer.ModeConnect), "local port choice: "+joinModes())
	closeOrder := fs.String("close", string(hammer.CloseClientFirst), "who closes first: client-first, server-first, abortive")
	payload := fs.Int("payload", 0, fmt.Sprintf("bytes each client sends after connecting, 0 to %d", hammer.MaxPayload))
	timeout := fs.Duration("timeout", hammer.DefaultTimeout, "bound of each connect and read, 0 to "+fixtures.FormatDuration(hammer.MaxTimeout)+" (0: "+fixtures.FormatDuration(hammer.DefaultTimeout)+")")
	portRange := fs.String("range", "", "dynamic port range LO-HI for the run, "+rangeBounds+" (Linux: in the namespace; Windows: netsh)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *labName != "" && *hostURL != "" {
		return usagef("--lab and --target exclude each other")
	}
	netns, remoteHost := "", lab.IsRemote(*hostURL)
	if *hostURL != "" {
		u, err := remote.Parse(*hostURL)
		if err != nil {
			return usagef("--target: %v", err)
		}
		switch {
		case u.Scheme == "netns":
			netns = u.Host
		case !remoteHost:
			return usagef("--target %s: want netns:NAME, ssh://, winrm:// or psdirect://", *hostURL)
		}
	}
	if remoteHost != (*agent != "") {
		return usagef("--agent goes with a remote --target (ssh://, winrm://, psdirect://), and such a target needs it")
	}
	for _, err := range []error{
		checkInt("--workers", *workers, 1, hammer.MaxWorkers),
		checkInt("--count", *count, 0, hammer.MaxCount),
		checkDuration("--duration", *duration, 0, hammer.MaxDuration),
		checkInt("--payload", *payload, 0, hammer.MaxPayload),
		checkDuration("--timeout", *timeout, 0, hammer.MaxTimeout),
	} {
		if err != nil {
			return err
		}
	}
	cfg := hammer.Config{
		Netns: netns, Workers: *workers, Count: *count, Duration: *duration,
		Mode: hammer.Mode(*mode), Close: hammer.Close(*closeOrder), Payload: *payload, Timeout: *timeout,
		Progress: func(p hammer.Progress) { fmt.Fprintln(stdout, p) },
	}
	goos := runtime.GOOS
	if remoteHost {
		goos = "windows"
	}
	if cfg.PortRange, err = parseRange(*portRange, goos); err != nil {
		return err
	}
	if cfg.Allowed, err = parsePrefixes(*allow); err != nil {
		return err
	}
	if *labName != "" {
		f, err := fixtures.LoadLab(*labName)
		if err != nil {
			return badInput(err)
		}
		l, err := lab.New(ctx, f)
		if err != nil {
			return fmt.Errorf("building lab %s: %w", f.Name, err)
		}
		defer l.Close()
		cfg.Netns = l.Namespaces[lab.HostRole]
		for _, link := range f.Links {
			for _, p := range link.Addresses {
				cfg.Allowed = append(cfg.Allowed, p.Masked())
			}
		}
		if *target == "" {
			*target = l.HostAddress(0, netcfg.IPv4).Addr().String()
		}
		fmt.Fprintf(stdout, "lab %s: hammering in namespace %s\n", l.ID, cfg.Netns)
	}
	var guest hammer.Remote
	if target := hostTarget(*hostURL, cfg.PortRange); target != "" {
		// A host kbharness did not build: the range change is journaled.
		l, err := lab.AttachTarget(ctx, target)
		if err != nil {
			return err
		}
		for _, r := range l.Recovered {
			fmt.Fprintf(stdout, "recovered a dead run's changes: %s", r)
		}
		defer func() { err = errors.Join(err, l.Close()) }()
		if remoteHost {
			if l.Host.Capabilities().Dialect != netcfg.DialectWindows {
				return fmt.Errorf("--target %s is a %s host: the agent runs on Windows; on Linux run kbharness hammer there", *hostURL, l.Host.Capabilities().Dialect)
			}
			var ok bool
			if guest, ok = l.Transport().(hammer.Remote); !ok {
				return fmt.Errorf("--target %s: the transport cannot copy the agent", *hostURL)
			}
		}
		cfg.BeforeRangeChange = func(restore []string) error {
			return l.Journal().Record(journal.Op{Kind: journal.Run, Argv: restore, Undoes: "narrow the dynamic port range to " + cfg.PortRange.String()})
		}
	}
	if *target == "" {
		*target = "127.0.0.1"
	}
	if cfg.Target, err = parseTarget(*target); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	var res *hammer.Result
	if guest != nil {
		exe, rerr := os.ReadFile(*agent)
		if rerr != nil {
			return badInput(fmt.Errorf("--agent: %w", rerr))
		}
		res, err = hammer.RunAgent(ctx, guest, exe, cfg)
	} else {
		res, err = hammer.Run(ctx, cfg)
	}
	if res != nil {
		fmt.Fprint(stdout, res.Summary())
	}
	if err != nil {
		return err
	}
	if res.Signature() {
		return errors.New("KB2901197 signature seen")
	}
	return nil
}

// hostTarget names the host kbharness did not build that the run uses,
// "" if none: the --target given, or on Windows the machine itself when
// --range changes its dynamic port range.
func hostTarget(url string, r hammer.PortRange) string {
	switch {
	case url != "":
		return url
	case runtime.GOOS == "windows" && !r.IsZero():
		return "local"
	}
	return ""
}

func joinModes() string {
	s := make([]string, len(hammer.Modes))
	for i, m := range hammer.Modes {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// parseTarget accepts ADDR or ADDR:PORT ([v6]:PORT); no port means port 0,
// the listener's port chosen by the stack.
func parseTarget(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, usagef("--listen %q: want ADDR or ADDR:PORT", s)
	}
	return netip.AddrPortFrom(a, 0), nil
}

// rangeBounds are the bounds of --range: those of the kernel's
// ip_local_port_range (LO at least ip_unprivileged_port_start, 1024 in a
// fresh namespace) and of `netsh int ipv4 set dynamicport` (start >= 1025,
// num >= 255).
const rangeBounds = "1024 <= LO <= HI <= 65535 (Windows: LO >= 1025, at least 255 ports)"

// parseRange parses --range LO-HI and checks it against the bounds of goos.
func parseRange(s, goos string) (hammer.PortRange, error) {
	if s == "" {
		return hammer.PortRange{}, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h, err2 := strconv.ParseUint(hi, 10, 16)
	least := uint64(1024)
	if goos == "windows" {
		least = 1025
	}
	if !ok || err1 != nil || err2 != nil || l < least || h < l || (goos == "windows" && h-l+1 < 255) {
		return hammer.PortRange{}, usagef("--range %q: want LO-HI with %s", s, rangeBounds)
	}
	return hammer.PortRange{Lo: uint16(l), Hi: uint16(h)}, nil
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, usagef("--allow %q: %v", f, err)
		}
		if !fixtures.IsDocumentationPrefix(p) {
			return nil, usagef("--allow %s is not in a documentation range %v", p, fixtures.DocumentationRanges)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
