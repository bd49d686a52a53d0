package standin

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/internal/standin/wire"
)

// fakeKernel is an in-memory Kernel with the Linux behaviour the
// stand-ins rely on: an address brings its subnet route (proto kernel) and
// its host route (table local); a route needs its gateway on a local
// subnet; adding what exists fails with ErrExists, deleting what does not
// with ErrNotFound.
type fakeKernel struct {
	links  []Link
	addrs  []Addr
	routes []Route
	sysctl map[string]string
	held   map[netip.Addr]bool // IPv4 addresses another host on the link holds (Held)
}

func newFakeKernel() *fakeKernel {
	k := &fakeKernel{
		links: []Link{
			{Index: 1, Name: "lo", MTU: 65536, Up: true, Loopback: true},
			{Index: 2, Name: "lan0", MAC: net.HardwareAddr{0xc2, 0x7a, 0x35, 0x38, 0xb7, 0xd9}, MTU: 1500, Up: true},
			{Index: 3, Name: "lan1", MAC: net.HardwareAddr{0x6a, 0x0f, 0xd6, 0xc3, 0xea, 0xf4}, MTU: 1500, Up: true},
		},
		sysctl: map[string]string{
			"ipv4/ip_local_port_range":       "32768 60999",
			"ipv4/ip_default_ttl":            "64",
			"ipv6/conf/default/hop_limit":    "64",
			"ipv4/conf/all/accept_redirects": "1",
			"ipv6/conf/all/accept_redirects": "1",
		},
	}
	for _, l := range k.links {
		for _, fam := range []string{"ipv4", "ipv6"} {
			k.sysctl[fam+"/conf/"+l.Name+"/forwarding"] = "0"
			k.sysctl[fam+"/neigh/"+l.Name+"/base_reachable_time_ms"] = "30000"
			k.sysctl[fam+"/neigh/"+l.Name+"/retrans_time_ms"] = "1000"
		}
		k.sysctl["ipv4/conf/"+l.Name+"/promote_secondaries"] = "0"
		k.sysctl["ipv6/conf/"+l.Name+"/dad_transmits"] = "1"
		k.sysctl["ipv6/conf/"+l.Name+"/hop_limit"] = "64"
		k.sysctl["ipv6/conf/"+l.Name+"/disable_ipv6"] = "0"
	}
	for _, a := range []struct {
		p   string
		idx int
	}{{"127.0.0.1/8", 1}, {"::1/128", 1}, {"192.0.2.20/24", 2}, {"2001:db8::20/64", 2}, {"198.51.100.20/24", 3}} {
		if err := k.AddAddr(Addr{Prefix: netip.MustParsePrefix(a.p), Index: a.idx}); err != nil {
			panic(err)
		}
	}
	return k
}

func (k *fakeKernel) Links() ([]Link, error)   { return slices.Clone(k.links), nil }
func (k *fakeKernel) Addrs() ([]Addr, error)   { return slices.Clone(k.addrs), nil }
func (k *fakeKernel) Routes() ([]Route, error) { return slices.Clone(k.routes), nil }

func (k *fakeKernel) link(idx int) error {
	for _, l := range k.links {
		if l.Index == idx {
			return nil
		}
	}
	return fmt.Errorf("interface %d: %w", idx, ErrNotFound)
}

func (k *fakeKernel) AddAddr(a Addr) error {
	if err := k.link(a.Index); err != nil {
		return err
	}
	for _, x := range k.addrs {
		if x.Index == a.Index && x.Prefix.Addr() == a.Prefix.Addr() {
			return fmt.Errorf("address %s: %w", a.Prefix, ErrExists)
		}
	}
	a.Permanent, a.ValidLft, a.PrefLft = true, Infinite, Infinite
	for _, x := range k.addrs {
		if x.Index == a.Index && x.Prefix.Masked() == a.Prefix.Masked() && a.Prefix.Addr().Is4() {
			a.Secondary = true
		}
	}
	k.addrs = append(k.addrs, a)
	k.routes = append(k.routes, Route{Dst: netip.PrefixFrom(a.Prefix.Addr(), a.Prefix.Addr().BitLen()), Index: a.Index, Kind: Local, Proto: ProtoKernel, Src: a.Prefix.Addr()})
	if !a.Secondary && a.Prefix.Bits() < a.Prefix.Addr().BitLen() {
		sub := Route{Dst: a.Prefix.Masked(), Index: a.Index, Kind: Unicast, Proto: ProtoKernel, Src: a.Prefix.Addr()}
		if a.Prefix.Addr().Is6() {
			sub.Metric, sub.Src = 256, netip.Addr{}
		}
		if !slices.ContainsFunc(k.routes, func(r Route) bool { return r.Dst == sub.Dst && r.Index == sub.Index && r.Kind == Unicast }) {
			k.routes = append(k.routes, sub)
		}
	}
	return nil
}

func (k *fakeKernel) Held(idx int, a netip.Addr) (bool, error) {
	if err := k.link(idx); err != nil {
		return false, err
	}
	return k.held[a], nil
}

func (k *fakeKernel) DelAddr(a Addr) error {
	n := len(k.addrs)
	k.addrs = slices.DeleteFunc(k.addrs, func(x Addr) bool { return x.Index == a.Index && x.Prefix.Addr() == a.Prefix.Addr() })
	if len(k.addrs) == n {
		return fmt.Errorf("address %s: %w", a.Prefix, ErrNotFound)
	}
	k.routes = slices.DeleteFunc(k.routes, func(r Route) bool { return r.Kind == Local && r.Src == a.Prefix.Addr() })
	if !slices.ContainsFunc(k.addrs, func(x Addr) bool { return x.Index == a.Index && x.Prefix.Masked() == a.Prefix.Masked() }) {
		k.routes = slices.DeleteFunc(k.routes, func(r Route) bool { return r.Proto == ProtoKernel && r.Dst == a.Prefix.Masked() && r.Index == a.Index })
	}
	return nil
}

func (k *fakeKernel) AddRoute(r Route) error {
	if err := k.link(r.Index); err != nil {
		return err
	}
	if r.Gateway.IsValid() && !slices.ContainsFunc(k.addrs, func(a Addr) bool { return a.Index == r.Index && a.Prefix.Masked().Contains(r.Gateway) }) {
		return fmt.Errorf("gateway %s is not on a subnet of interface %d (ENETUNREACH)", r.Gateway, r.Index)
	}
	for _, x := range k.routes {
		if x.Kind == Unicast && x.Dst == r.Dst && x.Metric == r.Metric && (r.Dst.Addr().Is4() || x.Gateway == r.Gateway && x.Index == r.Index) {
			return fmt.Errorf("route %s: %w", r.Dst, ErrExists)
		}
	}
	r.Kind, r.Proto = Unicast, ProtoStatic
	k.routes = append(k.routes, r)
	return nil
}

func (k *fakeKernel) DelRoute(r Route) error {
	for i, x := range k.routes {
		if x.Kind == Unicast && x.Dst == r.Dst && x.Index == r.Index && x.Gateway == r.Gateway && x.Metric == r.Metric {
			k.routes = slices.Delete(k.routes, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("route %s: %w", r.Dst, ErrNotFound)
}

func (k *fakeKernel) Sysctl(path string) (string, error) {
	v, ok := k.sysctl[path]
	if !ok {
		return "", fmt.Errorf("sysctl %s: no such file", path)
	}
	return v, nil
}

func (k *fakeKernel) SetSysctl(path, value string) error {
	if _, ok := k.sysctl[path]; !ok {
		return fmt.Errorf("sysctl %s: no such file", path)
	}
	k.sysctl[path] = value
	return nil
}

// client plays the Windows client: it runs argv (argv[0] as the builders
// write it: "route", "netsh", "powershell.exe", ...) and applies the
// registry operations to its registry, as the PE does.
type client struct {
	t        *testing.T
	s        *Server
	registry []string
}

func newClient(t *testing.T, k Kernel, inject ...string) *client {
	t.Helper()
	s, err := NewServer(k, Options{Inject: inject})
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, s: s}
}

type result struct {
	stdout, stderr string
	exit           int
}

func (c *client) run(argv ...string) result {
	c.t.Helper()
	name := strings.ToLower(strings.TrimSuffix(filepath.Base(argv[0]), ".exe"))
	resp := c.s.Handle(wire.Request{Command: name, Args: argv[1:], Registry: slices.Clone(c.registry)})
	for _, op := range resp.Registry {
		switch op.Op {
		case wire.OpSet:
			if !slices.Contains(c.registry, op.Name) {
				c.registry = append(c.registry, op.Name)
			}
		case wire.OpDelete:
			c.registry = slices.DeleteFunc(c.registry, func(n string) bool { return n == op.Name })
		default:
			c.t.Fatalf("registry operation %q", op.Op)
		}
	}
	if strings.Contains(strings.ReplaceAll(resp.Stdout, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(resp.Stderr, "\r\n", ""), "\n") {
		c.t.Errorf("%q: output has a bare LF: Windows programs end lines with CRLF", argv)
	}
	return result{strings.ReplaceAll(resp.Stdout, "\r\n", "\n"), strings.ReplaceAll(resp.Stderr, "\r\n", "\n"), resp.Exit}
}

// ok runs argv and fails the test unless it exits 0.
func (c *client) ok(argv ...string) string {
	c.t.Helper()
	r := c.run(argv...)
	if r.exit != 0 {
		c.t.Fatalf("%q: exit %d\nstdout: %s\nstderr: %s", argv, r.exit, r.stdout, r.stderr)
	}
	return r.stdout
}
