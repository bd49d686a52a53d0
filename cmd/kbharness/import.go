package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg/capture"
)

func init() {
	register(&command{
		Name:    "import",
		Summary: "turn a customer's captures (route print, ipconfig, netsh, Get-NetRoute) into a lab fixture",
		Run:     runImport,
	})
}

const importUsage = `Usage: kbharness import -o FIXTURE.yaml [--map MAP.yaml] [--name NAME] [--best-effort] FILE... (- for stdin)

Reads captures from ONE Windows host, in any mix: route print (netstat -r),
ipconfig /all, netsh interface ipv4|ipv6 show route|addresses|interfaces,
Get-NetRoute / Get-NetIPAddress / Get-NetIPInterface (table, list or
ConvertTo-Json); UTF-8 or UTF-16, CRLF, localized. The kind of each file is
told by its content. netsh show route does not print its store: a file whose
echoed command says store=persistent is read as the persistent store.

Writes a lab fixture (kbharness lab up --fixture FIXTURE.yaml): one link per
interface with addresses (lan0, lan1, ...), one peer per link (gw1, gw2, ...
holding the link's gateways; peer1, ... without), the host's addresses, and
its routes except those Windows generates (on-link routes of its addresses,
broadcasts, loopback, multicast, link-local), persistent ones marked.

Every address is mapped into the documentation ranges: each subnet to one of
the same length, host part kept (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24 packed; 2001:db8:N::/LEN); a subnet wider than /24 to a /24
when its addresses' offsets fit, else refused; other route destinations into
a separate block. The mapping (and the customer's adapter names) is written
to MAP.yaml (default: FIXTURE.map.yaml beside the fixture) and printed.

Disagreements between captures (an address ipconfig shows and route print
lacks, a gateway on no interface, different prefix lengths) are printed as
CONFLICT lines and kept in the mapping file; what they concern is left out.

Exit status 2 for damaged input (FILE:LINE and why) unless --best-effort,
which skips the damaged lines or files and lists them as SKIPPED.`

var labNameRE = regexp.MustCompile(`[^a-z0-9-]+`)

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", importUsage, stderr)
	out := fs.String("o", "", "the lab fixture to write (required)")
	mapPath := fs.String("map", "", "the mapping file to write (default: FIXTURE.map.yaml beside the fixture)")
	name := fs.String("name", "", "the lab's name (default: from the fixture's file name)")
	bestEffort := fs.Bool("best-effort", false, "skip damaged lines and unreadable files, listing them, instead of failing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o FIXTURE.yaml is required")
	}
	if fs.NArg() == 0 {
		return usagef("need at least one capture FILE (or - for stdin)")
	}
	if *mapPath == "" {
		*mapPath = strings.TrimSuffix(strings.TrimSuffix(*out, ".yaml"), ".yml") + ".map.yaml"
	}
	if *name == "" {
		base := strings.ToLower(strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out)))
		*name = strings.Trim(labNameRE.ReplaceAllString(base, "-"), "-")
		if *name == "" {
			*name = "imported"
		}
	}
	var files []capture.File
	stdinUsed := false
	for _, a := range fs.Args() {
		var data []byte
		var err error
		if a == "-" {
			if stdinUsed {
				return usagef("- (stdin) given twice")
			}
			stdinUsed = true
			data, err = io.ReadAll(os.Stdin)
			a = "stdin"
		} else {
			data, err = os.ReadFile(a)
		}
		if err != nil {
			return badInput(fmt.Errorf("reading capture: %w", err))
		}
		files = append(files, capture.File{Name: a, Data: data})
	}
	return importFiles(files, *out, *mapPath, *name, *bestEffort, stdout, stderr)
}

// importFiles reads, maps and writes; split out for tests (stdin).
func importFiles(files []capture.File, out, mapPath, name string, bestEffort bool, stdout, stderr io.Writer) error {
	h, err := capture.Read(files, capture.Options{BestEffort: bestEffort})
	if err != nil {
		var ce *capture.Error
		if errors.As(err, &ce) {
			return badInput(err)
		}
		return err
	}
	for _, f := range h.Files {
		fmt.Fprintf(stdout, "read %s: %s\n", f.Name, f.Kind)
	}
	for _, s := range h.Skipped {
		fmt.Fprintf(stderr, "SKIPPED %s\n", s)
	}
	lab, m, err := capture.Build(h, name)
	for _, c := range h.Conflicts {
		fmt.Fprintf(stderr, "CONFLICT %s\n", c)
	}
	if err != nil {
		return badInput(fmt.Errorf("importing %s: %w", strings.Join(fileNames(files), ", "), err))
	}
	fixture := capture.MarshalLab(lab, m)
	mapping, err := capture.MarshalMapping(m, h, out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, fixture, 0o644); err != nil {
		return fmt.Errorf("writing fixture: %w", err)
	}
	if err := os.WriteFile(mapPath, mapping, 0o644); err != nil {
		return fmt.Errorf("writing mapping: %w", err)
	}
	// Read back as lab up will: a fixture that does not load is our bug.
	if _, err := fixtures.LoadLab(out); err != nil {
		return fmt.Errorf("the written fixture does not load back: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d links, %d routes (%d generated routes dropped, %d conflicts, %d skipped)\n",
		out, len(lab.Links), len(lab.Routes), h.Dropped, len(h.Conflicts), len(h.Skipped))
	fmt.Fprintf(stdout, "wrote %s:\n%s", mapPath, mapping)
	return nil
}

func fileNames(fs []capture.File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}
