// Package replay runs a KB scenario's steps on a fresh namespace lab built
// from a lab fixture (typically an imported customer host, kbharness import),
// says whether the defect reproduced with the evidence, and packs a repro
// bundle: the fixture, the address mapping, the steps, an ip script, a cmd
// script for the customer's Windows release, and the report.
//
// replay.go is pure (the scenarios, their steps, the scripts and the
// bundle) and builds on every OS; run_linux.go runs the steps on a lab.
package replay

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/iproute2"
	"github.com/kbharness/kbharness/netcfg/lab"
	"github.com/kbharness/kbharness/netcfg/target"
)

// Scenario ids replay has steps for: two catalog scenarios and the churn
// explorer.
const (
	SecondaryIP = "secondary-ip-route-loss"
	KB287032    = "KB287032"
	Explorer    = "explorer"
)

// Scenario is a scenario replay supports.
type Scenario struct {
	ID       string
	Injector string // the defect injector that emulates it (suites/framework/inject)
	Steps    string // what replay does, for --help and the report
}

// Scenarios lists what replay supports, in the catalog's order, the
// explorer last. The injector names are those the scenarios register
// (suites/registry; cmd/kbharness's tests check they agree).
var Scenarios = []Scenario{
	{SecondaryIP, "secondary-ip-route-loss", "the article's steps: the fixture's persistent routes (or a persistent default route via the first gateway), then on each of their interfaces a secondary address added and deleted; every persistent route must survive"},
	{KB287032, "kb287032", "explorer-style: dynamic IPv4 addresses added alternately on the first two links with a route per link, removed in FIFO (the workaround) and LIFO order; the host must equal a fresh lab given the same configuration"},
	{Explorer, "", "the churn explorer (internal/explore) on the fixture, shrunk to a minimal sequence"},
}

// Lookup returns the scenario with id, or an error saying which ones
// replay supports (and, for a catalog scenario, that replay has no steps
// for it).
func Lookup(id string) (Scenario, error) {
	for _, s := range Scenarios {
		if strings.EqualFold(s.ID, id) {
			return s, nil
		}
	}
	ids := make([]string, len(Scenarios))
	for i, s := range Scenarios {
		ids[i] = s.ID
	}
	if _, ok := fixtures.Lookup(id); ok {
		return Scenario{}, fmt.Errorf("scenario %q: replay has no steps for it (it replays %s)", id, strings.Join(ids, ", "))
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (replay supports %s)", id, strings.Join(ids, ", "))
}

// Options configure a replay.
type Options struct {
	Fixture  *fixtures.Lab // the lab to build (lab.New)
	Scenario string        // a Scenarios id
	// Inject starts the defect injectors on the lab (nil: none).
	Inject    func(ctx context.Context, l *lab.Lab) (stop func() error, err error)
	Injectors []string // their names, for the report and replay.yaml
	// Window is how long the persistent routes must survive each address
	// delete (secondary-ip-route-loss); default 500ms.
	Window time.Duration
	// Seed and Steps bound the explorer (Explorer).
	Seed     uint64
	Steps    int
	Progress io.Writer // progress lines; nil for none
}

// Step is one step of a KB scenario's replay: an explorer operation with
// the metric and persistence a KB route step also has. It is the step
// format of replay.yaml.
type Step struct {
	Kind       explore.Kind
	Interface  string
	Address    netip.Prefix // address steps
	Dst        netip.Prefix // route steps
	Gateway    netip.Addr   // route steps; zero for on-link
	Metric     int
	Persistent bool
}

func (s Step) op() explore.Op {
	return explore.Op{Kind: s.Kind, Mechanism: netcfg.Netlink, Interface: s.Interface, Address: s.Address, Dst: s.Dst, Gateway: s.Gateway}
}

func (s Step) String() string {
	o := s.op()
	if o.IsAddress() {
		return fmt.Sprintf("%s %s dev %s", o.Kind, o.Address, o.Interface)
	}
	str := fmt.Sprintf("%s %s", o.Kind, routeLine(s.route()))
	if s.Persistent {
		str += " (persistent)"
	}
	return str
}

func (s Step) route() netcfg.RouteSpec {
	return netcfg.RouteSpec{Dst: s.Dst, Gateway: s.Gateway, Interface: s.Interface, Metric: s.Metric, Persistent: s.Persistent}
}

func routeLine(r netcfg.RouteSpec) string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	s += " dev " + r.Interface
	if r.Metric != 0 {
		s += fmt.Sprintf(" metric %d", r.Metric)
	}
	return s
}

// MarshalYAML writes only the fields the step's kind uses.
func (s Step) MarshalYAML() (any, error) {
	type out struct {
		Kind       explore.Kind `yaml:"op"`
		Interface  string       `yaml:"interface"`
		Address    string       `yaml:"address,omitempty"`
		Dst        string       `yaml:"dst,omitempty"`
		Gateway    string       `yaml:"gateway,omitempty"`
		Metric     int          `yaml:"metric,omitempty"`
		Persistent bool         `yaml:"persistent,omitempty"`
	}
	v := out{Kind: s.Kind, Interface: s.Interface, Metric: s.Metric, Persistent: s.Persistent}
	if s.Address.IsValid() {
		v.Address = s.Address.String()
	}
	if s.Dst.IsValid() {
		v.Dst = s.Dst.String()
	}
	if s.Gateway.IsValid() {
		v.Gateway = s.Gateway.String()
	}
	return v, nil
}

// PlanSecondaryIP is the secondary-ip-route-loss replay on fixture f: the
// steps and the persistent routes that must survive them. The routes are
// f's persistent routes; a fixture without one gets a persistent default
// route via its first link's IPv4 gateway as the first step (the
// article's `route -p add 0.0.0.0 mask 0.0.0.0 GW`). Then, for every
// interface and family of those routes, a secondary address (host .21 or
// ::21 of the interface's first address's subnet, or the next free one) is
// added and deleted: the delete is what loses the routes.
func PlanSecondaryIP(f *fixtures.Lab) (steps []Step, survive []netcfg.RouteSpec, err error) {
	for _, r := range f.Routes {
		if r.Persistent {
			survive = append(survive, lab.RouteSpec(f, r))
		}
	}
	if len(survive) == 0 {
		if len(f.Links) == 0 {
			return nil, nil, fmt.Errorf("planning %s on lab %s: no links", SecondaryIP, f.Name)
		}
		gw := first(f.Links[0].PeerAddresses, true)
		if !gw.IsValid() {
			return nil, nil, fmt.Errorf("planning %s on lab %s: no persistent route in the fixture, and link %s has no IPv4 gateway to add one through", SecondaryIP, f.Name, f.Links[0].Interface)
		}
		for i, r := range f.Routes {
			if r.Dst.Bits() == 0 && r.Dst.Addr().Is4() {
				return nil, nil, fmt.Errorf("planning %s on lab %s: no persistent route to check, and routes[%d] is a non-persistent default route, so the article's persistent default cannot be added; mark a route persistent", SecondaryIP, f.Name, i)
			}
		}
		def := Step{Kind: explore.AddRoute, Interface: f.Links[0].Interface, Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: gw.Addr(), Persistent: true}
		steps = append(steps, def)
		survive = append(survive, def.route())
	}
	type key struct {
		ifname string
		is4    bool
	}
	done := map[key]bool{}
	for _, r := range survive {
		k := key{r.Interface, r.Dst.Addr().Is4()}
		if done[k] {
			continue
		}
		done[k] = true
		link, ok := linkOf(f, r.Interface)
		if !ok {
			return nil, nil, fmt.Errorf("planning %s on lab %s: route %s: no link %s", SecondaryIP, f.Name, routeLine(r), r.Interface)
		}
		secondary, ok := secondaryAddress(link, k.is4)
		if !ok {
			return nil, nil, fmt.Errorf("planning %s on lab %s: link %s has no %s address to add a secondary one beside (route %s)", SecondaryIP, f.Name, r.Interface, family(k.is4), routeLine(r))
		}
		steps = append(steps,
			Step{Kind: explore.AddAddress, Interface: r.Interface, Address: secondary},
			Step{Kind: explore.DeleteAddress, Interface: r.Interface, Address: secondary})
	}
	return steps, survive, nil
}

func family(is4 bool) string {
	if is4 {
		return "IPv4"
	}
	return "IPv6"
}

func linkOf(f *fixtures.Lab, ifname string) (fixtures.Link, bool) {
	for _, k := range f.Links {
		if k.Interface == ifname {
			return k, true
		}
	}
	return fixtures.Link{}, false
}

func first(ps []netip.Prefix, is4 bool) netip.Prefix {
	for _, p := range ps {
		if p.Addr().Is4() == is4 {
			return p
		}
	}
	return netip.Prefix{}
}

// secondaryAddress is a free host of the link's first address's subnet,
// from .21 (IPv4) or ::21 (IPv6) on, with that prefix length.
func secondaryAddress(k fixtures.Link, is4 bool) (netip.Prefix, bool) {
	base := first(k.Addresses, is4)
	if !base.IsValid() {
		return netip.Prefix{}, false
	}
	used := map[netip.Addr]bool{}
	for _, p := range append(slices.Clone(k.Addresses), k.PeerAddresses...) {
		used[p.Addr()] = true
	}
	start := 0x21 // ::21
	if is4 {
		start = 21 // .21, the article's 192.0.2.21
	}
	for n := start; n < start+256; n++ {
		a := base.Masked().Addr()
		for range n {
			a = a.Next()
		}
		if !base.Masked().Contains(a) {
			break
		}
		if !used[a] {
			return netip.PrefixFrom(a, base.Bits()), true
		}
	}
	return netip.Prefix{}, false
}

// kbOrders are the removal orders of the KB287032 replay.
var kbOrders = []string{"FIFO", "LIFO"}

// KB287032Sequence is the KB287032 replay's sequence in one removal order
// (FIFO or LIFO): the explorer's default IPv4 dynamic addresses of the
// first two links added alternately, its IPv4 route of each link, the
// addresses removed in that order, then the routes.
func KB287032Sequence(u explore.Universe, order string) []explore.Op {
	var per [2][]netcfg.AddressSpec
	var links []string
	for _, a := range u.Addresses {
		if !a.Prefix.Addr().Is4() {
			continue
		}
		i := indexOf(&links, a.Interface)
		if i < 2 {
			per[i] = append(per[i], a)
		}
	}
	var added []netcfg.AddressSpec
	for i := 0; i < max(len(per[0]), len(per[1])); i++ {
		for _, p := range per {
			if i < len(p) {
				added = append(added, p[i])
			}
		}
	}
	var ops []explore.Op
	for _, a := range added {
		ops = append(ops, explore.Element{Address: &a}.Op(true, netcfg.Netlink))
	}
	var routes []netcfg.RouteSpec
	for _, r := range u.Routes {
		if r.Dst.Addr().Is4() && (len(links) > 0 && r.Interface == links[0] || len(links) > 1 && r.Interface == links[1]) {
			routes = append(routes, r)
		}
	}
	for _, r := range routes {
		ops = append(ops, explore.Element{Route: &r}.Op(true, netcfg.Netlink))
	}
	for i := range added {
		a := added[i]
		if order == "LIFO" {
			a = added[len(added)-1-i]
		}
		ops = append(ops, explore.Element{Address: &a}.Op(false, netcfg.Netlink))
	}
	for _, r := range routes {
		ops = append(ops, explore.Element{Route: &r}.Op(false, netcfg.Netlink))
	}
	return ops
}

func indexOf(xs *[]string, x string) int {
	for i, y := range *xs {
		if y == x {
			return i
		}
	}
	*xs = append(*xs, x)
	return len(*xs) - 1
}

// Result is a replay's verdict and what it rests on.
type Result struct {
	Scenario   string
	Lab        string   // the fixture's name
	Injectors  []string // started on the lab
	Reproduced bool
	// Evidence is what shows it: the routes missing after the steps with
	// the event timeline (secondary-ip-route-loss), or the explorer's
	// failure with its diff of the host against a fresh lab.
	Evidence []string
	// Steps and Survive are the KB scenario steps and the routes that had
	// to survive them (secondary-ip-route-loss).
	Steps   []Step
	Survive []netcfg.RouteSpec
	// Repro is the sequence that ran (KB287032: the failing order, else
	// the last) or the explorer's minimal one.
	Repro *explore.Repro
	// Ran says what ran, one line per case.
	Ran []string
}

// Verdict is "reproduced" or "not reproduced".
func (r *Result) Verdict() string {
	if r.Reproduced {
		return "reproduced"
	}
	return "not reproduced"
}

// Summary is the verdict with its evidence, as kbharness replay prints it.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on lab %s", r.Scenario, r.Lab)
	if len(r.Injectors) > 0 {
		fmt.Fprintf(&b, " (injectors: %s)", strings.Join(r.Injectors, ", "))
	}
	fmt.Fprintf(&b, ": %s\n", r.Verdict())
	for _, l := range r.Ran {
		fmt.Fprintf(&b, "  ran: %s\n", l)
	}
	for _, l := range r.Evidence {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

// File is replay.yaml for a KB scenario's steps (secondary-ip-route-loss);
// the explorer's sequences use explore's replay format instead
// (explore.EncodeReplay: `kbharness explore --replay replay.yaml`).
type File struct {
	// Scenario is the scenario id.
	Scenario string `yaml:"scenario"`
	// Fixture is the lab fixture file, beside this one in the bundle.
	Fixture string `yaml:"fixture"`
	// Injectors were running on the lab (suites/framework/inject names).
	Injectors []string `yaml:"injectors,omitempty"`
	// Steps ran in order on the built lab (netlink).
	Steps []Step `yaml:"steps"`
	// Survive are the persistent routes that must be there after the steps.
	Survive []Step `yaml:"survive"`
	// Verdict is what the replay said, with its evidence.
	Verdict  string   `yaml:"verdict"`
	Evidence []string `yaml:"evidence,omitempty"`
}

// Bundle file names.
const (
	FixtureFile = "fixture.yaml"
	MapFile     = "map.yaml"
	ReplayFile  = "replay.yaml"
	IPFile      = "repro.sh"
	CmdFile     = "repro.cmd"
	ReportFile  = "report.md"
)

// Inputs are the files a bundle copies.
type Inputs struct {
	Fixture []byte                 // the fixture file as given
	Map     []byte                 // the address mapping file (kbharness import); nil for none
	OS      explore.WindowsVersion // the customer's release, for repro.cmd
	Window  time.Duration          // the survival window repro.sh waits
}

// BundleFiles renders a replay's bundle, in order: fixture.yaml, map.yaml
// (if given), replay.yaml, repro.sh, repro.cmd and report.md.
func BundleFiles(r *Result, in Inputs) ([]NamedFile, error) {
	files := []NamedFile{{FixtureFile, in.Fixture}}
	if in.Map != nil {
		files = append(files, NamedFile{MapFile, in.Map})
	}
	var replay []byte
	var sh string
	var win explore.WinScript
	if r.Repro != nil {
		rp := *r.Repro
		rp.Lab = FixtureFile
		var err error
		if replay, err = explore.EncodeReplay(rp, r.Injectors); err != nil {
			return nil, err
		}
		sh, win = explore.IPScript(rp), explore.ReproWinScript(rp)
	} else {
		f := File{Scenario: r.Scenario, Fixture: FixtureFile, Injectors: r.Injectors, Steps: r.Steps, Verdict: r.Verdict(), Evidence: r.Evidence}
		for _, s := range r.Survive {
			f.Survive = append(f.Survive, Step{Kind: explore.AddRoute, Interface: s.Interface, Dst: s.Dst, Gateway: s.Gateway, Metric: s.Metric, Persistent: s.Persistent})
		}
		body, err := yaml.Marshal(&f)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", ReplayFile, err)
		}
		replay = append([]byte("# kbharness replay of "+r.Scenario+": the steps run on a lab built from "+FixtureFile+"\n"), body...)
		sh = IPScript(r, in.Window)
		win = WinScript(r)
	}
	files = append(files,
		NamedFile{ReplayFile, replay},
		NamedFile{IPFile, []byte(sh)},
		NamedFile{CmdFile, []byte(explore.WindowsScriptFor(in.OS, win))},
		NamedFile{ReportFile, []byte(Report(r, in))})
	return files, nil
}

// NamedFile is one file of a bundle.
type NamedFile struct {
	Name string
	Data []byte
}

// WriteZip writes files as a zip archive, in order, with a fixed time (so
// the same replay gives the same bundle); repro.sh is executable.
func WriteZip(w io.Writer, files []NamedFile) error {
	z := zip.NewWriter(w)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		h.SetMode(0o644)
		if strings.HasSuffix(f.Name, ".sh") {
			h.SetMode(0o755)
		}
		fw, err := z.CreateHeader(h)
		if err == nil {
			_, err = io.Copy(fw, bytes.NewReader(f.Data))
		}
		if err != nil {
			return fmt.Errorf("writing %s to the bundle: %w", f.Name, err)
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	return nil
}

// IPScript renders a KB scenario replay (r.Steps, r.Survive) as a POSIX sh
// script of `ip` commands (iproute2's argv builders, persistent routes
// proto static) for the host namespace of a fresh lab built from the
// fixture. It waits the window after the steps, then checks every route
// that must survive with `ip route show ... exact`, prints FAIL lines and
// exits 1 if one is missing (reproduced), 0 otherwise.
func IPScript(r *Result, window time.Duration) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&b, "# kbharness replay repro: %s, lab %s, %d steps.\n", r.Scenario, r.Lab, len(r.Steps))
	b.WriteString("# Run it in the host namespace of a fresh lab built from the fixture:\n")
	fmt.Fprintf(&b, "#   kbharness lab up --fixture %s    (prints the namespaces)\n", FixtureFile)
	b.WriteString("#   ip netns exec <host namespace> sh repro.sh\n")
	b.WriteString("set -u\n")
	for i, s := range r.Steps {
		fmt.Fprintf(&b, "# step %d: %s\n", i+1, s)
		fmt.Fprintf(&b, "%s || exit 2\n", target.ShellCommandLine(ipArgv(s)))
	}
	secs := int((window + time.Second - 1) / time.Second)
	fmt.Fprintf(&b, "# A broken stack may remove the routes a moment after the delete: wait %ds.\n", max(secs, 1))
	fmt.Fprintf(&b, "sleep %d\n", max(secs, 1))
	b.WriteString("# The checks: every persistent route must have survived.\n")
	b.WriteString("fail=0\n")
	for _, s := range r.Survive {
		fam := "-4"
		if s.Dst.Addr().Is6() {
			fam = "-6"
		}
		q := []string{"ip", fam, "route", "show", "table", "main", "exact", s.Dst.String()}
		if s.Gateway.IsValid() {
			q = append(q, "via", s.Gateway.String())
		}
		q = append(q, "dev", s.Interface, "proto", "static")
		fmt.Fprintf(&b, "if [ -z \"$(%s)\" ]; then echo %s; fail=1; fi\n", target.ShellCommandLine(q), target.ShellCommandLine([]string{"FAIL: missing: " + routeLine(s) + " proto static"}))
	}
	b.WriteString("if [ $fail = 0 ]; then echo \"OK: not reproduced\"; fi\n")
	b.WriteString("exit $fail\n")
	return b.String()
}

func ipArgv(s Step) []string {
	switch s.Kind {
	case explore.AddAddress:
		return iproute2.AddrAdd("", netcfg.AddressSpec{Prefix: s.Address, Interface: s.Interface})
	case explore.DeleteAddress:
		return iproute2.AddrDel("", netcfg.AddressSpec{Prefix: s.Address, Interface: s.Interface})
	case explore.AddRoute:
		return iproute2.RouteAdd("", s.route())
	}
	return iproute2.RouteDel("", s.route())
}

// WinScript is a KB scenario replay as explore's per-release Windows
// script: its steps and the routes to check.
func WinScript(r *Result) explore.WinScript {
	s := explore.WinScript{Title: fmt.Sprintf("kbharness replay repro: %s, lab %s, %d steps", r.Scenario, r.Lab, len(r.Steps))}
	for _, st := range r.Steps {
		s.Steps = append(s.Steps, explore.WinStep{Op: st.op(), Metric: st.Metric, Persistent: st.Persistent})
	}
	for _, rt := range r.Survive {
		s.Checks = append(s.Checks, explore.WinCheck{Route: rt, Persistent: rt.Persistent})
	}
	return s
}

// Report is the bundle's report.md: verdict, evidence, what ran and the
// files.
func Report(r *Result, in Inputs) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# kbharness replay: %s — %s\n\n", r.Scenario, r.Verdict())
	if kb, ok := fixtures.Lookup(r.Scenario); ok {
		fmt.Fprintf(&b, "%s\n\n", kb.Title)
	}
	fmt.Fprintf(&b, "- lab: %s (%s, built by kbharness in network namespaces)\n", r.Lab, FixtureFile)
	if in.Map != nil {
		fmt.Fprintf(&b, "- address mapping: %s (customer addresses to the lab's documentation ranges)\n", MapFile)
	}
	inj := "none"
	if len(r.Injectors) > 0 {
		inj = strings.Join(r.Injectors, ", ") + " (the defect emulated on the Linux kernel)"
	}
	fmt.Fprintf(&b, "- injectors: %s\n", inj)
	fmt.Fprintf(&b, "- verdict: **%s**\n\n", r.Verdict())
	if len(r.Ran) > 0 {
		b.WriteString("## What ran\n\n")
		for _, l := range r.Ran {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		b.WriteString("\n")
	}
	if len(r.Steps) > 0 {
		b.WriteString("## Steps\n\n")
		for i, s := range r.Steps {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s)
		}
		b.WriteString("\nPersistent routes that must survive:\n\n")
		for _, s := range r.Survive {
			fmt.Fprintf(&b, "- %s\n", routeLine(s))
		}
		b.WriteString("\n")
	}
	if r.Repro != nil {
		fmt.Fprintf(&b, "## Sequence\n\n```\n%s```\n\n", explore.FormatOps(r.Repro.Ops))
	}
	b.WriteString("## Evidence\n\n")
	if len(r.Evidence) == 0 {
		b.WriteString("None: every check passed.\n\n")
	} else {
		b.WriteString("```\n" + strings.Join(r.Evidence, "\n") + "\n```\n\n")
	}
	b.WriteString("## Files\n\n")
	fmt.Fprintf(&b, "- %s: the lab fixture; `kbharness lab up --fixture %s` builds it\n", FixtureFile, FixtureFile)
	fmt.Fprintf(&b, "- %s: the steps\n", ReplayFile)
	fmt.Fprintf(&b, "- %s: the steps as `ip` commands: `ip netns exec <host namespace> sh %s` (exit 1: reproduced)\n", IPFile, IPFile)
	fmt.Fprintf(&b, "- %s: the steps for Windows Server %s, run elevated on the customer's host (exit 1: reproduced)\n", CmdFile, in.OS)
	return b.String()
}
