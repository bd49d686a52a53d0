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
	Publish      string // Publish column as printed ("No", "Нет")
	TypeText     string // Type column as printed ("Manual", "System", "Вручную")
	IfIndex      int    // Idx column
}

// routeTypes maps the Type column (English, Russian) to Route.Protocol.
var routeTypes = map[string]string{
	"manual": "manual", "system": "system",
	"вручную": "manual", "система": "system",
}

// ParseRoutes parses `netsh interface ipv4|ipv6 show route` (English or
// localized headers). Rows are read by whitespace-separated fields, not
// column positions: long /128 prefixes push Idx and the name to the right.
// The Gateway/Interface Name column becomes Route.Gateway when it is an
// address (Interface then stays "" and IfIndex names the interface) and
// Route.Interface otherwise (on-link). store is the store the command asked
// for (netsh does not print it).
func ParseRoutes(text string, store netcfg.Store) ([]Route, error) {
	var out []Route
	inTable := false
	for i, line := range wintext.SplitLines(text) {
		n := i + 1
		switch {
		case isDashes(line):
			inTable = true
		case !inTable || strings.TrimSpace(line) == "":
		default:
			r, err := parseRouteRow(n, line)
			if err != nil {
				return nil, fmt.Errorf("parsing netsh show route: %w", err)
			}
			r.Store = store
			out = append(out, r)
		}
	}
	if !inTable {
		return nil, errors.New("parsing netsh show route: no table (dashed header rule) found")
	}
	return out, nil
}

func parseRouteRow(n int, line string) (Route, error) {
	f, rest := cutFields(line, 5)
	if len(f) < 5 || rest == "" {
		return Route{}, fmt.Errorf("line %d: want Publish Type Met Prefix Idx Gateway/Name, got %q", n, strings.TrimSpace(line))
	}
	r := Route{SourceLine: n, Publish: f[0], TypeText: f[1]}
	var err error
	if r.Metric, err = strconv.Atoi(f[2]); err != nil {
		return Route{}, fmt.Errorf("line %d: Met %q: not a number", n, f[2])
	}
	if r.Dst, err = netip.ParsePrefix(f[3]); err != nil {
		return Route{}, fmt.Errorf("line %d: Prefix: %w", n, err)
	}
	if r.IfIndex, err = strconv.Atoi(f[4]); err != nil {
		return Route{}, fmt.Errorf("line %d: Idx %q: not a number", n, f[4])
	}
	r.Protocol = routeTypes[strings.ToLower(f[1])]
	if r.Protocol == "" {
		r.Protocol = strings.ToLower(f[1])
	}
	if gw, err := netip.ParseAddr(rest); err == nil {
		r.Gateway = gw
	} else {
		r.Interface = rest
	}
	return r, nil
}

// Interface is one row of `netsh interface ipv4|ipv6 show interfaces`.
type Interface struct {
	Idx   int
	Met   int
	MTU   uint32 // 4294967295 on the loopback pseudo-interface
	State string // "connected", "disconnected" (as printed)
	Name  string // may be longer than the dashed column
}

// ParseInterfaces parses `netsh interface ipv4|ipv6 show interfaces`.
func ParseInterfaces(text string) ([]Interface, error) {
	var out []Interface
	inTable := false
	for i, line := range wintext.SplitLines(text) {
		switch {
		case isDashes(line):
			inTable = true
		case !inTable || strings.TrimSpace(line) == "":
		default:
			ifc, err := parseInterfaceRow(i+1, line)
			if err != nil {
				return nil, fmt.Errorf("parsing netsh show interfaces: %w", err)
			}
			out = append(out, ifc)
		}
	}
	if !inTable {
		return nil, errors.New("parsing netsh show interfaces: no table (dashed header rule) found")
	}
	return out, nil
}

func parseInterfaceRow(n int, line string) (Interface, error) {
	f, name := cutFields(line, 4)
	if len(f) < 4 || name == "" {
		return Interface{}, fmt.Errorf("line %d: want Idx Met MTU State Name, got %q", n, strings.TrimSpace(line))
	}
	idx, err1 := strconv.Atoi(f[0])
	met, err2 := strconv.Atoi(f[1])
	mtu, err3 := strconv.ParseUint(f[2], 10, 32)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Interface{}, fmt.Errorf("line %d: Idx/Met/MTU %q %q %q: %w", n, f[0], f[1], f[2], err)
	}
	return Interface{Idx: idx, Met: met, MTU: uint32(mtu), State: f[3], Name: name}, nil
}

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

// cutFields returns the first n whitespace-separated fields of line and the
// rest of the line after them, trimmed (names keep their inner spacing).
func cutFields(line string, n int) ([]string, string) {
	var f []string
	s := strings.TrimSpace(line)
	for len(f) < n && s != "" {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			f, s = append(f, s), ""
			break
		}
		f = append(f, s[:end])
		s = strings.TrimLeft(s[end:], " \t")
	}
	return f, s
}

func isDashes(line string) bool {
	s := strings.TrimSpace(line)
	return s != "" && strings.Trim(s, "- ") == "" && strings.HasPrefix(s, "---")
}
