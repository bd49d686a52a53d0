package standin

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kbharness/kbharness/internal/standin/wire"
)

// InjectSecondaryIPRouteLoss is the defect injector of the
// secondary-ip-route-loss article (../shared/kb): when an address is deleted
// by any stand-in command, the persistent routes on that interface are
// deleted from both stores, as the broken Windows stack did.
const InjectSecondaryIPRouteLoss = "secondary-ip-route-loss"

// InjectKB287032 is the defect injector of KB287032, as the namespace labs'
// injector of that name (suites/framework/inject): the server remembers the
// order in which addresses were added by any stand-in command; when one is
// deleted while an older one is still there (not FIFO, the article's
// workaround) it leaves a stale host route of the deleted address
// (ADDR/32 or /128 on its interface) in the active table.
const InjectKB287032 = "kb287032"

// Injectors are the defect injectors a Server knows.
var Injectors = []string{InjectSecondaryIPRouteLoss, InjectKB287032}

// Options configure a Server.
type Options struct {
	// Inject names the defect injectors to switch on (Injectors).
	Inject []string
	// Log receives one line per command; nil discards.
	Log io.Writer
	// OS is the Windows the server answers as (a key of OSes; "" is
	// DefaultOS).
	OS string
	// WinePrefix, if set, is a Wine prefix whose drive_c holds the files
	// the guest is given (the PowerShell file copy of netcfg/target) and
	// whose C:\...\*.exe programs `cmd /c` runs under Wine, in the
	// server's namespace: how a remote guest runs the legacy hammer agent.
	WinePrefix string
	// Wine is the wine binary (default "wine64").
	Wine string
}

// OS is a Windows release the server can answer as: the banner of
// `cmd /c ver`, $PSVersionTable.PSVersion, and whether PowerShell has the
// NetTCPIP cmdlets (Windows 8 / Server 2012 and later).
type OS struct {
	Name, Version, PowerShell string
	NetTCPIP                  bool
}

// OSes are the releases a Server can answer as, by Options.OS.
var OSes = map[string]OS{
	"2019":   {Name: "Windows Server 2019", Version: "10.0.17763.1", PowerShell: "5.1.17763.1", NetTCPIP: true},
	"2008r2": {Name: "Windows Server 2008 R2 / Windows 7 SP1", Version: "6.1.7601", PowerShell: "2.0"},
}

// DefaultOS is the release a Server answers as unless told.
const DefaultOS = "2019"

// Server answers the stand-in clients: it runs each command against its
// Kernel and its persistent store, one command at a time.
type Server struct {
	k      Kernel
	os     OS
	inject map[string]bool
	log    io.Writer

	mu      sync.Mutex
	st      store
	ntes    map[uint32]Addr // AddIPAddress's NTE contexts
	nextNTE uint32
	added   []Addr  // addresses the commands added, oldest first (InjectKB287032)
	stale   []Route // host routes InjectKB287032 left
	// IPv4 addresses AddIPAddress added in DAD state Duplicate: Linux has
	// no IPv4 DAD state (it drops IFA_F_DADFAILED on IPv4 addresses), so
	// the server keeps it and its views show it.
	duplicate map[Addr]bool

	winePrefix, wine string // see Options
}

// NewServer returns a Server over k. An unknown injector is an error.
func NewServer(k Kernel, o Options) (*Server, error) {
	s := &Server{k: k, inject: map[string]bool{}, log: o.Log, st: newStore(), ntes: map[uint32]Addr{}, nextNTE: 1, duplicate: map[Addr]bool{},
		winePrefix: o.WinePrefix, wine: o.Wine}
	if s.wine == "" {
		s.wine = "wine64"
	}
	name := o.OS
	if name == "" {
		name = DefaultOS
	}
	var ok bool
	if s.os, ok = OSes[name]; !ok {
		return nil, fmt.Errorf("unknown OS %q (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(OSes)), ", "))
	}
	for _, name := range o.Inject {
		if !slices.Contains(Injectors, name) {
			return nil, fmt.Errorf("unknown defect injector %q (known: %s)", name, strings.Join(Injectors, ", "))
		}
		s.inject[name] = true
	}
	if s.log == nil {
		s.log = io.Discard
	}
	return s, nil
}

// Handle runs one command. The client's PersistentRoutes values seed the
// IPv4 persistent store at the first command (Windows reads its store when
// TCP/IP starts); from then on the store is the truth, and every response
// carries the registry operations that make the values equal to it.
func (s *Server) Handle(req wire.Request) wire.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	withRegistry := !req.NoRegistry && req.RegistryErr == ""
	if withRegistry {
		s.st.seed(req.Registry)
	}
	c := &cmd{s: s, stdin: req.Stdin}
	c.dispatch(req.Command, req.Args)
	resp := wire.Response{Stdout: crlf(c.out.String()), Stderr: crlf(c.errs.String()), Exit: c.exit}
	switch {
	case withRegistry:
		resp.Registry = s.st.registryOps(req.Registry)
	case req.RegistryErr != "":
		fmt.Fprintf(s.log, "kbh-standin: the client could not read PersistentRoutes: %s\n", req.RegistryErr)
	}
	args := quoteArgs(req.Args)
	if req.Command == wire.PowerShell {
		if script, err := powershellScript(req.Args); err == nil {
			args = fmt.Sprintf("[script] %s", script)
		}
	}
	fmt.Fprintf(s.log, "%s %s %s -> exit %d (%s)%s\n", start.Format("15:04:05.000"), req.Command, args, c.exit,
		time.Since(start).Round(time.Millisecond), logTail(c))
	return resp
}

func logTail(c *cmd) string {
	msg := strings.TrimSpace(c.errs.String())
	if c.exit == 0 || msg == "" {
		msg = ""
		if c.exit != 0 {
			msg = strings.TrimSpace(c.out.String())
		}
	}
	if msg == "" {
		return ""
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return ": " + msg
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"") {
			a = fmt.Sprintf("%q", a)
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// crlf turns LF line ends into CRLF, as Windows console programs print.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// dispatch runs one stand-in command.
func (c *cmd) dispatch(name string, args []string) {
	switch name {
	case wire.Route:
		c.route(args)
	case wire.Netsh:
		c.netsh(args)
	case wire.PowerShell:
		c.powershell(args)
	case wire.Wevtutil:
		c.wevtutil(args)
	case wire.Cmd:
		c.cmdExe(args)
	case wire.Reg:
		c.reg(args)
	case wire.IPHlpAPI:
		c.iphlpapi(args)
	default:
		c.unsupported("command %q: the stand-ins implement route, netsh, powershell, wevtutil, reg query and cmd /c", name)
	}
}

// cmdExe is `cmd /c COMMAND ARGS...`, as OpenSSH on Windows runs a command
// line: ver prints the server's OS banner, the stand-in commands run, and
// anything else is not recognized, as cmd.exe says it.
func (c *cmd) cmdExe(args []string) {
	if len(args) < 2 || !strings.EqualFold(args[0], "/c") {
		c.unsupported("cmd %s (the stand-in implements cmd /c COMMAND)", quoteArgs(args))
		return
	}
	name := strings.TrimSuffix(strings.ToLower(args[1]), ".exe")
	switch name {
	case "ver":
		c.printf("\nMicrosoft Windows [Version %s]\n", c.s.os.Version)
	case wire.Route, wire.Netsh, wire.PowerShell, wire.Wevtutil, wire.Cmd, wire.Reg:
		c.dispatch(name, args[2:])
	default:
		if c.s.isProgram(args[1]) {
			c.runProgram(args[1:])
			return
		}
		c.eprintf("'%s' is not recognized as an internal or external command,\noperable program or batch file.\n", args[1])
		c.exit = 1
	}
}

// cmd is one command's run: its output, exit status and a cached view of
// the kernel.
type cmd struct {
	s     *Server
	stdin []byte
	out   strings.Builder
	errs  strings.Builder
	exit  int
	v     *view
}

func (c *cmd) printf(format string, args ...any)  { fmt.Fprintf(&c.out, format, args...) }
func (c *cmd) eprintf(format string, args ...any) { fmt.Fprintf(&c.errs, format, args...) }

// fail ends the command with exit status 1 and msg on stdout (route.exe
// and netsh print their errors there).
func (c *cmd) fail(format string, args ...any) {
	c.printf(format+"\n", args...)
	c.exit = 1
}

// unsupported rejects a command the stand-ins do not implement, loudly, on
// stderr with exit status 1, so that no caller mistakes it for Windows'
// answer.
func (c *cmd) unsupported(format string, args ...any) {
	c.eprintf("kbh-standin: unsupported: "+format+"\n", args...)
	c.exit = 1
}

// internal reports a failure of the stand-in itself (a kernel call that
// failed for a reason Windows has no text for).
func (c *cmd) internal(err error) {
	c.eprintf("kbh-standin: %v\n", err)
	c.exit = 1
}

// view returns the kernel's current links, addresses and routes, read once
// per command and again after a change.
func (c *cmd) view() (*view, error) {
	if c.v != nil {
		return c.v, nil
	}
	v, err := loadView(c.s.k)
	if err != nil {
		return nil, err
	}
	for i, a := range v.addrs {
		if c.s.duplicate[Addr{Prefix: a.Prefix, Index: a.Index}] {
			v.addrs[i].Duplicate = true
		}
	}
	c.v = v
	return v, nil
}

func (c *cmd) changed() { c.v = nil }

// view is a snapshot of the kernel's tables.
type view struct {
	links  []Link
	addrs  []Addr
	routes []Route
}

func loadView(k Kernel) (*view, error) {
	links, err := k.Links()
	if err != nil {
		return nil, err
	}
	addrs, err := k.Addrs()
	if err != nil {
		return nil, err
	}
	routes, err := k.Routes()
	if err != nil {
		return nil, err
	}
	slices.SortFunc(links, func(a, b Link) int { return a.Index - b.Index })
	return &view{links: links, addrs: addrs, routes: routes}, nil
}

func (v *view) linkByIndex(idx int) (Link, bool) {
	for _, l := range v.links {
		if l.Index == idx {
			return l, true
		}
	}
	return Link{}, false
}

// linkByName finds an interface by alias; Windows matches aliases without
// regard to case.
func (v *view) linkByName(name string) (Link, bool) {
	for _, l := range v.links {
		if strings.EqualFold(l.Name, name) {
			return l, true
		}
	}
	return Link{}, false
}

func (v *view) name(idx int) string {
	if l, ok := v.linkByIndex(idx); ok {
		return l.Name
	}
	return ""
}

// addrsOf returns the addresses of link idx in family 4 or 6 (0: both),
// primary ones first.
func (v *view) addrsOf(idx int, fam int) []Addr {
	var out []Addr
	for _, a := range v.addrs {
		if a.Index == idx && (fam == 0 || familyOf(a.Prefix.Addr()) == fam) {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Addr) int {
		switch {
		case a.Secondary == b.Secondary:
			return 0
		case b.Secondary:
			return -1
		}
		return 1
	})
	return out
}

// ipv4Of is the interface's IPv4 address route print shows in the
// Interface column: its primary IPv4 address.
func (v *view) ipv4Of(idx int) netip.Addr {
	if as := v.addrsOf(idx, 4); len(as) > 0 {
		return as[0].Prefix.Addr()
	}
	return netip.Addr{}
}

// onLinkIndex is the interface whose on-link prefix holds gw: the one a
// route to gw goes through when no interface is named ("the interface is
// determined from the gateway address", route /?). 0 when none.
func (v *view) onLinkIndex(gw netip.Addr) int {
	best, bits := 0, -1
	for _, a := range v.addrs {
		if a.Prefix.Masked().Contains(gw) && a.Prefix.Bits() > bits {
			best, bits = a.Index, a.Prefix.Bits()
		}
	}
	return best
}

// onLinkOn reports whether gw is on an on-link prefix of interface idx.
func (v *view) onLinkOn(idx int, gw netip.Addr) bool {
	for _, a := range v.addrs {
		if a.Index == idx && a.Prefix.Masked().Contains(gw) {
			return true
		}
	}
	return false
}

// hasAddr reports whether link idx holds address a (any prefix length).
func (v *view) hasAddr(idx int, a netip.Addr) (Addr, bool) {
	for _, x := range v.addrs {
		if x.Index == idx && x.Prefix.Addr() == a {
			return x, true
		}
	}
	return Addr{}, false
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// resolvedIndex is a persistent route's interface: the one recorded, or
// for a route read from the registry (which records none) the interface
// whose subnet holds its gateway, as Windows places persistent routes when
// TCP/IP starts.
func (v *view) resolvedIndex(r pRoute) int {
	if r.Index != 0 || !r.Gateway.IsValid() {
		return r.Index
	}
	return v.onLinkIndex(r.Gateway)
}

// activeRoutes are the routes an add or delete command manages: unicast
// routes of table main.
func (v *view) activeRoutes() []Route {
	var out []Route
	for _, r := range v.routes {
		if r.Kind == Unicast {
			out = append(out, r)
		}
	}
	return out
}

// deleteAddress deletes one address with Windows' semantics: the others
// stay. Linux deletes every secondary IPv4 address of a subnet with its
// primary unless net.ipv4.conf.<if>.promote_secondaries is set, so it is
// set first.
func (c *cmd) deleteAddress(a Addr) error {
	if a.Prefix.Addr().Is4() {
		v, err := c.view()
		if err != nil {
			return err
		}
		l, ok := v.linkByIndex(a.Index)
		if !ok {
			return fmt.Errorf("interface %d: %w", a.Index, ErrNotFound)
		}
		if err := c.s.k.SetSysctl("ipv4/conf/"+l.Name+"/promote_secondaries", "1"); err != nil {
			return err
		}
	}
	if err := c.s.k.DelAddr(a); err != nil {
		return err
	}
	c.changed()
	delete(c.s.duplicate, Addr{Prefix: a.Prefix, Index: a.Index})
	return errors.Join(c.routeLoss(a.Index), c.staleRoute(a))
}

// addAddress adds a to the kernel (active store): every stand-in command
// that adds an address comes here. a.Duplicate adds it in DAD state
// Duplicate.
func (c *cmd) addAddress(a Addr) error {
	if err := c.s.k.AddAddr(a); err != nil {
		return err
	}
	c.changed()
	key := Addr{Prefix: a.Prefix, Index: a.Index}
	c.s.added = append(c.s.added, key)
	if a.Duplicate {
		c.s.duplicate[key] = true
	}
	return nil
}

// staleRoute runs the injected KB287032 defect, if on: a was deleted, and
// unless it was the oldest address the commands added, its host route
// stays behind. When the last of those addresses goes, so do the stale
// routes, as if TCP/IP rebuilt its table: the one host a Wine run shares
// between specs then starts each spec clean, and a later spec's baseline
// cannot hide its own stale routes.
func (c *cmd) staleRoute(a Addr) error {
	i := slices.Index(c.s.added, Addr{Prefix: a.Prefix, Index: a.Index})
	if i < 0 {
		return nil
	}
	c.s.added = slices.Delete(c.s.added, i, i+1)
	if c.s.inject[InjectKB287032] && i > 0 {
		host := netip.PrefixFrom(a.Prefix.Addr(), a.Prefix.Addr().BitLen())
		switch err := c.s.k.AddRoute(Route{Dst: host, Index: a.Index}); {
		case errors.Is(err, ErrExists): // not the injector's: it stays
		case err != nil:
			return err
		default:
			c.s.stale = append(c.s.stale, Route{Dst: host, Index: a.Index})
			c.changed()
		}
		fmt.Fprintf(c.s.log, "kbh-standin: injected %s: left the stale route %s on interface %d\n", InjectKB287032, host, a.Index)
	}
	if len(c.s.added) > 0 {
		return nil
	}
	var errs []error
	for _, r := range c.s.stale {
		if err := c.s.k.DelRoute(r); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	c.s.stale = nil
	c.changed()
	return errors.Join(errs...)
}

// routeLoss runs the injected secondary-ip-route-loss defect, if on: an
// address left interface idx, so the persistent routes on idx go from both
// stores.
func (c *cmd) routeLoss(idx int) error {
	if !c.s.inject[InjectSecondaryIPRouteLoss] {
		return nil
	}
	v, err := c.view()
	if err != nil {
		return err
	}
	var errs []error
	lost := c.s.st.deleteRoutes(func(r pRoute) bool { return v.resolvedIndex(r) == idx })
	for _, r := range lost {
		for _, a := range v.activeRoutes() {
			if a.Dst == r.Dst && a.Gateway == r.Gateway && a.Index == idx {
				if err := c.s.k.DelRoute(a); err != nil && !errors.Is(err, ErrNotFound) {
					errs = append(errs, err)
				}
			}
		}
		fmt.Fprintf(c.s.log, "kbh-standin: injected %s: deleted persistent route %s via %s on %s\n", InjectSecondaryIPRouteLoss, r.Dst, r.Gateway, v.name(idx))
	}
	c.changed()
	return errors.Join(errs...)
}
