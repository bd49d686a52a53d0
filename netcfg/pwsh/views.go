package pwsh

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// Field is one "Name : Value" line of a Format-List view.
type Field struct {
	Name, Value string
	Line        int
}

// Record is one object of a Format-List view.
type Record []Field

// Get returns the value of the named property and whether it is present.
func (r Record) Get(name string) (string, bool) {
	for _, f := range r {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// ParseList parses PowerShell's Format-List view (the default view of
// Get-NetIPAddress and New-NetIPAddress): records separated by blank lines,
// "Name : Value" lines, long values wrapped onto indented lines. A property
// name with a space in it is damaged output and an error naming the line.
func ParseList(text string) ([]Record, error) {
	var out []Record
	var cur Record
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	for i, line := range wintext.SplitLines(text) {
		n := i + 1
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if len(cur) > 0 && (line[0] == ' ' || line[0] == '\t') && !strings.Contains(line, " : ") {
			cur[len(cur)-1].Value += " " + strings.TrimSpace(line) // wrapped value
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("parsing Format-List: line %d: no \"Name : Value\" in %q", n, strings.TrimSpace(line))
		}
		if strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("parsing Format-List: line %d: property name %q contains a space (damaged output?)", n, name)
		}
		cur = append(cur, Field{Name: name, Value: strings.TrimSpace(value), Line: n})
	}
	flush()
	if len(out) == 0 {
		return nil, errors.New("parsing Format-List: no records")
	}
	return out, nil
}

// ParseAddressList parses the Format-List view of Get-NetIPAddress /
// New-NetIPAddress into addresses. New-NetIPAddress without -PolicyStore
// prints the address twice: once per store (PolicyStore ActiveStore and
// PersistentStore).
func ParseAddressList(text string) ([]Address, error) {
	recs, err := ParseList(text)
	if err != nil {
		return nil, err
	}
	out := make([]Address, 0, len(recs))
	for _, r := range recs {
		a, err := addressFromRecord(r)
		if err != nil {
			return nil, fmt.Errorf("parsing Get-NetIPAddress list: record at line %d: %w", r[0].Line, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func addressFromRecord(r Record) (Address, error) {
	get := func(name string) string { v, _ := r.Get(name); return v }
	ip, ok := r.Get("IPAddress")
	if !ok {
		return Address{}, errors.New("no IPAddress property")
	}
	a, err := newAddress(ip, get("PrefixLength"), get("InterfaceAlias"), get("PrefixOrigin"), get("AddressState"))
	if err != nil {
		return Address{}, err
	}
	if v, ok := r.Get("InterfaceIndex"); ok {
		if a.IfIndex, err = wintext.ParseInt("InterfaceIndex", v); err != nil {
			return Address{}, err
		}
	}
	if v, ok := r.Get("PolicyStore"); ok {
		if a.Store, ok = storeOf(v); !ok {
			return Address{}, fmt.Errorf("PolicyStore %q: want ActiveStore or PersistentStore", v)
		}
	}
	return a, nil
}

// storeOf maps a PolicyStore value; a value Format-Table truncated
// ("Persiste...") maps when its prefix names exactly one store.
func storeOf(v string) (netcfg.Store, bool) {
	stores := map[string]netcfg.Store{"ActiveStore": netcfg.StoreActive, "PersistentStore": netcfg.StorePersistent}
	if s, ok := stores[v]; ok {
		return s, true
	}
	if !strings.HasSuffix(v, "...") && !strings.HasSuffix(v, "\u2026") {
		return "", false
	}
	prefix := strings.TrimRight(v, ".\u2026")
	var found []netcfg.Store
	for name, s := range stores {
		if prefix != "" && strings.HasPrefix(name, prefix) {
			found = append(found, s)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return "", false
}

// Cell is one value of a Format-Table view.
type Cell struct {
	Text string
	// Truncated: Format-Table cut the value to the column and marked the cut
	// with an ellipsis, "..." (Windows PowerShell 5.1) or "…" (PowerShell 7),
	// at the end of a left-aligned value or the start of a right-aligned one
	// (TableWriter.GenerateRowField). Text keeps the ellipsis.
	Truncated bool
}

// TableRow is one row of a Format-Table view, by column header.
type TableRow struct {
	Line  int
	Cells map[string]Cell
}

// ParseTable parses a Format-Table view: a header line, a rule of dash runs
// that gives the column positions, then rows. Positions are console cells,
// the unit Format-Table pads in (an East Asian wide character is two cells:
// a zh-CN alias "以太网 2" is eight cells, five runes, testdata/09). A value
// is the text from the start of its column's dash run to the start of the
// next one; a right-aligned value wider than its header starts before its
// run and is taken whole (see wintext.Cut).
func ParseTable(text string) ([]string, []TableRow, error) {
	lines := wintext.SplitLines(text)
	rule := -1
	for i, l := range lines {
		if wintext.IsRule(l) {
			rule = i
			break
		}
	}
	if rule < 1 {
		return nil, nil, errors.New("parsing Format-Table: no header and dashed rule found")
	}
	cols := wintext.RuleColumns(lines[rule-1], lines[rule], wintext.Cells)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Name
	}
	var rows []TableRow
	for i := rule + 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "" {
			continue
		}
		row := TableRow{Line: i + 1, Cells: map[string]Cell{}}
		for c, v := range wintext.Cut(lines[i], cols, wintext.Cells) {
			row.Cells[header[c]] = Cell{Text: v, Truncated: truncated(v)}
		}
		rows = append(rows, row)
	}
	return header, rows, nil
}

func truncated(v string) bool {
	for _, e := range []string{"...", "\u2026"} {
		if strings.HasSuffix(v, e) || strings.HasPrefix(v, e) {
			return true
		}
	}
	return false
}

// TableRoute is a row of the default Get-NetRoute table view
// (ifIndex DestinationPrefix NextHop RouteMetric ifMetric PolicyStore).
type TableRoute struct {
	Route
	InterfaceMetric uint32 // ifMetric, a ULONG
	// Unreliable names the columns that could not be read (truncated or
	// empty); their fields keep zero values.
	Unreliable []string
}

// ParseRouteTable parses the default Format-Table view of Get-NetRoute. A
// PolicyStore cut to "Persiste..." still maps to the persistent store (the
// prefix names one store); a truncated DestinationPrefix or NextHop is an
// error, since the route cannot be known.
func ParseRouteTable(text string) ([]TableRoute, error) {
	_, rows, err := ParseTable(text)
	if err != nil {
		return nil, err
	}
	out := make([]TableRoute, 0, len(rows))
	for _, row := range rows {
		r, err := routeFromRow(row)
		if err != nil {
			return nil, fmt.Errorf("parsing Get-NetRoute table: line %d: %w", row.Line, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func routeFromRow(row TableRow) (TableRoute, error) {
	var r TableRoute
	for _, col := range []string{"DestinationPrefix", "NextHop"} {
		if c := row.Cells[col]; c.Truncated || c.Text == "" {
			return r, fmt.Errorf("%s %q is truncated or missing", col, c.Text)
		}
	}
	dst, err := netip.ParsePrefix(row.Cells["DestinationPrefix"].Text)
	if err != nil {
		return r, fmt.Errorf("DestinationPrefix: %w", err)
	}
	gw, err := netip.ParseAddr(row.Cells["NextHop"].Text)
	if err != nil {
		return r, fmt.Errorf("NextHop: %w", err)
	}
	r.Dst = dst
	if !gw.IsUnspecified() {
		r.Gateway = gw
	}
	r.IfIndex = r.intCell(row, "ifIndex")
	r.Metric = r.intCell(row, "RouteMetric")
	if v, err := wintext.ParseUint32("ifMetric", row.Cells["ifMetric"].Text); err == nil {
		r.InterfaceMetric = v
	} else {
		r.Unreliable = append(r.Unreliable, "ifMetric")
	}
	if s, ok := storeOf(row.Cells["PolicyStore"].Text); ok {
		r.Store = s
	} else {
		r.Unreliable = append(r.Unreliable, "PolicyStore")
	}
	return r, nil
}

// intCell reads an unsigned integer column into an int, noting it as
// unreliable if it cannot (truncated, empty, or too big for int).
func (r *TableRoute) intCell(row TableRow, col string) int {
	v, err := wintext.ParseInt(col, row.Cells[col].Text)
	if err != nil {
		r.Unreliable = append(r.Unreliable, col)
	}
	return v
}

// IPInterface is a row of the default Get-NetIPInterface table view.
type IPInterface struct {
	IfIndex         int
	Alias           string
	Family          netcfg.Family
	MTU             uint32 // NlMtu, a ULONG (4294967295 on loopback); 0 when empty (PersistentStore rows print none)
	InterfaceMetric uint32 // a ULONG; 0 when empty
	Dhcp            string
	ConnectionState string
	Store           netcfg.Store
	Unreliable      []string // columns that could not be read (truncated or empty)
}

// ParseIPInterfaceTable parses the default Format-Table view of
// Get-NetIPInterface (ifIndex InterfaceAlias AddressFamily NlMtu(Bytes)
// InterfaceMetric Dhcp ConnectionState PolicyStore).
func ParseIPInterfaceTable(text string) ([]IPInterface, error) {
	_, rows, err := ParseTable(text)
	if err != nil {
		return nil, err
	}
	out := make([]IPInterface, 0, len(rows))
	for _, row := range rows {
		i, err := ipInterfaceFromRow(row)
		if err != nil {
			return nil, fmt.Errorf("parsing Get-NetIPInterface table: line %d: %w", row.Line, err)
		}
		out = append(out, i)
	}
	return out, nil
}

func ipInterfaceFromRow(row TableRow) (IPInterface, error) {
	var i IPInterface
	idx, err := wintext.ParseInt("ifIndex", row.Cells["ifIndex"].Text)
	if err != nil {
		return i, err
	}
	i.IfIndex = idx
	i.Alias = row.Cells["InterfaceAlias"].Text
	switch row.Cells["AddressFamily"].Text {
	case "IPv4":
		i.Family = netcfg.IPv4
	case "IPv6":
		i.Family = netcfg.IPv6
	default:
		i.Unreliable = append(i.Unreliable, "AddressFamily")
	}
	for col, dst := range map[string]*uint32{"NlMtu(Bytes)": &i.MTU, "InterfaceMetric": &i.InterfaceMetric} {
		if v := row.Cells[col].Text; v != "" {
			if *dst, err = wintext.ParseUint32(col, v); err != nil {
				return i, err
			}
		}
	}
	i.Dhcp, i.ConnectionState = row.Cells["Dhcp"].Text, row.Cells["ConnectionState"].Text
	if s, ok := storeOf(row.Cells["PolicyStore"].Text); ok {
		i.Store = s
	} else {
		i.Unreliable = append(i.Unreliable, "PolicyStore")
	}
	for _, col := range []string{"InterfaceAlias", "Dhcp", "ConnectionState"} {
		if row.Cells[col].Truncated {
			i.Unreliable = append(i.Unreliable, col)
		}
	}
	return i, nil
}
