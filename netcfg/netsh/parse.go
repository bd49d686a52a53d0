package netsh

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// Route is one row of `netsh interface ipv4|ipv6 show route`.
type Route struct {
	netcfg.Route        // Interface is the Gateway/Interface Name column when it is a name
	SourceLine   int    // 1-based line in the output
	Publish      string // Publish column as printed ("No", "Нет", "Non", "否")
	TypeText     string // Type column as printed ("Manual", "System", "Вручную", "Manuel")
	IfIndex      int    // Idx column
}

// routeTypes maps the Type column to Route.Protocol. Sources: English
// samples; ru-RU netsh/19 ("Вручную", "Система"); fr-FR netsh/20 ("Manuel",
// "Système"); zh-CN netsh/21 ("系统"; its "Manual" was not in the capture).
// An unlisted word is kept lower-cased as the Protocol.
var routeTypes = map[string]string{
	"manual": "manual", "system": "system",
	"вручную": "manual", "система": "system",
	"manuel": "manual", "système": "system",
	"系统": "system",
}

// ParseRoutes parses `netsh interface ipv4|ipv6 show route` (English or
// localized headers, with or without the dashed rule under the header).
//
// Met, Prefix and Idx are found by what they hold: a long /128 prefix
// overflows its column and pushes Idx and the name right, so their positions
// are not fixed. The text before Met holds Publish and Type, each of which
// may be several words in some language; it is cut at the Type column's
// start, taken from the dashed rule, or from the header labels when the rule
// is missing (the route table's header is aligned with its rule). The text
// after Idx is the Gateway/Interface Name column, whole. It becomes
// Route.Gateway when it is an address (Interface then stays "" and IfIndex
// names the interface) and Route.Interface otherwise (on-link). store is the
// store the command asked for (netsh does not print it).
func ParseRoutes(text string, store netcfg.Store) ([]Route, error) {
	var out []Route
	err := parseTable(text, isRouteRow, func(n int, line string, cols []wintext.Column) error {
		r, err := parseRouteRow(n, line, cols)
		if err != nil {
			return err
		}
		r.Store = store
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parsing netsh show route: %w", err)
	}
	return out, nil
}

// routeAnchors finds Met, Prefix and Idx among the fields of a route row:
// the first prefix (with a '/') that has a number before it and a number
// after it. It returns the index of Met.
func routeAnchors(f []field) (int, bool) {
	for k := 1; k+1 < len(f); k++ {
		if strings.Contains(f[k].s, "/") && isDigits(f[k-1].s) && isDigits(f[k+1].s) {
			if _, err := netip.ParsePrefix(f[k].s); err == nil {
				return k - 1, true
			}
		}
	}
	return 0, false
}

func isRouteRow(line string) bool {
	f := fields(line)
	met, ok := routeAnchors(f)
	return ok && met >= 2 && met+3 < len(f)
}

func parseRouteRow(n int, line string, cols []wintext.Column) (Route, error) {
	f := fields(line)
	met, ok := routeAnchors(f)
	if !ok || met < 2 || met+3 >= len(f) {
		return Route{}, fmt.Errorf("line %d: want Publish Type Met Prefix Idx Gateway/Name, got %q", n, strings.TrimSpace(line))
	}
	publish, typ, err := splitTwo(line[:f[met].at], cols, "Publish", "Type")
	if err != nil {
		return Route{}, fmt.Errorf("line %d: %w", n, err)
	}
	r := Route{SourceLine: n, Publish: publish, TypeText: typ}
	if r.Metric, err = wintext.ParseInt("Met", f[met].s); err != nil {
		return Route{}, fmt.Errorf("line %d: %w", n, err)
	}
	if r.Dst, err = netip.ParsePrefix(f[met+1].s); err != nil {
		return Route{}, fmt.Errorf("line %d: Prefix: %w", n, err)
	}
	if r.IfIndex, err = wintext.ParseInt("Idx", f[met+2].s); err != nil {
		return Route{}, fmt.Errorf("line %d: %w", n, err)
	}
	r.Protocol = routeTypes[strings.ToLower(typ)]
	if r.Protocol == "" {
		r.Protocol = strings.ToLower(typ)
	}
	rest := strings.TrimSpace(line[f[met+3].at:])
	if gw, err := netip.ParseAddr(rest); err == nil {
		r.Gateway = gw
	} else {
		r.Interface = rest
	}
	return r, nil
}

// splitTwo cuts the text of two adjacent leading columns (Publish and Type)
// into their values. Two words are the two values. More words are cut at the
// second column's start from the rule or header (cols); without columns, or
// when the cut leaves a value empty, it is an error naming both columns.
func splitTwo(text string, cols []wintext.Column, a, b string) (string, string, error) {
	f := fields(text)
	switch {
	case len(f) == 2:
		return f[0].s, f[1].s, nil
	case len(f) > 2 && len(cols) >= 2:
		cells := wintext.Cut(text, cols[:2], wintext.Runes)
		if cells[0] != "" && cells[1] != "" {
			return cells[0], cells[1], nil
		}
	}
	return "", "", fmt.Errorf("cannot tell the %s column from the %s column in %q", a, b, strings.TrimSpace(text))
}

// Interface is one row of `netsh interface ipv4|ipv6 show interfaces`.
type Interface struct {
	Idx   int
	Met   uint32 // interface metric, a ULONG
	MTU   uint32 // 4294967295 on the loopback pseudo-interface
	State string // "connected", "disconnected" (as printed; ru-RU prints them in English too)
	Name  string // may be longer than the dashed column
}

// ParseInterfaces parses `netsh interface ipv4|ipv6 show interfaces`, with
// or without the dashed rule under the header.
//
// Idx, Met and MTU are numbers. State and Name are text and may hold
// several words: they are split at the first run of two or more spaces
// after MTU, since netsh pads State to its column and separates columns by
// two spaces. The header cannot give positions here: its labels are not
// aligned with the columns (English "State" and "Name", and ru-RU's
// "Состояние" and "Имя", sit right of the values, netsh/05, netsh/22).
func ParseInterfaces(text string) ([]Interface, error) {
	var out []Interface
	err := parseTable(text, isInterfaceRow, func(n int, line string, _ []wintext.Column) error {
		ifc, err := parseInterfaceRow(n, line)
		if err != nil {
			return err
		}
		out = append(out, ifc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parsing netsh show interfaces: %w", err)
	}
	return out, nil
}

func isInterfaceRow(line string) bool {
	f := fields(line)
	return len(f) >= 5 && isDigits(f[0].s) && isDigits(f[1].s) && isDigits(f[2].s)
}

func parseInterfaceRow(n int, line string) (Interface, error) {
	f := fields(line)
	if len(f) < 5 {
		return Interface{}, fmt.Errorf("line %d: want Idx Met MTU State Name, got %q", n, strings.TrimSpace(line))
	}
	idx, err1 := wintext.ParseInt("Idx", f[0].s)
	met, err2 := wintext.ParseUint32("Met", f[1].s)
	mtu, err3 := wintext.ParseUint32("MTU", f[2].s)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Interface{}, fmt.Errorf("line %d: %w", n, err)
	}
	rest := strings.TrimSpace(line[f[3].at:])
	state, name, ok := cutGutter(rest)
	if !ok {
		return Interface{}, fmt.Errorf("line %d: cannot tell the State column from the Name column in %q (no two-space gap)", n, rest)
	}
	return Interface{Idx: idx, Met: met, MTU: mtu, State: state, Name: name}, nil
}

// cutGutter splits s at its first run of two or more blanks.
func cutGutter(s string) (string, string, bool) {
	for i := 0; i+1 < len(s); i++ {
		if isBlank(s[i]) && isBlank(s[i+1]) {
			return s[:i], strings.TrimSpace(s[i:]), true
		}
	}
	return "", "", false
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// parseTable walks a netsh table: a header line, the dashed rule (optional:
// some copies lost it), then rows. With a rule, every non-blank line after
// it is a row; without, the table starts at the first line isRow accepts and
// the header is the last non-blank line before it. Columns come from the
// rule and the header above it, else from the header's labels; row gets them
// to cut text columns. A line inside the table that is not a row is an
// error naming it.
func parseTable(text string, isRow func(string) bool, row func(n int, line string, cols []wintext.Column) error) error {
	lines := wintext.SplitLines(text)
	start, header := -1, ""
	var cols []wintext.Column
	for i, l := range lines {
		if wintext.IsRule(l) {
			if i > 0 {
				header = lines[i-1]
			}
			cols, start = wintext.RuleColumns(header, l, wintext.Runes), i+1
			break
		}
	}
	if start < 0 {
		for i, l := range lines {
			if isRow(l) {
				start = i
				break
			}
			if strings.TrimSpace(l) != "" {
				header = l
			}
		}
		if start < 0 {
			return errors.New("no table found (neither a dashed header rule nor a row)")
		}
		if header != "" {
			cols = wintext.HeaderColumns(header, wintext.Runes)
		}
	}
	for i := start; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "" {
			continue
		}
		if err := row(i+1, lines[i], cols); err != nil {
			return err
		}
	}
	return nil
}

// field is a whitespace-separated word of a line and its byte offset.
type field struct {
	s  string
	at int
}

func fields(line string) []field {
	var out []field
	for i := 0; i < len(line); {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		j := i
		for j < len(line) && !isBlank(line[j]) {
			j++
		}
		if j > i {
			out = append(out, field{line[i:j], i})
		}
		i = j
	}
	return out
}

func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// dynamicPortLabels are the two labels of `show dynamicport` in the display
// languages we have captures of, lower-cased.
var dynamicPortLabels = []struct{ start, num string }{
	{"start port", "number of ports"},
	{"port de démarrage", "nombre de ports"},
}

// ErrUnknownLabel matches errors for localized output whose labels this
// package does not know.
var ErrUnknownLabel = errors.New("unrecognised netsh label")

// ParseDynamicPort parses `netsh interface ipv4 show dynamicport tcp`:
//
//	Protocol tcp Dynamic Port Range
//	---------------------------------
//	Start Port      : 49152
//	Number of Ports : 16384
//
// in English or French, typed at an interactive `netsh interface ipv4>`
// prompt, or with a log prefix before every line (Packer's "    vhd: ").
// Unknown labels give an error matching ErrUnknownLabel.
func ParseDynamicPort(text string) (DynamicPortRange, error) {
	r := DynamicPortRange{Start: -1, Num: -1}
	var unknown []string
	for i, line := range wintext.SplitLines(text) {
		key, val, ok := lastColon(line)
		if !ok {
			continue
		}
		v, err := strconv.Atoi(val)
		if err != nil {
			continue
		}
		switch dynamicPortField(key) {
		case "start":
			r.Start = v
		case "num":
			r.Num = v
		default:
			unknown = append(unknown, fmt.Sprintf("line %d %q", i+1, strings.TrimSpace(key)))
		}
	}
	switch {
	case r.Start < 0 && r.Num < 0 && len(unknown) > 0:
		return DynamicPortRange{}, fmt.Errorf("parsing netsh show dynamicport: %w: %s", ErrUnknownLabel, strings.Join(unknown, ", "))
	case r.Start < 0:
		return DynamicPortRange{}, errors.New("parsing netsh show dynamicport: no Start Port line")
	case r.Num < 0:
		return DynamicPortRange{}, errors.New("parsing netsh show dynamicport: no Number of Ports line")
	}
	if err := r.Validate(); err != nil {
		return DynamicPortRange{}, fmt.Errorf("parsing netsh show dynamicport: %w", err)
	}
	return r, nil
}

func dynamicPortField(key string) string {
	k := strings.ToLower(strings.TrimSpace(key))
	for _, l := range dynamicPortLabels {
		switch {
		case strings.HasSuffix(k, l.start):
			return "start"
		case strings.HasSuffix(k, l.num):
			return "num"
		}
	}
	return ""
}

// lastColon splits "key : value" at the last colon.
func lastColon(line string) (key, val string, ok bool) {
	i := strings.LastIndex(line, ":")
	if i < 0 {
		return "", "", false
	}
	return line[:i], strings.TrimSpace(line[i+1:]), true
}

func isDashes(line string) bool { return wintext.IsRule(line) }
