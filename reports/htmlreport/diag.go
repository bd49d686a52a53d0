package htmlreport

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kbharness/kbharness/reports/store"
)

// hammer is one KB2901197 hammer run's counts (the entry
// "hammer <run> counts", a JSON object of numbers).
type hammer struct {
	Spec, Run string
	Counts    map[string]json.Number
}

// addHammers adds res's hammer counts to the run's table.
func (v *runView) addHammers(res store.Result) {
	for _, e := range res.Entries {
		run, ok := strings.CutPrefix(e.Name, "hammer ")
		if run, ok = strings.CutSuffix(run, " counts"); !ok {
			continue
		}
		h := hammer{Spec: res.Spec, Run: run}
		if json.Unmarshal([]byte(e.JSON), &h.Counts) != nil {
			continue // not counts: shown with the spec's other entries
		}
		for k := range h.Counts {
			if !slices.Contains(v.HammerCols, k) {
				v.HammerCols = append(v.HammerCols, k)
			}
		}
		v.Hammers = append(v.Hammers, h)
	}
	// attempts and success first, then the failure classes and the rest.
	order := func(c string) string {
		return map[string]string{"attempts": "0", "success": "1"}[c] + "~" + c
	}
	sort.Slice(v.HammerCols, func(i, j int) bool { return order(v.HammerCols[i]) < order(v.HammerCols[j]) })
}

// latencyLine is a watchdog probe's line (watchdog.ProbeStats.String):
// "tcp-echo 198.51.100.1:7007: 81 checks, 0 failed, p50 249µs, p99 3.7ms, max 3.7ms".
var latencyLine = regexp.MustCompile(`^(.+): (\d+) checks, (\d+) failed, p50 (\S+), p99 (\S+), max (\S+)$`)

// Plot geometry, in SVG user units.
const (
	plotLabel = 60  // left margin for "p50", "p99", "max"
	plotWidth = 640 // of the longest bar
	barHeight = 16
	barGap    = 4
	probeHead = 22 // the probe's name above its bars
)

// plot is one spec's probe latencies as horizontal bars.
type plot struct {
	Spec          string
	Width, Height int
	Scale         string // the longest bar's value
	Probes        []probeBars
}

type probeBars struct {
	Name       string
	Y          int
	Checks     string
	Bars       []bar
	FailChecks bool
}

type bar struct {
	Label, Value string
	Y, W         int
}

// latencyPlot plots the probe lines in res's report entries (KB943650's
// "probe latency p50/p99", and the stress summaries that repeat them).
func latencyPlot(res store.Result) (plot, bool) {
	type stats struct {
		name, checks, failed string
		d                    [3]time.Duration
	}
	var probes []stats
	seen := map[string]bool{}
	var longest time.Duration
	for _, e := range res.Entries {
		for _, l := range strings.Split(e.Text, "\n") {
			m := latencyLine.FindStringSubmatch(strings.TrimSpace(l))
			if m == nil || seen[m[1]] {
				continue
			}
			s := stats{name: m[1], checks: m[2], failed: m[3]}
			ok := true
			for i := range s.d {
				d, err := time.ParseDuration(m[4+i])
				ok = ok && err == nil
				s.d[i] = d
				longest = max(longest, d)
			}
			if ok {
				seen[m[1]] = true
				probes = append(probes, s)
			}
		}
	}
	if len(probes) == 0 || longest <= 0 {
		return plot{}, false
	}
	p := plot{Spec: res.Spec, Width: plotLabel + plotWidth + 120, Scale: longest.String()}
	y := 0
	for _, s := range probes {
		pb := probeBars{Name: s.name, Y: y + 15, Checks: s.checks + " checks, " + s.failed + " failed", FailChecks: s.failed != "0"}
		y += probeHead
		for i, label := range []string{"p50", "p99", "max"} {
			w := int(int64(plotWidth) * int64(s.d[i]) / int64(longest))
			pb.Bars = append(pb.Bars, bar{Label: label, Value: s.d[i].String(), Y: y, W: max(w, 1)})
			y += barHeight + barGap
		}
		y += barGap * 2
		p.Probes = append(p.Probes, pb)
	}
	p.Height = y
	return p, true
}
