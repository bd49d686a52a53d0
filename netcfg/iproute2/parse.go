package iproute2

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
)

// jsonRoute is one record of `ip -j route show`.
type jsonRoute struct {
	Type     string    `json:"type"`     // absent for unicast
	Dst      string    `json:"dst"`      // "default", "192.0.2.255" (host) or a prefix
	Gateway  string    `json:"gateway"`  // RTA_GATEWAY
	Via      *jsonVia  `json:"via"`      // RTA_VIA: IPv4 route via an IPv6 gateway
	Dev      string    `json:"dev"`      // absent for unreachable/blackhole IPv4 routes
	Table    string    `json:"table"`    // absent for main
	Protocol string    `json:"protocol"` // absent for boot unless -d
	Metric   *uint32   `json:"metric"`   // absent for IPv4 routes with priority 0
	Pref     string    `json:"pref"`     // only IPv6 routes have it
	Nexthops []jsonHop `json:"nexthops"` // multipath
}

type jsonVia struct {
	Family string `json:"family"`
	Host   string `json:"host"`
}

type jsonHop struct {
	Gateway string   `json:"gateway"`
	Via     *jsonVia `json:"via"`
	Dev     string   `json:"dev"`
}

// ParseRoutes parses `ip -j route show table all` (with or without -d) into
// active-store routes, named as netcfg's Linux host names them: a missing
// protocol is "boot" (ip prints boot only with -d), a missing type is unicast
// (""), table "main" is "" and "default" is "253", a missing metric is 0.
// Each nexthop of a multipath route is one route. Every main-table "static"
// route is also returned with Store=StorePersistent, as Snapshot does.
//
// ip prints "default" without a family; IPv6 routes are recognised by an
// IPv6 "gateway" or by the "pref" field, which only IPv6 routes carry.
func ParseRoutes(data []byte) ([]netcfg.Route, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parsing ip -j route output: %w", err)
	}
	var out []netcfg.Route
	for i, rec := range raw {
		var jr jsonRoute
		if err := json.Unmarshal(rec, &jr); err != nil {
			return nil, fmt.Errorf("parsing route record %d: %w", i, err)
		}
		routes, err := jr.routes()
		if err != nil {
			return nil, fmt.Errorf("parsing route record %d (%s): %w", i, rec, err)
		}
		out = append(out, routes...)
	}
	n := len(out)
	for _, r := range out[:n] {
		if IsPersistent(r.Table, r.Protocol) {
			r.Store = netcfg.StorePersistent
			out = append(out, r)
		}
	}
	return out, nil
}

func (jr jsonRoute) routes() ([]netcfg.Route, error) {
	r := netcfg.Route{Interface: jr.Dev, Store: netcfg.StoreActive, Protocol: jr.Protocol, Type: jr.Type}
	if r.Protocol == "" {
		r.Protocol = "boot"
	}
	if r.Type == "unicast" {
		r.Type = ""
	}
	switch jr.Table {
	case "", "main":
	case "default":
		r.Table = "253"
	default:
		r.Table = jr.Table
	}
	if jr.Metric != nil {
		r.Metric = int(*jr.Metric)
	}
	gw, err := gateway("gateway", jr.Gateway, jr.Via)
	if err != nil {
		return nil, err
	}
	r.Gateway = gw
	// RTA_GATEWAY has the route's family; RTA_VIA ("via inet6") need not.
	v6 := jr.Pref != "" || strings.Contains(jr.Gateway, ":")
	for _, h := range jr.Nexthops {
		v6 = v6 || strings.Contains(h.Gateway, ":")
	}
	if r.Dst, err = destination(jr.Dst, v6); err != nil {
		return nil, err
	}
	if len(jr.Nexthops) == 0 {
		return []netcfg.Route{r}, nil
	}
	out := make([]netcfg.Route, 0, len(jr.Nexthops))
	for _, h := range jr.Nexthops {
		hop := r
		if hop.Gateway, err = gateway("nexthop gateway", h.Gateway, h.Via); err != nil {
			return nil, err
		}
		hop.Interface = h.Dev
		out = append(out, hop)
	}
	return out, nil
}

func gateway(field, s string, via *jsonVia) (netip.Addr, error) {
	if s == "" && via != nil {
		s, field = via.Host, field+" via.host"
	}
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("field %s: %w", field, err)
	}
	return a, nil
}

func destination(s string, v6 bool) (netip.Prefix, error) {
	switch {
	case s == "":
		return netip.Prefix{}, fmt.Errorf("field dst: missing")
	case s == "default" && v6:
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0), nil
	case s == "default":
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("field dst: %w", err)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("field dst: %w", err)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// jsonLink is one record of `ip -j link show` / `ip -j addr show`.
type jsonLink struct {
	Ifindex   *int       `json:"ifindex"`
	Ifname    string     `json:"ifname"`
	Flags     []string   `json:"flags"`     // "UP", "LOWER_UP", ...
	MTU       int        `json:"mtu"`       //
	Operstate string     `json:"operstate"` // "UP", "DOWN", "UNKNOWN", ...
	Address   string     `json:"address"`   // link-layer address
	AddrInfo  []jsonAddr `json:"addr_info"` // only in addr show
}

type jsonAddr struct {
	Family     string `json:"family"` // "inet", "inet6"
	Local      string `json:"local"`
	Prefixlen  *int   `json:"prefixlen"`
	Secondary  bool   `json:"secondary"`
	Temporary  bool   `json:"temporary"` // IPv6's name for the IFA_F_SECONDARY bit
	Tentative  bool   `json:"tentative"`
	Dadfailed  bool   `json:"dadfailed"`
	Deprecated bool   `json:"deprecated"`
	Protocol   string `json:"protocol"` // IFA_PROTO, when ip prints it
}

func parseLinkRecords(what string, data []byte) ([]jsonLink, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parsing ip -j %s output: %w", what, err)
	}
	out := make([]jsonLink, len(raw))
	for i, rec := range raw {
		if err := json.Unmarshal(rec, &out[i]); err != nil {
			return nil, fmt.Errorf("parsing %s record %d: %w", what, i, err)
		}
		if out[i].Ifname == "" || out[i].Ifindex == nil {
			return nil, fmt.Errorf("parsing %s record %d: field ifname or ifindex missing", what, i)
		}
	}
	return out, nil
}

// ParseLinks parses `ip -j link show` (or `ip -j addr show`) into
// interfaces. Up follows netcfg's Linux rule: flag UP and operstate UP or
// UNKNOWN (not DOWN, LOWERLAYERDOWN, DORMANT, ...). An all-zero link-layer
// address (loopback) is "".
func ParseLinks(data []byte) ([]netcfg.Interface, error) {
	recs, err := parseLinkRecords("link", data)
	if err != nil {
		return nil, err
	}
	out := make([]netcfg.Interface, 0, len(recs))
	for _, l := range recs {
		mac := l.Address
		if mac == "00:00:00:00:00:00" {
			mac = ""
		}
		out = append(out, netcfg.Interface{
			Index: *l.Ifindex,
			Name:  l.Ifname,
			MAC:   mac,
			Up:    slices.Contains(l.Flags, "UP") && (l.Operstate == "UP" || l.Operstate == "UNKNOWN"),
			MTU:   l.MTU,
		})
	}
	return out, nil
}

// ParseAddrs parses `ip -j -d addr show` into addresses of both families.
// Flags: secondary (or IPv6 temporary) → AddrSecondary, tentative,
// dadfailed → AddrDuplicate, deprecated. Origin is the printed protocol, or
// "".
func ParseAddrs(data []byte) ([]netcfg.Address, error) {
	recs, err := parseLinkRecords("addr", data)
	if err != nil {
		return nil, err
	}
	var out []netcfg.Address
	for i, l := range recs {
		for j, ja := range l.AddrInfo {
			if ja.Family != "inet" && ja.Family != "inet6" {
				continue
			}
			a, err := netip.ParseAddr(ja.Local)
			if err != nil {
				return nil, fmt.Errorf("parsing addr record %d (%s) addr_info %d: field local: %w", i, l.Ifname, j, err)
			}
			if ja.Prefixlen == nil || *ja.Prefixlen < 0 || *ja.Prefixlen > a.BitLen() {
				return nil, fmt.Errorf("parsing addr record %d (%s) addr_info %d: field prefixlen missing or out of range", i, l.Ifname, j)
			}
			var f netcfg.AddrFlags
			if ja.Secondary || ja.Temporary {
				f |= netcfg.AddrSecondary
			}
			if ja.Tentative {
				f |= netcfg.AddrTentative
			}
			if ja.Dadfailed {
				f |= netcfg.AddrDuplicate
			}
			if ja.Deprecated {
				f |= netcfg.AddrDeprecated
			}
			out = append(out, netcfg.Address{
				Prefix:    netip.PrefixFrom(a, *ja.Prefixlen),
				Interface: l.Ifname,
				Flags:     f,
				Origin:    ja.Protocol,
			})
		}
	}
	return out, nil
}

// ParseSnapshot builds a snapshot from `ip -j -d addr show` (links and
// addresses) and `ip -j route show table all` output.
func ParseSnapshot(addrShow, routeShow []byte) (*netcfg.Snapshot, error) {
	links, err := ParseLinks(addrShow)
	if err != nil {
		return nil, err
	}
	addrs, err := ParseAddrs(addrShow)
	if err != nil {
		return nil, err
	}
	routes, err := ParseRoutes(routeShow)
	if err != nil {
		return nil, err
	}
	return &netcfg.Snapshot{Interfaces: links, Addresses: addrs, Routes: routes}, nil
}

// WithPersistentView appends a StorePersistent copy of every active route
// the persistent-view rule selects (IsPersistent): Linux's persistent view.
func WithPersistentView(routes []netcfg.Route) []netcfg.Route {
	n := len(routes)
	for _, r := range routes[:n] {
		if r.Store == netcfg.StoreActive && IsPersistent(r.Table, r.Protocol) {
			r.Store = netcfg.StorePersistent
			routes = append(routes, r)
		}
	}
	return routes
}
