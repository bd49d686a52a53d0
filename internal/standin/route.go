package standin

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// route.exe, as `route /?` and the route command reference
// (learn.microsoft.com, windows-commands/route_ws2008) document it:
//
//	ROUTE [-f] [-p] [-4|-6] command [destination] [MASK netmask] [gateway] [METRIC metric] [IF interface]
//
// Implemented: print [-4|-6]; [-p] add; delete. -p "when used with the add
// command ... the route is added to the registry"; it is "ignored for all
// other commands, which always affect the appropriate persistent routes":
// delete removes from both stores. Rejected as unsupported: -f, change,
// print with a destination pattern, delete with wildcards.

// Texts route.exe prints. maskInvalid is documented in `route /?`
// ("Diagnostic Notes"). The others are route.exe's "The route addition
// failed: " prefix with the Win32 message of the error the stack returns
// (ERROR_OBJECT_ALREADY_EXISTS, ERROR_NOT_FOUND, ERROR_INVALID_PARAMETER,
// the last as KB151795 describes for a gateway on no local subnet); which
// error Windows returns in each case is our reading, not documented.
const (
	routeOK         = " OK!"
	maskInvalid     = "The specified mask parameter is invalid. (Destination & Mask) != Destination."
	msgExists       = "The object already exists."
	msgNotFound     = "Element not found."
	msgInvalidParam = "The parameter is incorrect."
)

// routeArgs is a parsed route.exe command line.
type routeArgs struct {
	persistent bool
	family     int // 4 or 6 from -4/-6; 0 if neither
	verb       string
	dest       string
	mask       string
	gateway    string
	metric     string
	ifIndex    string
	extra      []string
}

func parseRouteArgs(args []string) (routeArgs, error) {
	var a routeArgs
	var rest []string
	for _, t := range args {
		switch strings.ToLower(t) {
		case "-p", "/p":
			a.persistent = true
		case "-4", "/4":
			a.family = 4
		case "-6", "/6":
			a.family = 6
		case "-f", "/f":
			return a, errors.New("-f (clear the routing table)")
		default:
			if strings.HasPrefix(t, "-") || (strings.HasPrefix(t, "/") && len(t) == 2) {
				return a, fmt.Errorf("option %s", t)
			}
			rest = append(rest, t)
		}
	}
	if len(rest) == 0 {
		return a, errors.New("route without a command (help)")
	}
	a.verb = strings.ToLower(rest[0])
	rest = rest[1:]
	for i := 0; i < len(rest); i++ {
		kw := strings.ToLower(rest[i])
		if (kw == "mask" || kw == "metric" || kw == "if") && i+1 < len(rest) {
			switch kw {
			case "mask":
				a.mask = rest[i+1]
			case "metric":
				a.metric = rest[i+1]
			case "if":
				a.ifIndex = rest[i+1]
			}
			i++
			continue
		}
		switch {
		case a.dest == "":
			a.dest = rest[i]
		case a.gateway == "":
			a.gateway = rest[i]
		default:
			a.extra = append(a.extra, rest[i])
		}
	}
	return a, nil
}

func (c *cmd) route(args []string) {
	a, err := parseRouteArgs(args)
	if err != nil {
		c.unsupported("route %s: %v; the stand-ins implement route print [-4|-6], route [-p] add and route delete", strings.Join(args, " "), err)
		return
	}
	switch a.verb {
	case "print":
		if a.dest != "" || a.gateway != "" || len(a.extra) > 0 {
			c.unsupported("route print with a destination pattern (%s)", strings.Join(args, " "))
			return
		}
		v, err := c.view()
		if err != nil {
			c.internal(err)
			return
		}
		c.printf("%s", renderRoutePrint(v, c.s.st.routes, a.family))
	case "add":
		c.routeAdd(a)
	case "delete":
		c.routeDelete(a)
	default:
		c.unsupported("route %s: the stand-ins implement route print [-4|-6], route [-p] add and route delete", a.verb)
	}
}

// routeSpec is a route.exe destination, gateway and interface, checked.
type routeSpec struct {
	dst    netip.Prefix
	gw     netip.Addr // invalid: none given or 0.0.0.0/:: (on-link)
	metric int        // 0: none given
	ifIdx  int        // 0: none given
}

// parseSpec checks a route.exe command line the way `route /?` documents:
// IPv4 destinations take MASK (default 255.255.255.255) and must have no
// bits outside it; IPv6 destinations are PREFIX/LEN; METRIC is 1 to 9999;
// IF is an interface index, decimal or 0x hex. failed is "addition" or
// "deletion", for "The route addition failed: ...".
func (c *cmd) parseSpec(a routeArgs, failed string) (routeSpec, bool) {
	var s routeSpec
	if len(a.extra) > 0 {
		c.fail("Route: bad argument %s", a.extra[0])
		return s, false
	}
	if a.dest == "" {
		c.fail("Route: bad destination address (none given)")
		return s, false
	}
	if strings.ContainsAny(a.dest, "*?") || strings.ContainsAny(a.gateway, "*?") {
		c.unsupported("route %s with wildcards (%s %s)", a.verb, a.dest, a.gateway)
		return s, false
	}
	if strings.Contains(a.dest, ":") {
		if a.family == 4 || a.mask != "" {
			c.fail("Route: bad argument %s", a.dest)
			return s, false
		}
		p, err := netip.ParsePrefix(a.dest)
		if err != nil {
			addr, aerr := netip.ParseAddr(a.dest)
			if aerr != nil || !addr.Is6() {
				c.fail("Route: bad destination address %s", a.dest)
				return s, false
			}
			p = netip.PrefixFrom(addr, 128)
		}
		if p.Masked() != p {
			c.fail("The route %s failed: %s", failed, msgInvalidParam)
			return s, false
		}
		s.dst = p
	} else {
		if a.family == 6 {
			c.fail("Route: bad argument %s", a.dest)
			return s, false
		}
		dst, err := netip.ParseAddr(a.dest)
		if err != nil || !dst.Is4() {
			c.fail("Route: bad destination address %s", a.dest)
			return s, false
		}
		bits := 32
		if a.mask != "" {
			m, err := netip.ParseAddr(a.mask)
			ones, size := 0, 0
			if err == nil && m.Is4() {
				b := m.As4()
				ones, size = net.IPMask(b[:]).Size()
			}
			if size == 0 {
				c.fail("Route: bad mask %s", a.mask)
				return s, false
			}
			bits = ones
		}
		s.dst = netip.PrefixFrom(dst, bits)
		if s.dst.Masked() != s.dst {
			c.fail("The route %s failed: %s", failed, maskInvalid)
			return s, false
		}
	}
	if a.gateway != "" {
		gw, err := netip.ParseAddr(a.gateway)
		if err != nil || gw.Is4() != s.dst.Addr().Is4() || gw.Zone() != "" {
			c.fail("Route: bad gateway address %s", a.gateway)
			return s, false
		}
		if !gw.IsUnspecified() {
			s.gw = gw
		}
	}
	if a.metric != "" {
		m, err := strconv.Atoi(a.metric)
		if err != nil || m < 1 || m > 9999 {
			// route /? documents the range (1 to 9999); this text is ours.
			c.fail("Route: bad metric value %s (route takes a metric of 1 to 9999)", a.metric)
			return s, false
		}
		s.metric = m
	}
	if a.ifIndex != "" {
		idx, err := parseIfIndex(a.ifIndex)
		if err != nil {
			c.fail("Route: bad argument %s", a.ifIndex)
			return s, false
		}
		s.ifIdx = idx
	}
	return s, true
}

func parseIfIndex(s string) (int, error) {
	var v int64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err = strconv.ParseInt(h, 16, 32)
	} else {
		v, err = strconv.ParseInt(s, 10, 32)
	}
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("interface index %q", s)
	}
	return int(v), nil
}

// routeAdd is `route [-p] add`: the active table, and with -p the
// persistent store too.
func (c *cmd) routeAdd(a routeArgs) {
	s, ok := c.parseSpec(a, "addition")
	if !ok {
		return
	}
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	idx := s.ifIdx
	switch {
	case idx != 0:
		if _, ok := v.linkByIndex(idx); !ok {
			c.fail("The route addition failed: %s", msgNotFound)
			return
		}
		if s.gw.IsValid() && !v.onLinkOn(idx, s.gw) {
			c.fail("The route addition failed: %s", msgInvalidParam)
			return
		}
	case s.gw.IsValid():
		// "If the if parameter is omitted, the interface is determined
		// from the gateway address."
		if idx = v.onLinkIndex(s.gw); idx == 0 {
			c.fail("The route addition failed: %s", msgInvalidParam)
			return
		}
	default:
		c.fail("The route addition failed: %s", msgInvalidParam)
		return
	}
	r := Route{Dst: s.dst, Gateway: s.gw, Index: idx, Metric: s.metric}
	if err := c.s.k.AddRoute(r); err != nil {
		c.routeError("addition", err)
		return
	}
	c.changed()
	if a.persistent {
		m := s.metric
		if m == 0 {
			m = DefaultMetric
		}
		c.s.st.addRoute(pRoute{Dst: s.dst, Gateway: s.gw, Index: idx, Metric: m})
	}
	c.printf("%s\n", routeOK)
}

func (c *cmd) routeError(failed string, err error) {
	switch {
	case errors.Is(err, ErrExists):
		c.fail("The route %s failed: %s", failed, msgExists)
	case errors.Is(err, ErrNotFound):
		c.fail("The route %s failed: %s", failed, msgNotFound)
	default:
		c.fail("The route %s failed: %s", failed, msgInvalidParam)
		c.eprintf("kbh-standin: %v\n", err)
	}
}

// routeDelete is `route delete`: every matching route of the active table
// and of the persistent store.
func (c *cmd) routeDelete(a routeArgs) {
	s, ok := c.parseSpec(a, "deletion")
	if !ok {
		return
	}
	if a.metric != "" {
		c.fail("Route: bad argument metric")
		return
	}
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	deleted := 0
	for _, r := range v.activeRoutes() {
		if r.Dst != s.dst || (s.gw.IsValid() && r.Gateway != s.gw) || (s.ifIdx != 0 && r.Index != s.ifIdx) {
			continue
		}
		if err := c.s.k.DelRoute(r); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			c.routeError("deletion", err)
			return
		}
		deleted++
	}
	c.changed()
	gone := c.s.st.deleteRoutes(func(r pRoute) bool {
		return r.Dst == s.dst && (!s.gw.IsValid() || r.Gateway == s.gw) && (s.ifIdx == 0 || v.resolvedIndex(r) == s.ifIdx)
	})
	if deleted == 0 && len(gone) == 0 {
		c.fail("The route deletion failed: %s", msgNotFound)
		return
	}
	c.printf("%s\n", routeOK)
}
