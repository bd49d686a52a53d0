package framework

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/netcfg/target"
)

// TargetDialect is the dialect of the host the suites run against: Linux
// for a namespace lab or an attached namespace, Windows for this Windows
// machine and for a stand-in target, and for a remote target
// (-kb.target ssh://, winrm://, psdirect://) what its probe found
// (ProbeTarget). Suites build their tables for every dialect and skip the
// entries of the others (RequireDialect); they never look at the OS.
func TargetDialect() netcfg.Dialect {
	switch t := Options.Target; {
	case strings.HasPrefix(t, lab.StandinScheme):
		return netcfg.DialectWindows
	case lab.IsRemote(t):
		GinkgoHelper()
		info, err := ProbeTarget()
		Expect(err).NotTo(HaveOccurred())
		return info.Dialect
	}
	return lab.LocalDialect
}

var probed struct {
	once sync.Once
	info target.Info
	err  error
}

// ProbeTarget connects once to the remote -kb.target and reports what it
// is (OS, version, dialect, PowerShell); later calls return that answer.
func ProbeTarget() (target.Info, error) {
	probed.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := target.Open(ctx, Options.Target, target.Default)
		if err != nil {
			probed.err = err
			return
		}
		probed.info = c.Info
		probed.err = c.Close()
	})
	return probed.info, probed.err
}

// RequireNamespaceLabs skips the spec unless kbharness can build namespace
// labs of its own here: a Linux target, and root.
func RequireNamespaceLabs() {
	if lab.IsRemote(Options.Target) {
		Skip(fmt.Sprintf("builds namespace labs of its own on this machine; the target is %s", Options.Target))
	}
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
