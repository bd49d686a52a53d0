package standin

import (
	"strings"

	"github.com/kbharness/kbharness/netcfg/winreg"
)

// reg is `reg query HKLM\...\PersistentRoutes`: the store's IPv4
// persistent routes as the registry's value names, printed as reg.exe
// prints a key (a host reached by commands reads its registry so; the Wine
// clients carry the registry themselves).
func (c *cmd) reg(args []string) {
	want := `HKLM\` + winreg.PersistentRoutesKey
	if len(args) != 2 || !strings.EqualFold(args[0], "query") || !strings.EqualFold(args[1], want) {
		c.unsupported("reg %s (the stand-in implements reg query %s)", quoteArgs(args), want)
		return
	}
	c.printf("\nHKEY_LOCAL_MACHINE\\%s\n", winreg.PersistentRoutesKey)
	for _, op := range c.s.st.registryOps(nil) {
		c.printf("    %s    REG_SZ    \n", op.Name)
	}
	c.printf("\n")
}
