package standin

import (
	"errors"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

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

// Win32 errors of the IP Helper write procedures.
const (
	win32InvalidParameter = 87   // ERROR_INVALID_PARAMETER
	win32GenFailure       = 31   // ERROR_GEN_FAILURE: DeleteIPAddress of an unknown NTE context
	win32ObjectExists     = 5010 // ERROR_OBJECT_ALREADY_EXISTS
)

// win32Messages are Win32Exception's messages for those codes.
var win32Messages = map[int]string{
	win32InvalidParameter: "The parameter is incorrect",
	win32GenFailure:       "A device attached to the system is not functioning",
	win32ObjectExists:     "The object already exists",
}

// addNTE is AddIPAddress(address, mask, ifIndex): the NTE context and
// instance, or a Win32 error code.
func (c *cmd) addNTE(address, mask string, ifIndex int) (context, instance uint32, code int) {
	a, err1 := netip.ParseAddr(address)
	m, err2 := netip.ParseAddr(mask)
	if err1 != nil || err2 != nil || !a.Is4() || !m.Is4() {
		return 0, 0, win32InvalidParameter
	}
	mb := m.As4()
	ones, bits := net.IPMask(mb[:]).Size()
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return 0, 0, win32InvalidParameter
	}
	if _, ok := v.linkByIndex(ifIndex); !ok || bits == 0 {
		return 0, 0, win32InvalidParameter
	}
	addr := Addr{Prefix: netip.PrefixFrom(a, ones), Index: ifIndex}
	if err := c.s.k.AddAddr(addr); err != nil {
		if errors.Is(err, ErrExists) {
			return 0, 0, win32ObjectExists
		}
		c.internal(err)
		return 0, 0, win32InvalidParameter
	}
	c.changed()
	c.s.nextNTE++
	c.s.ntes[c.s.nextNTE] = addr
	return c.s.nextNTE, c.s.nextNTE + 1000, 0
}

// deleteNTE is DeleteIPAddress(context): 0 or a Win32 error code.
func (c *cmd) deleteNTE(context uint32) int {
	addr, ok := c.s.ntes[context]
	if !ok {
		return win32GenFailure
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
// procedures: `AddIPAddress ADDR MASK IFINDEX` prints
// "NTEContext=C NTEInstance=I", `DeleteIPAddress CONTEXT`; the exit status
// is the Win32 error code (0: NO_ERROR).
func (c *cmd) iphlpapi(args []string) {
	switch {
	case len(args) == 4 && args[0] == "AddIPAddress":
		idx, err := strconv.Atoi(args[3])
		if err != nil {
			c.exit = win32InvalidParameter
			return
		}
		ctx, inst, code := c.addNTE(args[1], args[2], idx)
		if c.exit = code; code == 0 {
			c.printf("NTEContext=%d NTEInstance=%d\n", ctx, inst)
		}
	case len(args) == 2 && args[0] == "DeleteIPAddress":
		ctx, err := strconv.ParseUint(args[1], 10, 32)
		if err != nil {
			c.exit = win32InvalidParameter
			return
		}
		c.exit = c.deleteNTE(uint32(ctx))
	default:
		c.unsupported("iphlpapi %s (the stand-in DLL calls AddIPAddress ADDR MASK IFINDEX and DeleteIPAddress CONTEXT)", quoteArgs(args))
	}
}
