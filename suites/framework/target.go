package framework

import (
	"fmt"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
)

// TargetDialect is the dialect of the host the suites run against: Linux
// for a namespace lab or an attached namespace, Windows for this Windows
// machine and for a stand-in target (-kb.target standin://...). Suites build their tables for every dialect and skip the
// entries of the others (RequireDialect); they never look at the OS.
func TargetDialect() netcfg.Dialect {
	if strings.HasPrefix(Options.Target, lab.StandinScheme) {
		return netcfg.DialectWindows
	}
	return lab.LocalDialect
}

// RequireNamespaceLabs skips the spec unless kbharness can build namespace
// labs of its own here: a Linux target, and root.
func RequireNamespaceLabs() {
	RequireDialect(netcfg.DialectLinux)
	requireRoot()
}

func requireRoot() {
	if os.Geteuid() != 0 {
		Skip("requires root: creates network namespaces")
	}
}

// RequireDialect skips the spec, before anything is built, when the target
// is of another dialect than d.
func RequireDialect(d netcfg.Dialect) {
	if t := TargetDialect(); t != d {
		Skip(fmt.Sprintf("a spec for %s hosts; the target is a %s host", d, t))
	}
}
