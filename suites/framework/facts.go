package framework

import (
	"context"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/kbharness/kbharness/internal/hostfacts"
	"github.com/kbharness/kbharness/internal/standin"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/netcfg/target"
	"github.com/kbharness/kbharness/reports"
)

// started is when the suite binary started: the run's start.
var started = time.Now().UTC()

// RunFacts reads the facts of the run's target (reports.Facts): this
// machine for namespace labs and attached namespaces (they share its
// kernel) and on Windows; the remote host or the stand-ins through their
// commands. A fact that cannot be read is in Errors.
func RunFacts(ctx context.Context) reports.Facts {
	f := reports.Facts{Kbharness: Version(), Target: Options.Target, Started: started}
	if f.Target == "" {
		f.Target = target.Local
	}
	var r netcfg.Runner = netcfg.Exec
	d := lab.LocalDialect
	f.Host, _ = os.Hostname()
	switch t := Options.Target; {
	case strings.HasPrefix(t, lab.StandinScheme):
		r, d, f.Host = standin.Runner(strings.TrimPrefix(t, lab.StandinScheme)), netcfg.DialectWindows, t
	case lab.IsRemote(t):
		c, err := target.Open(ctx, t, target.Default)
		if err != nil {
			f.Errors = append(f.Errors, "connecting: "+err.Error())
			return f
		}
		defer c.Close()
		r, d, f.Host = c, c.Dialect(), c.URL.Host
	}
	hostfacts.Collect(ctx, r, d, &f)
	return f
}

// Version is kbharness's version: the module's, else the VCS revision the
// binary was built from, else "devel".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
