//go:build linux

package lab

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg/linuxhost"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/journal"
	"github.com/kbharness/kbharness/netcfg"
)

// LocalDialect is the dialect of the labs New builds here: namespaces.
const LocalDialect = netcfg.DialectLinux

// ReadyTimeout bounds how long New waits for links to come up and addresses
// to become usable.
const ReadyTimeout = 10 * time.Second

// New builds a lab from f: one namespace for the host under test and one per
// peer (`ip netns add kbh-<pid>-<rand6>-<role>`), a veth pair per link
// created with its ends directly in the two namespaces, lo and links up, DAD
// off (net.ipv6.conf.{all,default}.accept_dad=0 in the lab namespaces,
// IFA_F_NODAD addresses), the fixture's addresses, and forwarding in the
// host namespace if f.Forwarding. It waits until every link is operationally
// up and every address is usable, opens Host with linuxhost.OpenNamespace
// and installs f.Routes through it (addRoutes). It first removes leftovers of dead runs (Cleanup).
// On failure it removes whatever it created.
func New(ctx context.Context, f *fixtures.Lab) (*Lab, error) {
	if f == nil {
		return nil, errors.New("building lab: nil fixture")
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("building lab %s: %w", f.Name, err)
	}
	if _, err := Cleanup(ctx); err != nil {
		return nil, fmt.Errorf("building lab %s: %w", f.Name, err)
	}
	id := fmt.Sprintf("%s%d-%s", Prefix, os.Getpid(), randomToken())
	l := &Lab{ID: id, Fixture: f, Namespaces: map[string]string{HostRole: id + "-" + HostRole}, owned: true}
	for _, k := range f.Links {
		l.Namespaces[k.Peer] = id + "-" + k.Peer
	}
	if err := l.build(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("building lab %s (%s): %w", f.Name, id, err), l.destroy())
	}
	return l, nil
}

// build creates and configures the namespaces of an owned lab.
func (l *Lab) build(ctx context.Context) error {
	if err := writeState(l.ID, state{PID: os.Getpid(), Start: selfStart()}); err != nil {
		return err
	}
	roles := l.Roles()
	handles := map[string]*netlink.Handle{}
	defer func() {
		for _, h := range handles {
			h.Close()
		}
	}()
	for _, role := range roles {
		ns := l.Namespaces[role]
		if _, err := runCommand(ctx, "ip", "netns", "add", ns); err != nil {
			return err
		}
		h, err := handleAt(ns)
		if err != nil {
			return err
		}
		handles[role] = h
		sysctls := map[string]string{
			"net/ipv6/conf/all/accept_dad":     "0",
			"net/ipv6/conf/default/accept_dad": "0",
		}
		if role == HostRole && l.Fixture.Forwarding {
			sysctls["net/ipv4/ip_forward"] = "1"
			sysctls["net/ipv6/conf/all/forwarding"] = "1"
		}
		if err := l.Do(role, func() error { return writeSysctls(sysctls) }); err != nil {
			return fmt.Errorf("setting sysctls in %s: %w", ns, err)
		}
		if err := setUp(h, "lo"); err != nil {
			return fmt.Errorf("in %s: %w", ns, err)
		}
	}
	host := handles[HostRole]
	for _, k := range l.Fixture.Links {
		peer := handles[k.Peer]
		peerNS, err := netns.GetFromName(l.Namespaces[k.Peer])
		if err != nil {
			return fmt.Errorf("opening namespace %s: %w", l.Namespaces[k.Peer], err)
		}
		err = host.LinkAdd(&netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: k.Interface},
			PeerName:      k.PeerInterface,
			PeerNamespace: netlink.NsFd(peerNS),
		})
		peerNS.Close()
		if err != nil {
			return fmt.Errorf("adding veth %s (%s) to %s (%s): %w", k.Interface, l.Namespaces[HostRole], k.PeerInterface, l.Namespaces[k.Peer], err)
		}
		for _, side := range []struct {
			h     *netlink.Handle
			ns    string
			name  string
			addrs []netip.Prefix
		}{
			{host, l.Namespaces[HostRole], k.Interface, k.Addresses},
			{peer, l.Namespaces[k.Peer], k.PeerInterface, k.PeerAddresses},
		} {
			if err := setUp(side.h, side.name); err != nil {
				return fmt.Errorf("in %s: %w", side.ns, err)
			}
			for _, p := range side.addrs {
				if err := addAddr(side.h, side.name, p); err != nil {
					return fmt.Errorf("in %s: %w", side.ns, err)
				}
			}
		}
	}
	if err := l.waitReady(ctx, handles); err != nil {
		return err
	}
	t, err := namespaceTarget(l.Namespaces[HostRole])
	if err != nil {
		return err
	}
	// The fixture's routes (routes_linux.go), before the baseline: they are
	// part of the lab as built.
	if err := l.addRoutes(ctx, t.Host); err != nil {
		return errors.Join(err, t.Host.Close())
	}
	return l.startJournal(ctx, "lab:"+l.ID, t)
}

// waitReady polls link and address state (RTM_GETLINK, RTM_GETADDR) until
// every lab interface is operationally up and no fixture address, nor the
// IPv6 link-local address of an interface with IPv6 addresses, is tentative.
func (l *Lab) waitReady(ctx context.Context, handles map[string]*netlink.Handle) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var notReady error
		for _, k := range l.Fixture.Links {
			if notReady = ready(handles[HostRole], k.Interface, k.Addresses); notReady != nil {
				notReady = fmt.Errorf("%s in %s: %w", k.Interface, l.Namespaces[HostRole], notReady)
				break
			}
			if notReady = ready(handles[k.Peer], k.PeerInterface, k.PeerAddresses); notReady != nil {
				notReady = fmt.Errorf("%s in %s: %w", k.PeerInterface, l.Namespaces[k.Peer], notReady)
				break
			}
		}
		if notReady == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the lab to be ready (%v): %w: %w", ReadyTimeout, ctx.Err(), notReady)
		case <-tick.C:
		}
	}
}

// ready returns nil when the interface is up with its addresses usable, or
// what is still missing.
func ready(h *netlink.Handle, name string, want []netip.Prefix) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("looking up link: %w", err)
	}
	if st := link.Attrs().OperState; st != netlink.OperUp {
		return fmt.Errorf("operstate %s", st)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("listing addresses: %w", err)
	}
	usable := map[netip.Addr]bool{}
	linkLocal := false
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		ip = ip.Unmap()
		ok := a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0
		usable[ip] = ok
		if ok && ip.Is6() && ip.IsLinkLocalUnicast() {
			linkLocal = true
		}
	}
	v6 := false
	for _, p := range want {
		if !usable[p.Addr()] {
			return fmt.Errorf("address %s not yet usable", p)
		}
		v6 = v6 || p.Addr().Is6()
	}
	if v6 && !linkLocal {
		return errors.New("no usable IPv6 link-local address yet")
	}
	return nil
}

// Attach targets an existing namespace as the host under test (a real lab
// host kbharness did not build). It first replays the journals that dead
// runs left for the namespace (see Recovered). It touches only the
// interfaces f names, which must exist, refuses one carrying the
// namespace's default route unless f.AllowDefaultRouteInterface, takes the
// baseline, starts a durable journal (target "netns:NAME") and adds the
// fixture addresses that are missing through it. Every change made through
// Host is journaled; Undo and Close revert them all and check the baseline.
// No peers are created. A fixture with routes is refused (ErrRoutesNotBuilt).
func Attach(ctx context.Context, nsName string, f *fixtures.Lab) (*Lab, error) {
	if f == nil {
		return nil, errors.New("attaching lab: nil fixture")
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("attaching lab %s to %s: %w", f.Name, nsName, err)
	}
	if err := refuseRoutes(f, "netns:"+nsName); err != nil {
		return nil, err
	}
	l := &Lab{ID: nsName, Fixture: f, Namespaces: map[string]string{HostRole: nsName}}
	if err := l.attach(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("attaching lab %s to %s: %w", f.Name, nsName, err), l.destroy())
	}
	return l, nil
}

func (l *Lab) attach(ctx context.Context) error {
	target := "netns:" + l.ID
	if err := l.recoverDead(ctx, target); err != nil {
		return err
	}
	h, err := handleAt(l.ID)
	if err != nil {
		return err
	}
	defer h.Close()
	defaults, err := defaultRouteLinks(h)
	if err != nil {
		return err
	}
	for i, k := range l.Fixture.Links {
		link, err := h.LinkByName(k.Interface)
		if err != nil {
			return fmt.Errorf("interface %q (links[%d].interface): %w", k.Interface, i, err)
		}
		if defaults[link.Attrs().Index] && !l.Fixture.AllowDefaultRouteInterface {
			return fmt.Errorf("interface %q (links[%d].interface) carries the default route; set allowDefaultRouteInterface to use it", k.Interface, i)
		}
	}
	t, err := namespaceTarget(l.ID)
	if err != nil {
		return err
	}
	if err := l.startJournal(ctx, target, t); err != nil {
		t.Host.Close()
		return err
	}
	for _, k := range l.Fixture.Links {
		for _, p := range k.Addresses {
			if l.journal.Baseline().HasAddress(p) {
				continue
			}
			if err := l.Host.AddAddress(ctx, netcfg.Netlink, netcfg.AddressSpec{Prefix: p, Interface: k.Interface}); err != nil {
				return err
			}
		}
	}
	return nil
}

// openLocalTarget opens a target on this machine: "netns:NAME". A
// namespace that no longer exists is netcfg.ErrNotFound.
func openLocalTarget(ctx context.Context, target string) (*journal.Target, error) {
	kind, name, _ := strings.Cut(target, ":")
	if kind != "netns" || name == "" {
		return nil, fmt.Errorf("opening target %q: not a target of this host (want netns:NAME)", target)
	}
	return namespaceTarget(name)
}

// namespaceTarget opens a namespace as a journal target: its host, and
// commands run inside it with `ip netns exec`.
func namespaceTarget(ns string) (*journal.Target, error) {
	h, err := linuxhost.OpenNamespace(ns)
	if err != nil {
		return nil, fmt.Errorf("opening host %s: %w", ns, err)
	}
	return &journal.Target{Host: h, Run: linuxhost.Runner(ns)}, nil
}

// defaultRouteLinks returns the indexes of the interfaces carrying a default
// route (0.0.0.0/0 or ::/0, also as a multipath nexthop) in the main table.
func defaultRouteLinks(h *netlink.Handle) (map[int]bool, error) {
	routes, err := h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	links := map[int]bool{}
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		links[r.LinkIndex] = true
		for _, nh := range r.MultiPath {
			links[nh.LinkIndex] = true
		}
	}
	delete(links, 0)
	return links, nil
}

// Close closes Host and undoes the lab: an owned lab's namespaces are
// deleted (`ip netns delete`) and checked gone, with its state file; an
// attached lab loses exactly the addresses Attach added. Close is
// idempotent.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.destroy() })
	return l.closeErr
}

// Detach leaves an owned lab running for manual use: it closes Host and
// marks the lab kept, so Cleanup skips it even after this process exits.
// Down removes it. Close after Detach does nothing.
func (l *Lab) Detach() error {
	if !l.owned {
		return errors.New("detaching lab: only a lab built by New can be detached")
	}
	var err error
	l.closeOnce.Do(func() {
		if l.Host != nil {
			err = l.Host.Close()
		}
		st, rerr := readState(l.ID)
		if rerr != nil {
			err = errors.Join(err, rerr)
			return
		}
		st.Keep = true
		err = errors.Join(err, writeState(l.ID, st))
	})
	return err
}

func (l *Lab) destroy() error {
	var errs []error
	if !l.owned {
		// Before the host closes: the undo runs through it.
		if err := l.finish(context.Background()); err != nil {
			errs = append(errs, err)
		}
	}
	if l.Host != nil {
		if err := l.Host.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing host: %w", err))
		}
	}
	if l.owned {
		var names []string
		for _, role := range l.Roles() {
			names = append(names, l.Namespaces[role])
		}
		// A process left inside would keep its namespace alive, unnamed.
		if _, _, err := killInNamespaces(names, KillWindow); err != nil {
			errs = append(errs, err)
		}
		for _, ns := range names {
			if err := deleteNamespace(ns); err != nil {
				errs = append(errs, err)
			}
		}
		if err := removeState(l.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("closing lab %s: %w", l.ID, errors.Join(errs...))
	}
	return nil
}

// Do runs fn inside the role's namespace (linuxhost.Do: a locked thread
// switched in and back; sockets made inside stay in that namespace). fn
// runs on its own goroutine: do not call t.Fatal in it.
func (l *Lab) Do(role string, fn func() error) error {
	ns, ok := l.Namespaces[role]
	if !ok {
		return fmt.Errorf("running in role %q: no such role in lab %s", role, l.ID)
	}
	return linuxhost.Do(ns, fn)
}

// Exec runs argv inside the role's namespace (a remote host: through its
// transport) and returns its combined output. Errors carry argv and output.
func (l *Lab) Exec(ctx context.Context, role string, argv ...string) ([]byte, error) {
	if l.Remote() && role == HostRole {
		out, err := l.remote.Run(ctx, argv)
		return out.Combined(), err
	}
	ns, ok := l.Namespaces[role]
	if !ok {
		return nil, fmt.Errorf("running %q in role %q: no such role in lab %s", argv, role, l.ID)
	}
	out, err := linuxhost.Runner(ns).Run(ctx, argv)
	return out.Combined(), err
}

// runCommand runs a command here; its error carries argv and output.
func runCommand(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := netcfg.Exec.Run(ctx, append([]string{name}, args...))
	return out.Combined(), err
}

// handleAt returns a netlink handle bound to the named namespace, without
// moving the calling thread.
func handleAt(ns string) (*netlink.Handle, error) {
	nsh, err := netns.GetFromName(ns)
	if err != nil {
		return nil, fmt.Errorf("opening namespace %s: %w", ns, err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		return nil, fmt.Errorf("opening netlink in %s: %w", ns, err)
	}
	return h, nil
}

// setUp sets a link administratively up (`ip link set NAME up`).
func setUp(h *netlink.Handle, name string) error {
	link, err := h.LinkByName(name)
	if err == nil {
		err = h.LinkSetUp(link)
	}
	if err != nil {
		return fmt.Errorf("setting %s up: %w", name, err)
	}
	return nil
}

// addAddr adds an address (`ip addr add P dev NAME nodad`); IPv6 addresses
// get IFA_F_NODAD.
func addAddr(h *netlink.Handle, name string, p netip.Prefix) error {
	link, err := h.LinkByName(name)
	if err == nil {
		a := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		err = h.AddrAdd(link, a)
	}
	if err != nil {
		return fmt.Errorf("adding address %s to %s: %w", p, name, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// writeSysctls writes /proc/sys entries; called inside a namespace (Do),
// where /proc/sys/net is that namespace's.
func writeSysctls(kv map[string]string) error {
	for k, v := range kv {
		if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
			return fmt.Errorf("writing sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}

// randomToken returns 6 random characters from [a-z2-7].
func randomToken() string { return strings.ToLower(rand.Text()[:6]) }
