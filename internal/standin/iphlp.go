package standin

import (
	"errors"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/pwsh"
)

// The legacy IP Helper functions as kbharness calls them from PowerShell:
// pwsh.LegacyType compiled by Add-Type, then one call of it. The stand-in
// cannot compile C#: it checks that the script carries that class verbatim
// and emulates the call on the kernel, with the NTE contexts Windows would
// hand out. AddIPAddress adds to the active store only, as on Windows.
var legacyCall = regexp.MustCompile(`\[KbhIpHlp\]::(Add|Delete|Interfaces)\(([^)]*)\)\s*$`)

func isLegacyScript(script string) bool { return strings.Contains(script, "[KbhIpHlp]::") }

func (c *cmd) legacyIPHelper(script string) {
	m := legacyCall.FindStringSubmatch(script)
	if m == nil || !strings.Contains(script, pwsh.LegacyType) {
		c.unsupported("powershell: a KbhIpHlp script other than kbharness's own (pwsh.LegacyType and one call)")
		return
	}
	var args []string
	if strings.TrimSpace(m[2]) != "" {
		for _, a := range strings.Split(m[2], ",") {
			args = append(args, strings.Trim(strings.TrimSpace(a), "'"))
		}
	}
	switch m[1] {
	case "Interfaces":
		v, err := c.view()
		if err != nil {
			c.internal(err)
			return
		}
		c.printf("%d\n", len(v.links))
	case "Add":
		c.addIPAddress(args)
	case "Delete":
		c.deleteIPAddress(args)
	}
}

// win32Exception prints what PowerShell prints when the P/Invoke wrapper
// throws, and fails the script.
func (c *cmd) win32Exception(method string, nargs int, msg string) {
	c.eprintf("Exception calling \"%s\" with \"%d\" argument(s): \"%s\"\n", method, nargs, msg)
	c.exit = 1
}

// Win32 errors of the IP Helper write procedures, as each procedure's page
// documents them: AddIPAddress answers ERROR_DEV_NOT_EXIST for an unknown
// interface, ERROR_DUP_DOMAINNAME for an address that exists and
// ERROR_GEN_FAILURE for a broadcast address; DeleteIPAddress
// ERROR_INVALID_PARAMETER for an unknown NTE context; the Vista+ procedures
// ERROR_NOT_FOUND and ERROR_OBJECT_ALREADY_EXISTS.
const (
	win32GenFailure       = 31   // ERROR_GEN_FAILURE
	win32DevNotExist      = 55   // ERROR_DEV_NOT_EXIST
	win32InvalidParameter = 87   // ERROR_INVALID_PARAMETER
	win32NotFound         = 1168 // ERROR_NOT_FOUND
	win32DupDomainName    = 1221 // ERROR_DUP_DOMAINNAME
	win32ObjectExists     = 5010 // ERROR_OBJECT_ALREADY_EXISTS
)

// win32Messages are Win32Exception's messages (FormatMessage's texts) for
// the codes AddIPAddress and DeleteIPAddress return.
var win32Messages = map[int]string{
	win32GenFailure:       "A device attached to the system is not functioning",
	win32DupDomainName:    "The workgroup or domain name is already in use by another computer on the network",
	win32DevNotExist:      "The specified network resource or device is no longer available",
	win32InvalidParameter: "The parameter is incorrect",
}

// addNTE is AddIPAddress(address, mask, ifIndex): the NTE context and
// instance, or a Win32 error code. It probes the link for the address
// first (Kernel.Held) and adds one another host holds in DAD state
// Duplicate, answering NO_ERROR, as documented for Vista and later.
func (c *cmd) addNTE(address, mask string, ifIndex int) (context, instance uint32, code int) {
	a, err1 := netip.ParseAddr(address)
	m, err2 := netip.ParseAddr(mask)
	if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
		return 0, 0, win32InvalidParameter
	}
	mb := m.As4()
	ones, bits := net.IPMask(mb[:]).Size()
	if bits == 0 {
		return 0, 0, win32InvalidParameter // not a contiguous mask
	}
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return 0, 0, win32GenFailure
	}
	l, ok := v.linkByIndex(ifIndex)
	switch p := netip.PrefixFrom(a, ones); {
	case !ok:
		return 0, 0, win32DevNotExist
	case a.IsLoopback() != l.Loopback:
		return 0, 0, win32InvalidParameter // "a loopback address on a non-loopback interface"
	case a == netip.IPv4Unspecified() || a == broadcast(p):
		return 0, 0, win32GenFailure // "an IPv4 address normally considered to be a broadcast address"
	}
	if _, exists := v.hasAddr(ifIndex, a); exists {
		return 0, 0, win32DupDomainName // before the probe, which would wait its window
	}
	// Vista+: an address another host holds is added all the same, in DAD
	// state Duplicate, and AddIPAddress answers NO_ERROR.
	held, err := c.s.k.Held(ifIndex, a)
	if err != nil {
		c.internal(err)
		return 0, 0, win32GenFailure
	}
	addr := Addr{Prefix: netip.PrefixFrom(a, ones), Index: ifIndex, Duplicate: held}
	if err := c.addAddress(addr); err != nil {
		if errors.Is(err, ErrExists) {
			return 0, 0, win32DupDomainName
		}
		c.internal(err)
		return 0, 0, win32GenFailure
	}
	c.s.nextNTE++
	c.s.ntes[c.s.nextNTE] = addr
	return c.s.nextNTE, c.s.nextNTE + 1000, 0
}

// broadcast is the subnet broadcast address of an IPv4 prefix shorter
// than /31 (which have none), else the limited broadcast 255.255.255.255.
func broadcast(p netip.Prefix) netip.Addr {
	if p.Bits() >= 31 {
		return netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	return netcfg.LastAddr(p)
}

// deleteNTE is DeleteIPAddress(context): 0 or a Win32 error code.
func (c *cmd) deleteNTE(context uint32) int {
	addr, ok := c.s.ntes[context]
	if !ok {
		return win32InvalidParameter // no such NTE context
	}
	if err := c.deleteAddress(addr); err != nil {
		return win32GenFailure
	}
	delete(c.s.ntes, context)
	return 0
}

// addIPAddress is [KbhIpHlp]::Add('ADDR', 'MASK', IFINDEX).
func (c *cmd) addIPAddress(args []string) {
	if len(args) != 3 {
		c.unsupported("[KbhIpHlp]::Add with %d arguments", len(args))
		return
	}
	idx, err := strconv.Atoi(args[2])
	if err != nil {
		c.win32Exception("Add", 3, win32Messages[win32InvalidParameter])
		return
	}
	ctx, inst, code := c.addNTE(args[0], args[1], idx)
	if code != 0 {
		c.win32Exception("Add", 3, win32Messages[code])
		return
	}
	c.printf("NTEContext=%d NTEInstance=%d\n", ctx, inst)
}

// deleteIPAddress is [KbhIpHlp]::Delete(CONTEXT).
func (c *cmd) deleteIPAddress(args []string) {
	if len(args) != 1 {
		c.unsupported("[KbhIpHlp]::Delete with %d arguments", len(args))
		return
	}
	ctx, err := strconv.ParseUint(args[0], 10, 32)
	code := win32InvalidParameter
	if err == nil {
		code = c.deleteNTE(uint32(ctx))
	}
	if code != 0 {
		c.win32Exception("Delete", 1, win32Messages[code])
	}
}

// iphlpapi serves agent/iphlpapi, the stand-in DLL of the write
// procedures; the exit status is the Win32 error code (0: NO_ERROR). The DLL
// has decoded the rows and checked what it can alone (family, prefix
// length, the interface's LUID):
//
//	AddIPAddress ADDR MASK IFINDEX             prints "NTEContext=C NTEInstance=I"
//	DeleteIPAddress CONTEXT
//	CreateUnicastIpAddressEntry ADDR/LEN IFINDEX
//	DeleteUnicastIpAddressEntry ADDR IFINDEX
//	CreateIpForwardEntry2 DST/LEN NEXTHOP IFINDEX METRIC   (NEXTHOP unspecified: on-link)
//	DeleteIpForwardEntry2 DST/LEN NEXTHOP IFINDEX
func (c *cmd) iphlpapi(args []string) {
	var op string
	if len(args) > 0 {
		op, args = args[0], args[1:]
	}
	code := win32InvalidParameter
	switch {
	case op == "AddIPAddress" && len(args) == 3:
		if idx, err := strconv.Atoi(args[2]); err == nil {
			var ctx, inst uint32
			if ctx, inst, code = c.addNTE(args[0], args[1], idx); code == 0 {
				c.printf("NTEContext=%d NTEInstance=%d\n", ctx, inst)
			}
		}
	case op == "DeleteIPAddress" && len(args) == 1:
		if ctx, err := strconv.ParseUint(args[0], 10, 32); err == nil {
			code = c.deleteNTE(uint32(ctx))
		}
	case op == "CreateUnicastIpAddressEntry" && len(args) == 2:
		code = c.createUnicast(args[0], args[1])
	case op == "DeleteUnicastIpAddressEntry" && len(args) == 2:
		code = c.deleteUnicast(args[0], args[1])
	case op == "CreateIpForwardEntry2" && len(args) == 4:
		code = c.createForward(args[0], args[1], args[2], args[3])
	case op == "DeleteIpForwardEntry2" && len(args) == 3:
		code = c.deleteForward(args[0], args[1], args[2])
	default:
		c.unsupported("iphlpapi %s %s (see internal/standin/iphlp.go for what the stand-in DLL sends)", op, quoteArgs(args))
		return
	}
	c.exit = code
}

// linkArg reads the view and resolves an IFINDEX argument: the view and
// the link, or a Win32 error code.
func (c *cmd) linkArg(ifIndex string) (*view, Link, int) {
	idx, err := strconv.Atoi(ifIndex)
	if err != nil {
		return nil, Link{}, win32InvalidParameter
	}
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return nil, Link{}, win32GenFailure
	}
	l, ok := v.linkByIndex(idx)
	if !ok {
		return nil, Link{}, win32NotFound
	}
	return v, l, 0
}

// createUnicast is CreateUnicastIpAddressEntry: the address on the link
// (active store).
func (c *cmd) createUnicast(prefix, ifIndex string) int {
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return win32InvalidParameter
	}
	_, l, code := c.linkArg(ifIndex)
	if code != 0 {
		return code
	}
	if err := c.addAddress(Addr{Prefix: p, Index: l.Index}); err != nil {
		if errors.Is(err, ErrExists) {
			return win32ObjectExists
		}
		c.internal(err)
		return win32InvalidParameter
	}
	return 0
}

// deleteUnicast is DeleteUnicastIpAddressEntry: the address, whatever its
// prefix length, leaves the link.
func (c *cmd) deleteUnicast(addr, ifIndex string) int {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return win32InvalidParameter
	}
	v, l, code := c.linkArg(ifIndex)
	if code != 0 {
		return code
	}
	x, ok := v.hasAddr(l.Index, a)
	if !ok {
		return win32NotFound
	}
	if err := c.deleteAddress(x); err != nil {
		c.internal(err)
		return win32GenFailure
	}
	return 0
}

// forwardArgs parses DST/LEN and NEXTHOP: the destination must be masked
// and the next hop of its family; the unspecified next hop is on-link.
func forwardArgs(dst, nextHop string) (netip.Prefix, netip.Addr, bool) {
	d, err1 := netip.ParsePrefix(dst)
	h, err2 := netip.ParseAddr(nextHop)
	if err1 != nil || err2 != nil || d != d.Masked() || d.Addr().Is4() != h.Is4() {
		return netip.Prefix{}, netip.Addr{}, false
	}
	if h.IsUnspecified() {
		h = netip.Addr{}
	}
	return d, h, true
}

// createForward is CreateIpForwardEntry2: a route of the active table only
// (no persistent store entry), as on Windows.
func (c *cmd) createForward(dst, nextHop, ifIndex, metric string) int {
	d, h, ok := forwardArgs(dst, nextHop)
	m, err := strconv.Atoi(metric)
	if !ok || err != nil || m < 0 {
		return win32InvalidParameter
	}
	_, l, code := c.linkArg(ifIndex)
	if code != 0 {
		return code
	}
	if err := c.s.k.AddRoute(Route{Dst: d, Gateway: h, Index: l.Index, Metric: m}); err != nil {
		if errors.Is(err, ErrExists) {
			return win32ObjectExists
		}
		c.internal(err)
		return win32InvalidParameter
	}
	c.changed()
	return 0
}

// deleteForward is DeleteIpForwardEntry2: the active route with that
// destination and next hop on the link.
func (c *cmd) deleteForward(dst, nextHop, ifIndex string) int {
	d, h, ok := forwardArgs(dst, nextHop)
	if !ok {
		return win32InvalidParameter
	}
	v, l, code := c.linkArg(ifIndex)
	if code != 0 {
		return code
	}
	for _, r := range v.activeRoutes() {
		if r.Dst != d || r.Gateway != h || r.Index != l.Index {
			continue
		}
		if err := c.s.k.DelRoute(r); err != nil {
			if errors.Is(err, ErrNotFound) {
				return win32NotFound
			}
			c.internal(err)
			return win32GenFailure
		}
		c.changed()
		return 0
	}
	return win32NotFound
}
