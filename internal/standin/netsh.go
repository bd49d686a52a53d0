package standin

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// netsh, as the netsh interface reference documents it
// (learn.microsoft.com, windows-commands/netsh-interface): command words
// and parameter tags may be abbreviated to a unique prefix (which is how
// the classic `set dynamicport tcp start= num=` reaches `set
// dynamicportrange protocol= startport= numberofports=`); parameters are
// `tag=value` or positional in the documented order; `store=` is active or
// persistent, persistent by default for changes and active for show.
//
// Implemented, for ipv4 and ipv6 (and the "ip" alias of ipv4):
//
//	add address, delete address, add route, delete route,
//	show route, show interfaces, show addresses,
//	set dynamicportrange, show dynamicportrange (tcp),
//	set global multicastforwarding=, show global,
//	set interface forwarding=.
//
// Every other command or parameter netsh has is rejected as unsupported;
// a word netsh does not have gets netsh's own "The following command was
// not found".

// netsh texts. notFound and syntax are netsh's own. badInterface is the
// Win32 message of ERROR_INVALID_NAME, which netsh prints for an interface
// name it cannot resolve (our reading of captures; not documented).
const (
	netshOK           = "Ok.\n"
	netshSyntax       = "The syntax supplied for this command is not valid. Check help for the correct syntax."
	netshBadInterface = "The filename, directory name, or volume label syntax is incorrect."
)

// Command words at each level, from the netsh interface reference, for
// telling an abbreviation from an ambiguous or unknown word.
var (
	netshTopWords = []string{"add", "advfirewall", "branchcache", "bridge", "delete", "dhcpclient", "dnsclient", "dump",
		"exec", "firewall", "help", "http", "interface", "ipsec", "lan", "mbn", "namespace", "netio", "ras", "rpc",
		"set", "show", "trace", "wcn", "wfp", "winhttp", "winsock", "wlan"}
	netshInterfaceWords = []string{"6to4", "clat", "dump", "fl48", "fl68", "help", "httpstunnel", "ipv4", "ipv6",
		"isatap", "portproxy", "set", "show", "tcp", "teredo", "udp"}
	netshIPWords = map[int][]string{
		4: {"add", "delete", "dump", "install", "reset", "set", "show", "uninstall"},
		6: {"6to4", "add", "delete", "dump", "isatap", "reset", "set", "show"},
	}
	netshObjects = map[int]map[string][]string{
		4: {
			"add":    {"address", "dnsservers", "excludedportrange", "neighbors", "route", "winsservers"},
			"delete": {"address", "arpcache", "destinationcache", "dnsservers", "excludedportrange", "neighbors", "route", "winsservers"},
			"set":    {"address", "compartment", "dnsservers", "dynamicportrange", "global", "interface", "neighbors", "route", "subinterface", "winsservers"},
			"show": {"addresses", "compartments", "config", "destinationcache", "dnsservers", "dynamicportrange", "excludedportrange",
				"global", "icmpstats", "interfaces", "ipaddresses", "ipnettomedia", "ipstats", "joins", "neighbors", "offload", "route",
				"subinterfaces", "tcpconnections", "tcpstats", "udpconnections", "udpstats", "winsservers"},
		},
		6: {
			"add":    {"address", "dnsservers", "excludedportrange", "neighbors", "potentialrouter", "prefixpolicy", "route", "v6v4tunnel"},
			"delete": {"address", "destinationcache", "dnsservers", "excludedportrange", "interface", "neighbors", "potentialrouter", "prefixpolicy", "route"},
			"set": {"address", "compartment", "dnsservers", "dynamicportrange", "global", "interface", "neighbors", "prefixpolicy",
				"privacy", "route", "slaacsecretkey", "subinterface", "teredo"},
			"show": {"addresses", "compartments", "destinationcache", "dnsservers", "dynamicportrange", "excludedportrange", "global",
				"interfaces", "ipstats", "joins", "neighbors", "offload", "potentialrouters", "prefixpolicies", "privacy", "route",
				"siteprefixes", "slaacsecretkey", "subinterfaces", "tcpstats", "teredo", "tfofallback", "udpstats"},
		},
	}
)

// netshCommand is an implemented command: its parameter tags in their
// documented (positional) order, the ones the stand-in implements, and
// its body.
type netshCommand struct {
	tags        []string
	implemented []string
	run         func(c *cmd, fam int, p netshParams)
}

var netshCommands map[string]netshCommand

func init() {
	routeTags := []string{"prefix", "interface", "nexthop", "siteprefixlength", "metric", "publish", "validlifetime", "preferredlifetime", "store"}
	netshCommands = map[string]netshCommand{
		"4 add address": {
			tags:        []string{"name", "address", "mask", "type", "gateway", "gwmetric", "validlifetime", "preferredlifetime", "subinterface", "store", "skipassource"},
			implemented: []string{"name", "address", "mask", "store"},
			run:         (*cmd).netshAddAddress,
		},
		"6 add address": {
			tags:        []string{"interface", "address", "type", "validlifetime", "preferredlifetime", "store", "skipassource"},
			implemented: []string{"interface", "address", "store"},
			run:         (*cmd).netshAddAddress,
		},
		"4 delete address": {
			tags: []string{"name", "address", "gateway", "store"}, implemented: []string{"name", "address", "store"},
			run: (*cmd).netshDeleteAddress,
		},
		"6 delete address": {
			tags: []string{"interface", "address", "store"}, implemented: []string{"interface", "address", "store"},
			run: (*cmd).netshDeleteAddress,
		},
		"add route":    {tags: routeTags, implemented: []string{"prefix", "interface", "nexthop", "metric", "store"}, run: (*cmd).netshAddRoute},
		"delete route": {tags: []string{"prefix", "interface", "nexthop", "store"}, implemented: []string{"prefix", "interface", "nexthop", "store"}, run: (*cmd).netshDeleteRoute},
		"show route":   {tags: []string{"level", "store"}, implemented: []string{"level", "store"}, run: (*cmd).netshShowRoute},
		"show interfaces": {
			tags: []string{"interface", "rr", "level", "store"}, implemented: []string{"interface", "level", "store"},
			run: (*cmd).netshShowInterfaces,
		},
		"4 show addresses": {tags: []string{"name"}, implemented: []string{"name"}, run: (*cmd).netshShowAddresses},
		"6 show addresses": {
			tags: []string{"interface", "level", "store"}, implemented: []string{"interface", "level", "store"},
			run: (*cmd).netshShowAddresses,
		},
		"set dynamicportrange": {
			tags: []string{"protocol", "startport", "numberofports", "store"}, implemented: []string{"protocol", "startport", "numberofports", "store"},
			run: (*cmd).netshSetDynamicPort,
		},
		"show dynamicportrange": {tags: []string{"protocol", "store"}, implemented: []string{"protocol", "store"}, run: (*cmd).netshShowDynamicPort},
		"show global":           {tags: []string{"store"}, implemented: []string{"store"}, run: (*cmd).netshShowGlobal},
		"set global": {
			tags: []string{"defaultcurhoplimit", "neighborcachelimit", "routecachelimit", "reassemblylimit", "icmpredirects",
				"sourceroutingbehavior", "taskoffload", "dhcpmediasense", "mediasenseeventlog", "mldlevel", "mldversion",
				"multicastforwarding", "groupforwardedfragments", "randomizeidentifiers", "store", "addressmaskreply", "minmtu",
				"flowlabel", "loopbacklargemtu", "loopbackworkercount", "loopbackexecutionmode", "sourcebasedecmp",
				"reassemblyoutoforderlimit", "slaacprivacylevel", "slaacmaxdadattempts", "routepolicies", "recursivereassembly", "icmpjumbograms"},
			implemented: []string{"multicastforwarding", "store"},
			run:         (*cmd).netshSetGlobal,
		},
		"set interface": {
			tags: []string{"interface", "forwarding", "advertise", "mtu", "siteprefixlength", "nud", "basereachabletime",
				"retransmittime", "dadtransmits", "routerdiscovery", "managedaddress", "otherstateful", "weakhostsend",
				"weakhostreceive", "ignoredefaultroutes", "advertisedrouterlifetime", "advertisedefaultroute", "currenthoplimit",
				"store", "forcearpndwolpattern", "enabledirectedmacwolpattern", "ecncapability", "rabaseddnsconfig", "dhcpstaticipcoexistence"},
			implemented: []string{"interface", "forwarding", "store"},
			run:         (*cmd).netshSetInterface,
		},
	}
}

// matchWord returns the candidate word equals or uniquely abbreviates.
func matchWord(word string, candidates []string) (string, bool) {
	w := strings.ToLower(word)
	var found []string
	for _, c := range candidates {
		if c == w {
			return c, true
		}
		if strings.HasPrefix(c, w) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return "", false
}

func (c *cmd) netsh(args []string) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		c.unsupported("netsh %s: the stand-ins implement `netsh interface ipv4|ipv6 ...` commands only", strings.Join(args, " "))
		return
	}
	notFound := func() {
		c.fail("The following command was not found: %s.", strings.Join(args, " "))
	}
	top, ok := matchWord(args[0], netshTopWords)
	if !ok {
		notFound()
		return
	}
	if top != "interface" || len(args) < 2 {
		c.unsupported("netsh %s: the stand-ins implement `netsh interface ipv4|ipv6 ...` commands only", strings.Join(args, " "))
		return
	}
	fam := 0
	if strings.EqualFold(args[1], "ip") {
		fam = 4
	} else {
		ctx, ok := matchWord(args[1], netshInterfaceWords)
		switch {
		case !ok:
			notFound()
			return
		case ctx == "ipv4":
			fam = 4
		case ctx == "ipv6":
			fam = 6
		default:
			c.unsupported("netsh interface %s: the stand-ins implement the ipv4 and ipv6 contexts only", ctx)
			return
		}
	}
	if len(args) < 3 {
		c.unsupported("netsh %s (an interactive context)", strings.Join(args, " "))
		return
	}
	verb, ok := matchWord(args[2], netshIPWords[fam])
	if !ok {
		notFound()
		return
	}
	objects := netshObjects[fam][verb]
	if objects == nil || len(args) < 4 {
		c.unsupported("netsh %s", strings.Join(args, " "))
		return
	}
	obj, ok := matchWord(args[3], objects)
	if !ok {
		notFound()
		return
	}
	name := verb + " " + obj
	def, ok := netshCommands[fmt.Sprintf("%d %s", fam, name)]
	if !ok {
		def, ok = netshCommands[name]
	}
	if !ok {
		c.unsupported("netsh interface ipv%d %s", fam, name)
		return
	}
	p, err := bindNetshParams(def.tags, args[4:])
	if err != nil {
		c.fail("%s", netshSyntax)
		c.eprintf("kbh-standin: %v\n", err)
		return
	}
	for tag := range p {
		if !slices.Contains(def.implemented, tag) {
			c.unsupported("netsh interface ipv%d %s %s=: the stand-ins implement %s", fam, name, tag, strings.Join(def.implemented, ", "))
			return
		}
	}
	def.run(c, fam, p)
}

// netshParams are a command's parameters by tag.
type netshParams map[string]string

// bindNetshParams binds args to tags: `tag=value` (the tag possibly
// abbreviated) or positional values in the tags' order.
func bindNetshParams(tags, args []string) (netshParams, error) {
	p := netshParams{}
	next := 0
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			tag, ok := matchWord(k, tags)
			if !ok {
				return nil, fmt.Errorf("unknown or ambiguous parameter tag %q", k)
			}
			if _, dup := p[tag]; dup {
				return nil, fmt.Errorf("parameter %s given twice", tag)
			}
			p[tag] = v
			continue
		}
		for next < len(tags) {
			if _, set := p[tags[next]]; !set {
				break
			}
			next++
		}
		if next >= len(tags) {
			return nil, fmt.Errorf("too many values (%q)", a)
		}
		p[tags[next]] = a
		next++
	}
	return p, nil
}

// store returns the store= parameter: "active" or "persistent" (def when
// absent); ok false after printing the syntax error.
func (c *cmd) netshStore(p netshParams, def string) (string, bool) {
	s, ok := p["store"]
	if !ok {
		return def, true
	}
	switch strings.ToLower(s) {
	case "active", "persistent":
		return strings.ToLower(s), true
	}
	c.fail("%s", netshSyntax)
	return "", false
}

// netshInterface resolves an interface "name or index".
func (c *cmd) netshInterface(v *view, p netshParams, tag string) (Link, bool) {
	name, ok := p[tag]
	if !ok {
		c.fail("%s", netshSyntax)
		return Link{}, false
	}
	if l, ok := v.linkByName(name); ok {
		return l, true
	}
	if idx, err := strconv.Atoi(name); err == nil {
		if l, ok := v.linkByIndex(idx); ok {
			return l, true
		}
	}
	c.fail("%s", netshBadInterface)
	return Link{}, false
}

// addressInterface reads the host and resolves the interface an address
// command names: name= for ipv4, interface= for ipv6 (netsh's tags).
func (c *cmd) addressInterface(fam int, p netshParams) (*view, Link, bool) {
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return nil, Link{}, false
	}
	tag := "name"
	if fam == 6 {
		tag = "interface"
	}
	l, ok := c.netshInterface(v, p, tag)
	return v, l, ok
}

func (c *cmd) netshAddAddress(fam int, p netshParams) {
	_, l, ok := c.addressInterface(fam, p)
	if !ok {
		return
	}
	pfx, ok := c.netshAddress(fam, p)
	if !ok {
		return
	}
	store, ok := c.netshStore(p, "persistent")
	if !ok {
		return
	}
	if err := c.addAddress(Addr{Prefix: pfx, Index: l.Index}); err != nil {
		c.netshError(err)
		return
	}
	if store == "persistent" {
		c.s.st.addAddr(pAddr{Prefix: pfx, Index: l.Index})
	}
	c.printf("%s", netshOK)
}

// netshAddress parses address= (and mask= for IPv4): "192.0.2.21" with a
// mask, "192.0.2.21/24", "2001:db8::21/64" or "2001:db8::21" (/64).
func (c *cmd) netshAddress(fam int, p netshParams) (netip.Prefix, bool) {
	s, ok := p["address"]
	if !ok {
		c.fail("%s", netshSyntax)
		return netip.Prefix{}, false
	}
	var pfx netip.Prefix
	if strings.Contains(s, "/") {
		x, err := netip.ParsePrefix(s)
		if err != nil {
			c.fail("%s", msgInvalidParam)
			return netip.Prefix{}, false
		}
		pfx = x
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			c.fail("%s", msgInvalidParam)
			return netip.Prefix{}, false
		}
		bits := 64
		if a.Is4() {
			m, ok := p["mask"]
			if !ok {
				c.fail("%s", netshSyntax)
				return netip.Prefix{}, false
			}
			mb, err := netip.ParseAddr(m)
			ones, size := 0, 0
			if err == nil && mb.Is4() {
				b := mb.As4()
				ones, size = net.IPMask(b[:]).Size()
			}
			if size == 0 {
				c.fail("%s", msgInvalidParam)
				return netip.Prefix{}, false
			}
			bits = ones
		}
		pfx = netip.PrefixFrom(a, bits)
	}
	if familyOf(pfx.Addr()) != fam || pfx.Addr().Zone() != "" {
		c.fail("%s", msgInvalidParam)
		return netip.Prefix{}, false
	}
	return pfx, true
}

func (c *cmd) netshError(err error) {
	switch {
	case errors.Is(err, ErrExists):
		c.fail("%s", msgExists)
	case errors.Is(err, ErrNotFound):
		c.fail("%s", msgNotFound)
	default:
		c.fail("%s", msgInvalidParam)
		c.eprintf("kbh-standin: %v\n", err)
	}
}

// netshDeleteAddress deletes the address from the active store, and for
// store=persistent (the default: "permanent") from the persistent store
// too.
func (c *cmd) netshDeleteAddress(fam int, p netshParams) {
	v, l, ok := c.addressInterface(fam, p)
	if !ok {
		return
	}
	s, ok := p["address"]
	a, err := netip.ParseAddr(strings.Split(s, "/")[0])
	if !ok || err != nil || familyOf(a) != fam {
		c.fail("%s", msgInvalidParam)
		return
	}
	store, ok := c.netshStore(p, "persistent")
	if !ok {
		return
	}
	active, inKernel := v.hasAddr(l.Index, a)
	inStore := false
	if store == "persistent" {
		inStore = c.s.st.deleteAddr(l.Index, a)
	}
	if !inKernel && !inStore {
		c.fail("%s", msgNotFound)
		return
	}
	if inKernel {
		if err := c.deleteAddress(active); err != nil {
			c.netshError(err)
			return
		}
	}
	c.printf("%s", netshOK)
}

// netshRouteSpec reads prefix=, interface= and nexthop=.
func (c *cmd) netshRouteSpec(v *view, fam int, p netshParams) (Route, bool) {
	pfx, err := netip.ParsePrefix(p["prefix"])
	if err != nil || familyOf(pfx.Addr()) != fam || pfx.Masked() != pfx {
		if _, given := p["prefix"]; !given {
			c.fail("%s", netshSyntax)
		} else {
			c.fail("%s", msgInvalidParam)
		}
		return Route{}, false
	}
	l, ok := c.netshInterface(v, p, "interface")
	if !ok {
		return Route{}, false
	}
	r := Route{Dst: pfx, Index: l.Index}
	if s, ok := p["nexthop"]; ok {
		gw, err := netip.ParseAddr(s)
		if err != nil || familyOf(gw) != fam {
			c.fail("%s", msgInvalidParam)
			return Route{}, false
		}
		if !gw.IsUnspecified() {
			r.Gateway = gw
		}
	}
	return r, true
}

func (c *cmd) netshAddRoute(fam int, p netshParams) {
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	r, ok := c.netshRouteSpec(v, fam, p)
	if !ok {
		return
	}
	if s, ok := p["metric"]; ok {
		m, err := strconv.Atoi(s)
		if err != nil || m < 0 {
			c.fail("%s", msgInvalidParam)
			return
		}
		r.Metric = m
	}
	store, ok := c.netshStore(p, "persistent")
	if !ok {
		return
	}
	if err := c.s.k.AddRoute(r); err != nil {
		c.netshError(err)
		return
	}
	c.changed()
	if store == "persistent" {
		c.s.st.addRoute(pRoute{Dst: r.Dst, Gateway: r.Gateway, Index: r.Index, Metric: r.Metric})
	}
	c.printf("%s", netshOK)
}

// netshDeleteRoute deletes from the active store for store=active, and
// from both stores for store=persistent and by default ("By default,
// entries in both stores are deleted").
func (c *cmd) netshDeleteRoute(fam int, p netshParams) {
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	r, ok := c.netshRouteSpec(v, fam, p)
	if !ok {
		return
	}
	store, ok := c.netshStore(p, "persistent")
	if !ok {
		return
	}
	_, gwGiven := p["nexthop"]
	match := func(dst netip.Prefix, gw netip.Addr, idx int) bool {
		return dst == r.Dst && idx == r.Index && (!gwGiven || gw == r.Gateway)
	}
	deleted := 0
	for _, a := range v.activeRoutes() {
		if !match(a.Dst, a.Gateway, a.Index) {
			continue
		}
		if err := c.s.k.DelRoute(a); err != nil && !errors.Is(err, ErrNotFound) {
			c.netshError(err)
			return
		}
		deleted++
	}
	c.changed()
	if store == "persistent" {
		deleted += len(c.s.st.deleteRoutes(func(x pRoute) bool { return match(x.Dst, x.Gateway, v.resolvedIndex(x)) }))
	}
	if deleted == 0 {
		c.fail("%s", msgNotFound)
		return
	}
	c.printf("%s", netshOK)
}

func (c *cmd) netshShowRoute(fam int, p netshParams) {
	if lvl, ok := p["level"]; ok && !strings.EqualFold(lvl, "normal") {
		c.unsupported("netsh interface ipv%d show route level=%s", fam, lvl)
		return
	}
	store, ok := c.netshStore(p, "active")
	if !ok {
		return
	}
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	if store == "persistent" {
		c.printf("%s", renderNetshPersistentRoutes(v, c.s.st.routesOf(fam)))
		return
	}
	c.printf("%s", renderNetshRoutes(v, fam))
}

func (c *cmd) netshShowInterfaces(fam int, p netshParams) {
	store, ok := c.netshStore(p, "active")
	if !ok {
		return
	}
	if store != "active" {
		c.unsupported("netsh interface ipv%d show interfaces store=%s", fam, store)
		return
	}
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	level := strings.ToLower(p["level"])
	if _, given := p["interface"]; !given {
		if level == "verbose" {
			c.unsupported("netsh interface ipv%d show interfaces level=verbose without an interface", fam)
			return
		}
		c.printf("%s", renderNetshInterfaces(v, c.ipEnabled(v, fam), fam))
		return
	}
	l, ok := c.netshInterface(v, p, "interface")
	if !ok {
		return
	}
	if level == "normal" {
		c.printf("%s", renderNetshInterfaces(&view{links: []Link{l}}, c.ipEnabled(v, fam), fam))
		return
	}
	params, err := c.interfaceParams(l, fam)
	if err != nil {
		c.internal(err)
		return
	}
	c.printf("%s", renderNetshInterfaceVerbose(l, params))
}

// ipEnabled returns the links with the family enabled (IPv6:
// disable_ipv6 not set).
func (c *cmd) ipEnabled(v *view, fam int) []Link {
	if fam == 4 {
		return v.links
	}
	var out []Link
	for _, l := range v.links {
		if s, err := c.s.k.Sysctl("ipv6/conf/" + l.Name + "/disable_ipv6"); err == nil && s == "1" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// interfaceParams reads the lines of `show interfaces interface=X` that
// have a Linux counterpart, in netsh's order.
func (c *cmd) interfaceParams(l Link, fam int) ([][2]string, error) {
	ipv := fmt.Sprintf("ipv%d", fam)
	state := "disconnected"
	if l.Up || l.Loopback {
		state = "connected"
	}
	out := [][2]string{
		{"IfIndex", strconv.Itoa(l.Index)},
		{"State", state},
		{"Metric", "0"},
		{"Link MTU", fmt.Sprintf("%d bytes", l.MTU)},
	}
	for _, s := range []struct{ label, path, unit string }{
		{"Base Reachable Time", ipv + "/neigh/" + l.Name + "/base_reachable_time_ms", " ms"},
		{"Retransmission Interval", ipv + "/neigh/" + l.Name + "/retrans_time_ms", " ms"},
	} {
		val, err := c.s.k.Sysctl(s.path)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{s.label, val + s.unit})
	}
	if fam == 6 {
		val, err := c.s.k.Sysctl("ipv6/conf/" + l.Name + "/dad_transmits")
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{"DAD Transmits", val})
	}
	fwd, err := c.s.k.Sysctl(ipv + "/conf/" + l.Name + "/forwarding")
	if err != nil {
		return nil, err
	}
	out = append(out, [2]string{"Forwarding", enabledWord(fwd == "1")})
	if fam == 6 {
		val, err := c.s.k.Sysctl("ipv6/conf/" + l.Name + "/hop_limit")
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{"Current Hop Limit", val})
	}
	return out, nil
}

func enabledWord(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func (c *cmd) netshShowAddresses(fam int, p netshParams) {
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	if lvl, ok := p["level"]; ok && !strings.EqualFold(lvl, "normal") {
		c.unsupported("netsh interface ipv6 show addresses level=%s", lvl)
		return
	}
	if s, ok := p["store"]; ok && !strings.EqualFold(s, "active") {
		c.unsupported("netsh interface ipv6 show addresses store=%s", s)
		return
	}
	links := v.links
	tag := "name"
	if fam == 6 {
		tag = "interface"
	}
	if _, given := p[tag]; given {
		l, ok := c.netshInterface(v, p, tag)
		if !ok {
			return
		}
		links = []Link{l}
	}
	if fam == 4 {
		c.printf("%s", renderNetshAddresses4(v, links))
		return
	}
	c.printf("%s", renderNetshAddresses6(v, links))
}

// The dynamic port range: Linux keeps one range for TCP and UDP, IPv4 and
// IPv6 (net.ipv4.ip_local_port_range), so the stand-ins implement the TCP
// range and show it in both contexts.
const portRangeSysctl = "ipv4/ip_local_port_range"

func (c *cmd) dynamicPortProtocol(fam int, p netshParams, verb string) bool {
	proto, ok := p["protocol"]
	if !ok {
		c.fail("%s", netshSyntax)
		return false
	}
	switch strings.ToLower(proto) {
	case "tcp":
		return true
	case "udp":
		c.unsupported("netsh interface ipv%d %s dynamicportrange udp: Linux shares one range between TCP and UDP", fam, verb)
	default:
		c.fail("%s", netshSyntax)
	}
	return false
}

func (c *cmd) netshShowDynamicPort(fam int, p netshParams) {
	if !c.dynamicPortProtocol(fam, p, "show") {
		return
	}
	if _, ok := c.netshStore(p, "active"); !ok {
		return
	}
	lo, hi, err := c.portRange()
	if err != nil {
		c.internal(err)
		return
	}
	c.printf("%s", renderDynamicPort(lo, hi-lo+1))
}

func (c *cmd) portRange() (int, int, error) {
	s, err := c.s.k.Sysctl(portRangeSysctl)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("net.ipv4.ip_local_port_range is %q, want two numbers", s)
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("net.ipv4.ip_local_port_range is %q: %w", s, err)
	}
	return lo, hi, nil
}

// netshSetDynamicPort sets the range within the limits KB929851 documents:
// start port 1025 or more, at least 255 ports, ending at 65535 at most.
// The store does not matter on Linux: the range lives as long as the
// namespace.
func (c *cmd) netshSetDynamicPort(fam int, p netshParams) {
	if !c.dynamicPortProtocol(fam, p, "set") {
		return
	}
	if _, ok := c.netshStore(p, "persistent"); !ok {
		return
	}
	start, err1 := strconv.Atoi(p["startport"])
	num, err2 := strconv.Atoi(p["numberofports"])
	if err1 != nil || err2 != nil {
		c.fail("%s", netshSyntax)
		return
	}
	if start < 1025 || start > 65535 || num < 255 || start+num-1 > 65535 {
		c.fail("%s", msgInvalidParam)
		return
	}
	if err := c.s.k.SetSysctl(portRangeSysctl, fmt.Sprintf("%d %d", start, start+num-1)); err != nil {
		c.internal(err)
		return
	}
	c.printf("%s", netshOK)
}

func (c *cmd) netshShowGlobal(fam int, p netshParams) {
	store, ok := c.netshStore(p, "active")
	if !ok {
		return
	}
	var hop string
	var err error
	if fam == 4 {
		hop, err = c.s.k.Sysctl("ipv4/ip_default_ttl")
	} else {
		hop, err = c.s.k.Sysctl("ipv6/conf/default/hop_limit")
	}
	if err != nil {
		c.internal(err)
		return
	}
	redirects, err := c.s.k.Sysctl(fmt.Sprintf("ipv%d/conf/all/accept_redirects", fam))
	if err != nil {
		c.internal(err)
		return
	}
	c.printf("%s", renderNetshGlobal(store, [][2]string{
		{"Default Hop Limit", hop + " hops"},
		{"ICMP Redirects", enabledWord(redirects != "0")},
		{"Multicast Forwarding", enabledWord(c.s.st.mcastForwarding[fam])},
	}))
}

// netshSetGlobal keeps multicastforwarding= as the stand-in's own state:
// Linux has no such switch (mc_forwarding follows the multicast routing
// socket, MRT_INIT), so it changes nothing in the kernel.
func (c *cmd) netshSetGlobal(fam int, p netshParams) {
	if _, ok := c.netshStore(p, "persistent"); !ok {
		return
	}
	v, ok := p["multicastforwarding"]
	if !ok {
		c.fail("%s", netshSyntax)
		return
	}
	on, ok := enabledValue(v)
	if !ok {
		c.fail("%s", netshSyntax)
		return
	}
	c.s.st.mcastForwarding[fam] = on
	c.printf("%s", netshOK)
}

func enabledValue(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "enabled":
		return true, true
	case "disabled":
		return false, true
	}
	return false, false
}

// netshSetInterface sets forwarding= on an interface:
// net.ipv4|ipv6.conf.<if>.forwarding.
func (c *cmd) netshSetInterface(fam int, p netshParams) {
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	l, ok := c.netshInterface(v, p, "interface")
	if !ok {
		return
	}
	if _, ok := c.netshStore(p, "persistent"); !ok {
		return
	}
	s, ok := p["forwarding"]
	if !ok {
		c.fail("%s", netshSyntax)
		return
	}
	on, ok := enabledValue(s)
	if !ok {
		c.fail("%s", netshSyntax)
		return
	}
	val := "0"
	if on {
		val = "1"
	}
	if err := c.s.k.SetSysctl(fmt.Sprintf("ipv%d/conf/%s/forwarding", fam, l.Name), val); err != nil {
		c.internal(err)
		return
	}
	c.printf("%s", netshOK)
}
