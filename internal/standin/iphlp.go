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

// Win32 errors the emulation returns, with Win32Exception's messages.
const (
	errInvalidParameter = "The parameter is incorrect"
	errObjectExists     = "The object already exists"
)

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

func (c *cmd) addIPAddress(args []string) {
	if len(args) != 3 {
		c.unsupported("[KbhIpHlp]::Add with %d arguments", len(args))
		return
	}
	a, err1 := netip.ParseAddr(args[0])
	mask, err2 := netip.ParseAddr(args[1])
	idx, err3 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil || err3 != nil || !a.Is4() || !mask.Is4() {
		c.win32Exception("Add", 3, errInvalidParameter)
		return
	}
	mb := mask.As4()
	ones, bits := net.IPMask(mb[:]).Size()
	v, err := c.view()
	if err != nil {
		c.internal(err)
		return
	}
	if _, ok := v.linkByIndex(idx); !ok || bits == 0 {
		c.win32Exception("Add", 3, errInvalidParameter)
		return
	}
	addr := Addr{Prefix: netip.PrefixFrom(a, ones), Index: idx}
	if err := c.s.k.AddAddr(addr); err != nil {
		if errors.Is(err, ErrExists) {
			c.win32Exception("Add", 3, errObjectExists)
		} else {
			c.internal(err)
		}
		return
	}
	c.changed()
	c.s.nextNTE++
	c.s.ntes[c.s.nextNTE] = addr
	c.printf("NTEContext=%d NTEInstance=%d\n", c.s.nextNTE, c.s.nextNTE+1000)
}

func (c *cmd) deleteIPAddress(args []string) {
	if len(args) != 1 {
		c.unsupported("[KbhIpHlp]::Delete with %d arguments", len(args))
		return
	}
	ctx, err := strconv.ParseUint(args[0], 10, 32)
	addr, ok := c.s.ntes[uint32(ctx)]
	if err != nil || !ok {
		c.win32Exception("Delete", 1, errInvalidParameter)
		return
	}
	if err := c.deleteAddress(addr); err != nil {
		c.win32Exception("Delete", 1, errInvalidParameter)
		return
	}
	delete(c.s.ntes, uint32(ctx))
}
