package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/internal/explore"
	"github.com/kbharness/kbharness/internal/replay"
)

func init() {
	register(&command{
		Name:    "replay",
		Summary: "replay a KB scenario on a fresh lab built from a fixture (an imported host); --bundle writes a repro zip",
		Run:     runReplay,
	})
}

func replayUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: kbharness replay --fixture FIXTURE.yaml --scenario ID [--inject NAME]
                        [--bundle OUT.zip --os RELEASE [--map MAP.yaml]] [flags]

Builds a fresh namespace lab from the fixture (its links, addresses and
routes: an imported customer host, kbharness import), runs the scenario's
steps on it and says "reproduced" or "not reproduced" with the evidence (the
routes lost and the event timeline, or the diff against a fresh lab).
--inject starts a defect injector on the lab (it is one kbharness built).
--bundle writes one zip: fixture.yaml, map.yaml (--map, copied), replay.yaml,
repro.sh (ip, for the host namespace of a fresh lab), repro.cmd (for the
customer's Windows Server release, --os: netsh and route.exe on 2008 and
2008r2, the NetTCPIP cmdlets on 2012 and later) and report.md.
Exit status 1 when reproduced, 2 on bad usage or input.

Scenarios:
`)
	for _, s := range replay.Scenarios {
		fmt.Fprintf(&b, "  %-24s %s\n", s.ID, s.Steps)
	}
	return strings.TrimRight(b.String(), "\n")
}

// errReproduced makes replay exit 1 after printing its verdict.
var errReproduced = errors.New("the defect reproduced")

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", replayUsage(), stderr)
	fixture := fs.String("fixture", "", "lab fixture: a YAML path (kbharness import writes one) or an embedded lab name")
	scenario := fs.String("scenario", "", "scenario to replay (see above)")
	injectors := fs.String("inject", "", "comma-separated defect injectors to start on the lab")
	bundle := fs.String("bundle", "", "write the repro bundle (zip) here")
	mapFile := fs.String("map", "", "address mapping file (kbharness import) to copy into the bundle")
	osFlag := fs.String("os", "", "the customer's Windows Server release for repro.cmd ("+explore.WindowsVersionList()+"); required with --bundle")
	window := fs.Duration("window", 500*time.Millisecond, "how long persistent routes must survive each address delete, 10ms to 5m")
	seed := fs.Uint64("seed", 0, "explorer: rapid seed (0: from the clock)")
	steps := fs.Int("steps", 200, fmt.Sprintf("explorer: step budget, 1 to %d", explore.MaxSteps))
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	switch {
	case *fixture == "":
		return usagef("--fixture is required")
	case *scenario == "":
		return usagef("--scenario is required")
	case *bundle == "" && (*osFlag != "" || *mapFile != ""):
		return usagef("--os and --map only apply with --bundle")
	case *bundle != "" && *osFlag == "":
		return usagef("--bundle needs --os, the customer's Windows Server release (%s)", explore.WindowsVersionList())
	}
	for _, err := range []error{
		checkDuration("--window", *window, 10*time.Millisecond, 5*time.Minute),
		checkInt("--steps", *steps, 1, explore.MaxSteps),
	} {
		if err != nil {
			return err
		}
	}
	sc, err := replay.Lookup(*scenario)
	if err != nil {
		return usagef("--scenario: %v", err)
	}
	var version explore.WindowsVersion
	if *osFlag != "" {
		if version, err = explore.ParseWindowsVersion(*osFlag); err != nil {
			return usagef("--os: %v", err)
		}
	}
	names := splitNames(*injectors)
	if err := checkInjectors(names); err != nil {
		return usagef("--inject: %v", err)
	}
	f, source, err := fixtures.LoadLabSource(*fixture)
	if err != nil {
		return badInput(err)
	}
	in := replay.Inputs{OS: version, Window: *window}
	if *bundle != "" {
		in.Fixture = source
		if *mapFile != "" {
			if in.Map, err = os.ReadFile(*mapFile); err != nil {
				return badInput(fmt.Errorf("reading the mapping file: %w", err))
			}
		}
	}
	opts := replay.Options{Fixture: f, Scenario: sc.ID, Injectors: names, Window: *window, Seed: *seed, Steps: *steps}
	if !*quiet {
		opts.Progress = stderr
	}
	if len(names) > 0 {
		opts.Inject = startInjectors(names)
	}
	res, err := replay.Run(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Summary())
	if *bundle != "" {
		if err := writeBundle(*bundle, res, in); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "bundle: %s\n", *bundle)
	}
	if res.Reproduced {
		return errReproduced
	}
	return nil
}

func writeBundle(path string, res *replay.Result, in replay.Inputs) error {
	files, err := replay.BundleFiles(res, in)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := replay.WriteZip(&buf, files); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	return nil
}
