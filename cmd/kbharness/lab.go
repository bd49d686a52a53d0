package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kbharness/kbharness/fixtures"
	"github.com/kbharness/kbharness/netcfg/lab"
)

func init() {
	register(&command{
		Name:    "lab",
		Summary: "build, list and remove namespace labs (lab up | down | ls)",
		Run:     runLab,
	})
}

const labUsage = `Usage:
  kbharness lab up [--fixture F] [--hold]   build a lab and print how to inspect it
  kbharness lab down [--force] ID           remove a lab and its state file
  kbharness lab ls                          list kbh- namespaces by lab

Run 'kbharness lab <up|down|ls> --help' for each one's flags.`

func runLab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, labUsage)
		return usagef("missing lab subcommand")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, labUsage)
		return nil
	case "up":
		return runLabUp(ctx, args[1:], stdout, stderr)
	case "down":
		return runLabDown(ctx, args[1:], stdout, stderr)
	case "ls":
		return runLabLs(args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, labUsage)
	return usagef("unknown lab subcommand %q", args[0])
}

const labUpUsage = `Usage: kbharness lab up [--fixture F] [--hold]

Builds a lab from a fixture, an embedded lab name or a lab YAML file (such as
one 'kbharness import' wrote for a customer host): a namespace for the host
under test and one per peer, joined by veth, addressed, with the fixture's
routes installed (persistent ones as proto static). Prints the namespaces and 'ip netns exec' commands to
inspect them. With --hold, keeps the lab until Ctrl-C or SIGTERM, then removes
it; without, leaves it for manual use ('kbharness cleanup' skips it) until
'kbharness lab down ID'.`

func runLabUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lab up", labUpUsage, stderr)
	fixture := fs.String("fixture", "default", "embedded lab name ("+strings.Join(fixtures.LabNames(), ", ")+") or path to a lab YAML file")
	hold := fs.Bool("hold", false, "keep the lab until Ctrl-C/SIGTERM, then remove it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	f, err := fixtures.LoadLab(*fixture)
	if err != nil {
		return badInput(err)
	}
	l, err := lab.New(ctx, f)
	if err != nil {
		return err
	}
	printLab(stdout, l)
	if !*hold {
		if err := l.Detach(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "remove with: kbharness lab down %s\n", l.ID)
		return nil
	}
	fmt.Fprintln(stdout, "holding; Ctrl-C or SIGTERM removes the lab")
	<-ctx.Done()
	if err := l.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed lab %s\n", l.ID)
	return nil
}

func printLab(w io.Writer, l *lab.Lab) {
	fmt.Fprintf(w, "lab %s (fixture %s)\n", l.ID, l.Fixture.Name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, role := range l.Roles() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", role, l.Namespaces[role], describeRole(l, role))
	}
	tw.Flush()
	if len(l.Fixture.Routes) > 0 {
		fmt.Fprintf(w, "  routes of %s:\n", lab.HostRole)
		for _, r := range l.Fixture.Routes {
			fmt.Fprintf(w, "    %s\n", lab.RouteString(l.Fixture, r))
		}
	}
	fmt.Fprintln(w, "inspect with:")
	for _, role := range l.Roles() {
		fmt.Fprintf(w, "  ip netns exec %s ip addr\n", l.Namespaces[role])
		fmt.Fprintf(w, "  ip netns exec %s ip route\n", l.Namespaces[role])
	}
}

// describeRole lists a role's interfaces with their addresses.
func describeRole(l *lab.Lab, role string) string {
	var parts []string
	for _, k := range l.Fixture.Links {
		name, addrs := k.Interface, k.Addresses
		if role != lab.HostRole {
			if k.Peer != role {
				continue
			}
			name, addrs = k.PeerInterface, k.PeerAddresses
		}
		s := name
		for _, a := range addrs {
			s += " " + a.String()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

const labDownUsage = `Usage: kbharness lab down [--force] ID

Removes the namespaces of lab ID (kbh-<pid>-<rand6>, as 'lab up' and 'lab ls'
print it) and its state file. Refuses a lab whose owning process still runs
(other than a kept lab left by 'lab up' without --hold) unless --force.`

func runLabDown(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lab down", labDownUsage, stderr)
	force := fs.Bool("force", false, "remove the lab even if its owning process still runs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("need exactly one lab ID, got %q", fs.Args())
	}
	id := fs.Arg(0)
	if _, _, ok := lab.ParseNamespace(id); !ok {
		return usagef("%q is not a lab ID (kbh-<pid>-<rand6>)", id)
	}
	infos, err := lab.List()
	if err != nil {
		return err
	}
	for _, in := range infos {
		if in.ID == id && in.Alive && !in.Kept && !*force {
			return fmt.Errorf("lab %s belongs to running process %d; stop it, or use --force", id, in.PID)
		}
	}
	removed, err := lab.Down(ctx, id)
	printRemoved(stdout, removed)
	return err
}

const labLsUsage = `Usage: kbharness lab ls

Lists the kbh- namespaces under /run/netns grouped by lab ID, with the owning
pid and its state: kept (left for manual use by 'lab up' without --hold),
alive (its owner runs) or dead (a leftover 'kbharness cleanup' removes).`

func runLabLs(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lab ls", labLsUsage, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	infos, err := lab.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPID\tSTATE\tNAMESPACES")
	for _, in := range infos {
		st := "dead"
		switch {
		case in.Kept:
			st = "kept"
		case in.Alive:
			st = "alive"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", in.ID, in.PID, st, strings.Join(in.Namespaces, " "))
	}
	return tw.Flush()
}
