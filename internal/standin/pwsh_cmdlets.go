package standin

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// psObject is a pipeline object: a CIM instance (MSFT_NetRoute,
// MSFT_NetIPAddress), a Select-Object projection, or a scalar.
type psObject struct {
	typeName string
	props    []psProp
	scalar   any
}

type psProp struct {
	name string
	val  any // string, int, bool, psEnum, psLifetime, nil
}

// psEnum is a CIM enumeration value: JSON writes the number, views and
// [string] the name.
type psEnum struct {
	n    int
	name string
}

// psLifetime is a TimeSpan in seconds (Infinite: [TimeSpan]::MaxValue).
type psLifetime uint32

// propAliases are the alias properties of the NetTCPIP types.
var propAliases = map[string]string{"ifindex": "InterfaceIndex", "ifalias": "InterfaceAlias", "ifmetric": "InterfaceMetric"}

func (o psObject) get(name string) (any, bool) {
	if a, ok := propAliases[strings.ToLower(name)]; ok {
		name = a
	}
	for _, p := range o.props {
		if strings.EqualFold(p.name, name) {
			return p.val, true
		}
	}
	return nil, false
}

var (
	familyEnum = map[int]psEnum{4: {2, "IPv4"}, 6: {23, "IPv6"}}
	protoLocal = psEnum{2, "Local"}
	protoNet   = psEnum{3, "NetMgmt"}
	protoDHCP  = psEnum{19, "Dhcp"}
	protoOther = psEnum{1, "Other"}
	publishNo  = psEnum{0, "No"}
)

func storeName(store string) string {
	if store == "persistent" {
		return "PersistentStore"
	}
	return "ActiveStore"
}

func routeProtocol(r Route) psEnum {
	switch {
	case r.Kind != Unicast || r.Proto == ProtoKernel:
		return protoLocal
	case r.Proto == ProtoStatic || r.Proto == ProtoBoot:
		return protoNet
	case r.Proto == ProtoDHCP:
		return protoDHCP
	}
	return protoOther
}

func nextHopText(gw netip.Addr, fam int) string {
	if gw.IsValid() {
		return gw.String()
	}
	if fam == 4 {
		return "0.0.0.0"
	}
	return "::"
}

func routeObject(v *view, dst netip.Prefix, gw netip.Addr, idx, metric int, proto psEnum, store string) psObject {
	fam := familyOf(dst.Addr())
	return psObject{typeName: "MSFT_NetRoute", props: []psProp{
		{"DestinationPrefix", dst.String()},
		{"NextHop", nextHopText(gw, fam)},
		{"InterfaceIndex", idx},
		{"InterfaceAlias", v.name(idx)},
		{"RouteMetric", metric},
		{"InterfaceMetric", 0},
		{"AddressFamily", familyEnum[fam]},
		{"Protocol", proto},
		{"Publish", publishNo},
		{"PolicyStore", storeName(store)},
	}}
}

func activeRouteObject(v *view, r Route) psObject {
	return routeObject(v, r.Dst, r.Gateway, r.Index, r.Metric, routeProtocol(r), "active")
}

func persistentRouteObject(v *view, r pRoute) psObject {
	m := r.Metric
	if m == DefaultMetric {
		m = 0
	}
	return routeObject(v, r.Dst, r.Gateway, v.resolvedIndex(r), m, protoNet, "persistent")
}

// Address enumerations of MSFT_NetIPAddress.
var (
	originOther    = psEnum{0, "Other"}
	originManual   = psEnum{1, "Manual"}
	originWellKnow = psEnum{2, "WellKnown"}
	originDhcp     = psEnum{3, "Dhcp"}
	prefixRA       = psEnum{4, "RouterAdvertisement"}
	suffixLink     = psEnum{4, "Link"}
	typeUnicast    = psEnum{1, "Unicast"}
	stateInvalid   = psEnum{0, "Invalid"}
)

func addressState(a Addr) psEnum {
	switch {
	case a.Tentative:
		return psEnum{1, "Tentative"}
	case a.Duplicate:
		return psEnum{2, "Duplicate"}
	case a.Deprecated:
		return psEnum{3, "Deprecated"}
	}
	return psEnum{4, "Preferred"}
}

// origins maps a Linux address to Windows' prefix and suffix origins:
// loopback and link-local addresses are the stack's own (WellKnown, Link),
// permanent ones configured (Manual), others learned (DHCP for IPv4,
// router advertisements for IPv6).
func origins(a Addr) (psEnum, psEnum) {
	ip := a.Prefix.Addr()
	switch {
	case ip.IsLoopback():
		return originWellKnow, originWellKnow
	case ip.IsLinkLocalUnicast():
		return originWellKnow, suffixLink
	case a.Permanent:
		return originManual, originManual
	case ip.Is4():
		return originDhcp, originDhcp
	}
	return prefixRA, suffixLink
}

func addressObject(v *view, a Addr, store string) psObject {
	po, so := origins(a)
	state := addressState(a)
	valid, pref := psLifetime(a.ValidLft), psLifetime(a.PrefLft)
	if store == "persistent" {
		po, so, state, valid, pref = originManual, originManual, stateInvalid, psLifetime(Infinite), psLifetime(Infinite)
	}
	return psObject{typeName: "MSFT_NetIPAddress", props: []psProp{
		{"IPAddress", a.Prefix.Addr().String()},
		{"InterfaceIndex", a.Index},
		{"InterfaceAlias", v.name(a.Index)},
		{"AddressFamily", familyEnum[familyOf(a.Prefix.Addr())]},
		{"Type", typeUnicast},
		{"PrefixLength", a.Prefix.Bits()},
		{"PrefixOrigin", po},
		{"SuffixOrigin", so},
		{"AddressState", state},
		{"ValidLifetime", valid},
		{"PreferredLifetime", pref},
		{"SkipAsSource", false},
		{"PolicyStore", storeName(store)},
	}}
}

var cmdlets map[string]psCmdlet

func init() {
	routeFilter := []psParamSpec{{"DestinationPrefix", "string"}, {"InterfaceAlias", "string"}, {"InterfaceIndex", "uint32"},
		{"NextHop", "string"}, {"AddressFamily", "string"}, {"PolicyStore", "string"}, {"Protocol", "string"},
		{"Publish", "string"}, {"RouteMetric", "uint16"}, {"ValidLifetime", "string"}, {"PreferredLifetime", "string"},
		{"CimSession", "value"}, {"ThrottleLimit", "int"}, {"AsJob", "switch"}, {"IncludeAllCompartments", "switch"},
		{"TypeOfRoute", "string"}, {"InterfaceMetric", "uint32"}}
	addrFilter := []psParamSpec{{"IPAddress", "string"}, {"InterfaceAlias", "string"}, {"InterfaceIndex", "uint32"},
		{"AddressFamily", "string"}, {"Type", "string"}, {"PrefixLength", "byte"}, {"PrefixOrigin", "string"},
		{"SuffixOrigin", "string"}, {"AddressState", "string"}, {"ValidLifetime", "string"}, {"PreferredLifetime", "string"},
		{"SkipAsSource", "value"}, {"PolicyStore", "string"}, {"IncludeAllCompartments", "switch"}, {"CimSession", "value"},
		{"ThrottleLimit", "int"}, {"AsJob", "switch"}, {"PassThru", "switch"}, {"DefaultGateway", "string"}}
	routeImpl := []string{"DestinationPrefix", "InterfaceAlias", "InterfaceIndex", "NextHop", "AddressFamily", "PolicyStore"}
	addrImpl := []string{"IPAddress", "InterfaceAlias", "InterfaceIndex", "AddressFamily", "PolicyStore"}
	cmdlets = map[string]psCmdlet{
		"New-NetRoute": {params: routeFilter, positional: []string{"DestinationPrefix"},
			impl: append(slices.Clone(routeImpl), "RouteMetric"), run: (*psRun).newNetRoute},
		"Remove-NetRoute": {params: routeFilter, positional: []string{"DestinationPrefix"}, impl: routeImpl, run: (*psRun).removeNetRoute},
		"Get-NetRoute":    {params: routeFilter, positional: []string{"DestinationPrefix"}, impl: routeImpl, run: (*psRun).getNetRoute},
		"New-NetIPAddress": {params: addrFilter, positional: []string{"IPAddress"},
			impl: append(slices.Clone(addrImpl), "PrefixLength"), run: (*psRun).newNetIPAddress},
		"Remove-NetIPAddress": {params: addrFilter, positional: []string{"IPAddress"},
			impl: append(slices.Clone(addrImpl), "PrefixLength"), run: (*psRun).removeNetIPAddress},
		"Get-NetIPAddress": {params: addrFilter, positional: []string{"IPAddress"},
			impl: append(slices.Clone(addrImpl), "PrefixLength"), run: (*psRun).getNetIPAddress},
		"Select-Object": {params: []psParamSpec{{"Property", "value"}, {"InputObject", "value"}, {"ExcludeProperty", "value"},
			{"ExpandProperty", "string"}, {"Unique", "switch"}, {"Last", "int"}, {"First", "int"}, {"Skip", "int"}, {"Index", "value"}},
			positional: []string{"Property"}, impl: []string{"Property"}, acceptsPipe: true, run: (*psRun).selectObject},
		"ConvertTo-Json": {params: []psParamSpec{{"InputObject", "value"}, {"Depth", "int"}, {"Compress", "switch"}, {"AsArray", "switch"}},
			positional: []string{"InputObject"}, impl: []string{"InputObject", "Depth", "Compress"}, acceptsPipe: true, run: (*psRun).convertToJSON},
		"Out-Null": {params: []psParamSpec{{"InputObject", "value"}}, acceptsPipe: true,
			run: func(*psRun, string, map[string]psBound, []psObject) ([]psObject, error) { return nil, nil }},
		"Get-Command": {params: []psParamSpec{{"Name", "value"}, {"Module", "value"}, {"CommandType", "value"}, {"All", "switch"}},
			positional: []string{"Name"}, impl: []string{"Name"}, run: (*psRun).getCommand},
	}
}

func cmdletNames() []string {
	var out []string
	for n := range cmdlets {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func findCmdlet(name string) (string, psCmdlet, bool) {
	for n, c := range cmdlets {
		if strings.EqualFold(n, name) {
			return n, c, true
		}
	}
	return "", psCmdlet{}, false
}

func (r *psRun) getCommand(name string, p map[string]psBound, _ []psObject) ([]psObject, error) {
	b, ok := p["Name"]
	if !ok || b.v.kind == vList {
		return nil, unsupportedf("Get-Command without exactly one -Name")
	}
	if err := r.notRecognized(b.str()); err != nil {
		return nil, err
	}
	n, _, ok := findCmdlet(b.str())
	if !ok {
		return nil, unsupportedf("Get-Command %s: the stand-in knows only %s", b.str(), strings.Join(cmdletNames(), ", "))
	}
	source := "NetTCPIP"
	if !strings.Contains(n, "Net") {
		source = "Microsoft.PowerShell.Utility"
	}
	return []psObject{{typeName: "CommandInfo", props: []psProp{{"CommandType", "Function"}, {"Name", n}, {"Source", source}}}}, nil
}

// routeQuery is the filter of Get-NetRoute and Remove-NetRoute.
type routeQuery struct {
	dst, alias, nextHop, family string
	index                       int
	given                       []string // for the CIM query text
}

func (q routeQuery) matches(o psObject) bool {
	get := func(n string) string { v, _ := o.get(n); return fmt.Sprint(v) }
	if q.dst != "" && !samePrefixText(get("DestinationPrefix"), q.dst) {
		return false
	}
	if q.alias != "" && !strings.EqualFold(get("InterfaceAlias"), q.alias) {
		return false
	}
	if q.index != 0 && get("InterfaceIndex") != strconv.Itoa(q.index) {
		return false
	}
	if q.nextHop != "" && !sameAddrText(get("NextHop"), q.nextHop) {
		return false
	}
	if q.family != "" {
		f, _ := o.get("AddressFamily")
		if e, ok := f.(psEnum); !ok || !strings.EqualFold(e.name, q.family) {
			return false
		}
	}
	return true
}

func samePrefixText(a, b string) bool {
	pa, ok1 := parsePrefixParam(a)
	pb, ok2 := parsePrefixParam(b)
	if ok1 && ok2 {
		return pa == pb
	}
	return strings.EqualFold(a, b)
}

func sameAddrText(a, b string) bool {
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	if err1 == nil && err2 == nil {
		return x == y
	}
	return strings.EqualFold(a, b)
}

func newQuery(p map[string]psBound) routeQuery {
	var q routeQuery
	for _, k := range []string{"DestinationPrefix", "IPAddress", "InterfaceAlias", "InterfaceIndex", "NextHop", "AddressFamily"} {
		b, ok := p[k]
		if !ok {
			continue
		}
		q.given = append(q.given, fmt.Sprintf("((%s LIKE '%s'))", k, b.str()))
		switch k {
		case "DestinationPrefix", "IPAddress":
			q.dst = b.str()
		case "InterfaceAlias":
			q.alias = b.str()
		case "InterfaceIndex":
			q.index, _ = strconv.Atoi(b.str())
		case "NextHop":
			q.nextHop = b.str()
		case "AddressFamily":
			q.family = b.str()
		}
	}
	return q
}

// notFound is the CIM error of a query that matched nothing.
func notFound(cmdlet, class string, q routeQuery) *psError {
	where := ""
	if len(q.given) > 0 {
		where = " WHERE " + strings.Join(q.given, " AND ")
	}
	return &psError{cmdlet, fmt.Sprintf("No matching %s objects found by CIM query for instances of the ROOT/StandardCimv2/%s class on the  CIM server: SELECT * FROM %s %s. Verify query parameters and retry.", class, class, class, where),
		fmt.Sprintf("ObjectNotFound: (%s:String) [%s], CimJobException", class, cmdlet), "CmdletizationQuery_NotFound," + cmdlet}
}

// failed writes a cmdlet's error and returns what ends its pipeline.
func (r *psRun) failed(e *psError, p map[string]psBound) error {
	if err := r.writeError(e, errorAction(p)); err != nil {
		return err
	}
	return e
}

func (r *psRun) routes(store string) ([]psObject, error) {
	v, err := r.c.view()
	if err != nil {
		return nil, err
	}
	var out []psObject
	if store != "persistent" {
		for _, fam := range []int{4, 6} {
			for _, rt := range shownRoutes(v, fam) {
				out = append(out, activeRouteObject(v, rt))
			}
		}
	}
	if store != "active" {
		for _, fam := range []int{4, 6} {
			for _, rt := range r.c.s.st.routesOf(fam) {
				out = append(out, persistentRouteObject(v, rt))
			}
		}
	}
	return out, nil
}

func (r *psRun) getNetRoute(name string, p map[string]psBound, _ []psObject) ([]psObject, error) {
	store, err := policyStore(p)
	if err != nil {
		return nil, err
	}
	if store == "" {
		store = "active"
	}
	all, err := r.routes(store)
	if err != nil {
		return nil, err
	}
	q := newQuery(p)
	var out []psObject
	for _, o := range all {
		if q.matches(o) {
			out = append(out, o)
		}
	}
	if len(out) == 0 && len(q.given) > 0 {
		return nil, r.failed(notFound(name, "MSFT_NetRoute", q), p)
	}
	return out, nil
}

func (r *psRun) newNetRoute(name string, p map[string]psBound, _ []psObject) ([]psObject, error) {
	store, err := policyStore(p)
	if err != nil {
		return nil, err
	}
	if store == "persistent" {
		return nil, unsupportedf("New-NetRoute -PolicyStore PersistentStore (its reference page: \"PersistentStore. Cannot be used.\")")
	}
	v, err := r.c.view()
	if err != nil {
		return nil, err
	}
	l, perr, ok := r.resolveInterface(name, v, p)
	if !ok {
		return nil, unsupportedf("New-NetRoute without -InterfaceAlias or -InterfaceIndex")
	}
	if perr != nil {
		return nil, r.failed(perr, p)
	}
	b, ok := p["DestinationPrefix"]
	dst, valid := parsePrefixParam(b.str())
	if !ok || !valid || dst.Masked() != dst {
		return nil, r.failed(invalidParameter(name, "MSFT_NetRoute"), p)
	}
	fam := familyOf(dst.Addr())
	if f, ok := p["AddressFamily"]; ok && !strings.EqualFold(f.str(), familyEnum[fam].name) {
		return nil, r.failed(invalidParameter(name, "MSFT_NetRoute"), p)
	}
	var gw netip.Addr
	if nh, ok := p["NextHop"]; ok {
		a, err := netip.ParseAddr(nh.str())
		if err != nil || familyOf(a) != fam {
			return nil, r.failed(invalidParameter(name, "MSFT_NetRoute"), p)
		}
		if !a.IsUnspecified() {
			gw = a
		}
	}
	metric := 256 // "The default value is 256."
	if m, ok := p["RouteMetric"]; ok {
		metric, _ = strconv.Atoi(m.str())
	}
	rt := Route{Dst: dst, Gateway: gw, Index: l.Index, Metric: metric}
	if err := r.c.s.k.AddRoute(rt); err != nil {
		if errors.Is(err, ErrExists) {
			return nil, r.failed(&psError{name, "Instance MSFT_NetRoute already exists",
				"ResourceExists: (MSFT_NetRoute:ROOT/StandardCimv2/MSFT_NetRoute) [New-NetRoute], CimException", "Windows System Error 5010,New-NetRoute"}, p)
		}
		r.c.eprintf("kbh-standin: %v\n", err)
		return nil, r.failed(invalidParameter(name, "MSFT_NetRoute"), p)
	}
	r.c.changed()
	rt.Proto, rt.Kind = ProtoStatic, Unicast
	out := []psObject{activeRouteObject(v, rt)}
	if store == "" {
		pr := pRoute{Dst: dst, Gateway: gw, Index: l.Index, Metric: metric}
		r.c.s.st.addRoute(pr)
		out = append(out, persistentRouteObject(v, pr))
	}
	return out, nil
}

func (r *psRun) removeNetRoute(name string, p map[string]psBound, _ []psObject) ([]psObject, error) {
	if err := requireConfirmOff(name, p); err != nil {
		return nil, err
	}
	store, err := policyStore(p)
	if err != nil {
		return nil, err
	}
	v, err := r.c.view()
	if err != nil {
		return nil, err
	}
	if _, perr, ok := r.resolveInterface(name, v, p); ok && perr != nil {
		return nil, r.failed(perr, p)
	}
	q := newQuery(p)
	removed := 0
	if store != "persistent" {
		for _, rt := range v.activeRoutes() {
			if !q.matches(activeRouteObject(v, rt)) {
				continue
			}
			if err := r.c.s.k.DelRoute(rt); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			removed++
		}
		r.c.changed()
	}
	if store != "active" {
		removed += len(r.c.s.st.deleteRoutes(func(x pRoute) bool { return q.matches(persistentRouteObject(v, x)) }))
	}
	if removed == 0 {
		return nil, r.failed(notFound(name, "MSFT_NetRoute", q), p)
	}
	return nil, nil
}

func (r *psRun) addresses(store string) ([]psObject, error) {
	v, err := r.c.view()
	if err != nil {
		return nil, err
	}
	var out []psObject
	if store != "persistent" {
		for _, l := range v.links {
			for _, a := range v.addrsOf(l.Index, 0) {
				out = append(out, addressObject(v, a, "active"))
			}
		}
	}
	if store != "active" {
		for _, a := range r.c.s.st.addrs {
			out = append(out, addressObject(v, Addr{Prefix: a.Prefix, Index: a.Index}, "persistent"))
		}
	}
	return out, nil
}

func addressQuery(p map[string]psBound) (routeQuery, int) {
	q := newQuery(p)
	bits := -1
	if b, ok := p["PrefixLength"]; ok {
		bits, _ = strconv.Atoi(b.str())
		q.given = append(q.given, fmt.Sprintf("((PrefixLength = %d))", bits))
	}
	return q, bits
}

func addressMatches(q routeQuery, bits int, o psObject) bool {
	ip, _ := o.get("IPAddress")
	if q.dst != "" && !sameAddrText(fmt.Sprint(ip), q.dst) {
		return false
	}
	if bits >= 0 {
		if pl, _ := o.get("PrefixLength"); pl != bits {
			return false
		}
	}
	q.dst = ""
	return q.matches(o)
}

func (r *psRun) getNetIPAddress(name string, p map[string]psBound, _ []psObject) ([]psObject, error) {
	store, err := policyStore(p)
	if err != nil {
		return nil, err
	}
	if store == "" {
		store = "active"
	}
	all, err := r.addresses(store)
	if err != nil {
		return nil, err
	}
	q, bits := addressQuery(p)
	var out []psObject
	for _, o := range all {
		if addressMatches(q, bits, o) {
			out = append(out, o)
		}
	}
	if len(out) == 0 && len(q.given) > 0 {
		return nil, r.failed(notFound(name, "MSFT_NetIPAddress", q), p)
	}
	return out, nil
}

func (r *psRun) newNetIPAddress(name string, p map[string]psBound, _ []psObject) ([]psObject, error) {
	store, err := policyStore(p)
	if err != nil {
		return nil, err
	}
	if store == "persistent" {
		return nil, unsupportedf("New-NetIPAddress -PolicyStore PersistentStore (its reference page: \"Specify ActiveStore only.\")")
	}
	v, err := r.c.view()
	if err != nil {
		return nil, err
	}
	l, perr, ok := r.resolveInterface(name, v, p)
	if !ok {
		return nil, unsupportedf("New-NetIPAddress without -InterfaceAlias or -InterfaceIndex")
	}
	if perr != nil {
		return nil, r.failed(perr, p)
	}
	b, ok := p["IPAddress"]
	ip, err := netip.ParseAddr(b.str())
	if !ok || err != nil || ip.Zone() != "" {
		return nil, r.failed(invalidParameter(name, "MSFT_NetIPAddress"), p)
	}
	pl, ok := p["PrefixLength"]
	if !ok {
		return nil, unsupportedf("New-NetIPAddress without -PrefixLength")
	}
	bits, _ := strconv.Atoi(pl.str())
	if bits > ip.BitLen() {
		return nil, r.failed(invalidParameter(name, "MSFT_NetIPAddress"), p)
	}
	if f, ok := p["AddressFamily"]; ok && !strings.EqualFold(f.str(), familyEnum[familyOf(ip)].name) {
		return nil, r.failed(invalidParameter(name, "MSFT_NetIPAddress"), p)
	}
	a := Addr{Prefix: netip.PrefixFrom(ip, bits), Index: l.Index}
	if err := r.c.addAddress(a); err != nil {
		if errors.Is(err, ErrExists) {
			return nil, r.failed(&psError{name, "Instance MSFT_NetIPAddress already exists",
				"ResourceExists: (MSFT_NetIPAddress:ROOT/StandardCimv2/MSFT_NetIPAddress) [New-NetIPAddress], CimException", "Windows System Error 5010,New-NetIPAddress"}, p)
		}
		r.c.eprintf("kbh-standin: %v\n", err)
		return nil, r.failed(invalidParameter(name, "MSFT_NetIPAddress"), p)
	}
	if nv, err := r.c.view(); err == nil {
		if x, ok := nv.hasAddr(l.Index, ip); ok {
			a = x
		}
		v = nv
	}
	out := []psObject{addressObject(v, a, "active")}
	if store == "" {
		r.c.s.st.addAddr(pAddr{Prefix: a.Prefix, Index: l.Index})
		out = append(out, addressObject(v, a, "persistent"))
	}
	return out, nil
}

func (r *psRun) removeNetIPAddress(name string, p map[string]psBound, _ []psObject) ([]psObject, error) {
	if err := requireConfirmOff(name, p); err != nil {
		return nil, err
	}
	store, err := policyStore(p)
	if err != nil {
		return nil, err
	}
	if store == "" {
		store = "active" // "The default value is ActiveStore."
	}
	v, err := r.c.view()
	if err != nil {
		return nil, err
	}
	if _, perr, ok := r.resolveInterface(name, v, p); ok && perr != nil {
		return nil, r.failed(perr, p)
	}
	q, bits := addressQuery(p)
	removed := 0
	if store == "active" {
		for _, l := range v.links {
			for _, a := range v.addrsOf(l.Index, 0) {
				if !addressMatches(q, bits, addressObject(v, a, "active")) {
					continue
				}
				if err := r.c.deleteAddress(a); err != nil && !errors.Is(err, ErrNotFound) {
					return nil, err
				}
				removed++
			}
		}
	} else {
		for _, a := range slices.Clone(r.c.s.st.addrs) {
			if addressMatches(q, bits, addressObject(v, Addr{Prefix: a.Prefix, Index: a.Index}, "persistent")) {
				r.c.s.st.deleteAddr(a.Index, a.Prefix.Addr())
				removed++
			}
		}
	}
	if removed == 0 {
		return nil, r.failed(notFound(name, "MSFT_NetIPAddress", q), p)
	}
	return nil, nil
}

func (r *psRun) selectObject(_ string, p map[string]psBound, input []psObject) ([]psObject, error) {
	b, ok := p["Property"]
	if !ok {
		return nil, unsupportedf("Select-Object without -Property")
	}
	items := []psValue{b.v}
	if b.v.kind == vList {
		items = b.v.list
	}
	var out []psObject
	for _, o := range input {
		sel := psObject{typeName: "Selected." + o.typeName}
		for _, it := range items {
			switch it.kind {
			case vString, vBare:
				val, ok := o.get(it.s)
				if !ok {
					return nil, unsupportedf("property %s of %s", it.s, o.typeName)
				}
				sel.props = append(sel.props, psProp{it.s, val})
			case vCalc:
				val, ok := o.get(it.calc.prop)
				if !ok {
					return nil, unsupportedf("property %s of %s", it.calc.prop, o.typeName)
				}
				cv, err := cast(val, it.calc.cast)
				if err != nil {
					return nil, err
				}
				sel.props = append(sel.props, psProp{it.calc.name, cv})
			default:
				return nil, unsupportedf("a Select-Object property that is not a name or @{n=;e=}")
			}
		}
		out = append(out, sel)
	}
	return out, nil
}

// cast applies [int] or [string] to a property value.
func cast(v any, to string) (any, error) {
	switch to {
	case "":
		return v, nil
	case "int":
		switch x := v.(type) {
		case psEnum:
			return x.n, nil
		case int:
			return x, nil
		case bool:
			if x {
				return 1, nil
			}
			return 0, nil
		}
	case "string":
		switch x := v.(type) {
		case psEnum:
			return x.name, nil
		case bool:
			if x {
				return "True", nil
			}
			return "False", nil
		case psLifetime:
			return lifetimeText(x), nil
		case nil:
			return "", nil
		}
		return fmt.Sprint(v), nil
	}
	return nil, unsupportedf("[%s]%v", to, v)
}

func (r *psRun) convertToJSON(_ string, p map[string]psBound, input []psObject) ([]psObject, error) {
	compress := false
	if b, ok := p["Compress"]; ok {
		compress = b.v.kind == vBool && b.v.b
	}
	var doc any
	if b, ok := p["InputObject"]; ok {
		if len(input) > 0 {
			return nil, unsupportedf("ConvertTo-Json with both -InputObject and pipeline input")
		}
		switch b.v.kind {
		case vArray:
			var objs []psObject
			if b.v.sub != nil {
				var err error
				if objs, err = r.pipeline(b.v.sub, nil); err != nil {
					return nil, err
				}
			}
			doc = jsonArray(objs)
		case vString, vBare:
			doc = b.v.s
		default:
			return nil, unsupportedf("ConvertTo-Json -InputObject of this kind")
		}
	} else {
		switch len(input) {
		case 0:
			return nil, nil
		case 1:
			doc = input[0]
		default:
			doc = jsonArray(input)
		}
	}
	s, err := renderJSON(doc, compress, 0)
	if err != nil {
		return nil, err
	}
	return []psObject{{typeName: "System.String", scalar: s}}, nil
}

type jsonArray []psObject

// output writes what reached the end of a statement's pipeline with
// PowerShell's default views: strings as lines, MSFT_NetRoute as its
// table, MSFT_NetIPAddress as its list.
func (r *psRun) output(objs []psObject) error {
	for i := 0; i < len(objs); {
		j := i
		for j < len(objs) && objs[j].typeName == objs[i].typeName {
			j++
		}
		group := objs[i:j]
		switch group[0].typeName {
		case "System.String":
			for _, o := range group {
				s, _ := cast(o.scalar, "string")
				r.c.printf("%s\n", s)
			}
		case "MSFT_NetRoute":
			r.c.printf("%s", renderRouteTable(group))
		case "MSFT_NetIPAddress":
			r.c.printf("%s", renderAddressList(group))
		default:
			return fmt.Errorf("the default view of %s objects (pipe them to ConvertTo-Json or Out-Null)", group[0].typeName)
		}
		i = j
	}
	return nil
}
