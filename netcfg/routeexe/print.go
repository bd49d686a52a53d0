package routeexe

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kbharness/kbharness/netcfg"
	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// Interface is one entry of the "Interface List" of `route print`:
//
//	14...00 1c 42 98 16 7d ......Intel(R) PRO/1000 MT Network Connection
//	0x2 ...00 19 b9 2b d0 d1 ...... Intel(R) 82566DM ...   (XP)
type Interface struct {
	Index       int    // IfIndex; XP prints it in hex (0x2)
	MAC         string // lower-case colon form ("00:1c:42:98:16:7d"); "" when none is printed
	Description string // adapter description (not the alias); 80-column wraps joined
}

// Row is one route row of `route print`, with the columns as printed.
type Row struct {
	Line   int // 1-based line number in the output
	Family netcfg.Family
	Store  netcfg.Store // section: "Active Routes:" or "Persistent Routes:"
	Dst    netip.Prefix
	// Gateway is the next hop; invalid when the Gateway column holds the
	// on-link word ("On-link", "Auf Verbindung", "在链路上", ...).
	Gateway     netip.Addr
	GatewayText string // the Gateway column as printed
	// OnLink: the gateway column holds the on-link word, or (XP) the gateway
	// equals the interface address.
	OnLink bool
	// InterfaceIP is the Interface column of IPv4 active rows.
	InterfaceIP netip.Addr
	// IfIndex is the "If" column of IPv6 rows, or an XP IPv4 row whose
	// Interface column holds an index ("3") instead of an address.
	IfIndex int
	// Metric as printed: for active rows the effective metric (route metric
	// plus interface metric); for persistent rows the route metric.
	Metric int
	// DefaultMetric: a persistent row whose Metric column says "Default"
	// (localized: "Par défaut", "默认", ...). Metric is then 0 and MetricText
	// holds the word as printed.
	DefaultMetric bool
	MetricText    string
}

// Table is the parsed output of `route print`.
type Table struct {
	Interfaces []Interface
	Rows       []Row
	// DefaultGateway is the XP-era "Default Gateway:" line; invalid if absent.
	DefaultGateway netip.Addr
}

// ErrUnknownLabel matches a *LabelError.
var ErrUnknownLabel = errors.New("unrecognised route print section label")

// LabelError reports a section label that ParsePrint does not know (an
// unlisted display language), so it cannot tell active rows from persistent
// ones. It matches ErrUnknownLabel with errors.Is.
type LabelError struct {
	Line int
	Text string
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("line %d: section label %q is not a known (localized) \"Active Routes:\" or \"Persistent Routes:\": cannot tell active from persistent rows", e.Line, e.Text)
}

// Is makes errors.Is(err, ErrUnknownLabel) true.
func (e *LabelError) Is(target error) bool { return target == ErrUnknownLabel }

// sectionLabels maps the section labels of the display languages we have
// real captures of, lower-cased and without the colon, to the store they
// introduce. Sources (testdata/README.md has the full list):
//
//	en     every English sample
//	de     02 (apache/plc4x RawIpSocket.java comment, Windows 7 de-DE)
//	fr     05 (jackpal/gateway windowsLocalized.txt), 27 (Ynov TP notes, Windows 10)
//	es     28 (Spanish Puppet course notes, Windows 7, code-search file id 37520207565)
//	it     29 (Italian OpenVPN notes, Windows 10/11, code-search file id 24180864584)
//	pt-BR  30, 31 (Brazilian command notes, code-search file ids 8397126123, 14996359966)
//	ru     26 (Russian lab notes)
//	zh-CN  22, 23 (Chinese captures)
//	ja     32 (IBM Cloud docs capture; "アクティブ ルート:" only: no real capture
//	       of the persistent label was found, so a full ja-JP `route print`
//	       still stops at it with a LabelError)
//
// Not covered (no real capture found): pt-PT, zh-TW, ko, pl, nl, sv, tr and
// the ja-JP persistent label. Their labels give a LabelError.
var sectionLabels = map[string]netcfg.Store{
	"active routes":           netcfg.StoreActive,
	"aktive routen":           netcfg.StoreActive,
	"itinéraires actifs":      netcfg.StoreActive,
	"rutas activas":           netcfg.StoreActive,
	"route attive":            netcfg.StoreActive,
	"rotas ativas":            netcfg.StoreActive,
	"активные маршруты":       netcfg.StoreActive,
	"活动路由":                    netcfg.StoreActive,
	"アクティブ ルート":               netcfg.StoreActive,
	"persistent routes":       netcfg.StorePersistent,
	"ständige routen":         netcfg.StorePersistent,
	"itinéraires persistants": netcfg.StorePersistent,
	"rutas persistentes":      netcfg.StorePersistent,
	"route permanenti":        netcfg.StorePersistent,
	"rotas persistentes":      netcfg.StorePersistent,
	"постоянные маршруты":     netcfg.StorePersistent,
	"永久路由":                    netcfg.StorePersistent,
}

// onLinkWords are the Gateway column's on-link phrases, lower-cased, from
// the same captures: "On-link" (en; also printed by fr-FR, it-IT and ru-RU
// Windows 10), "Auf Verbindung" (de, 02), "En vínculo" (es, 28), "No
// vínculo" (pt-BR, 30), "在链路上" (zh-CN, 22). A row's gateway that is not an
// address is on-link whatever it says; these are only needed to split a
// persistent row whose gateway and metric are both words.
var onLinkWords = []string{"on-link", "auf verbindung", "en vínculo", "no vínculo", "在链路上"}

// defaultWords are the persistent Metric column's "Default", lower-cased:
// "Default" (en), "Par défaut" (fr, 27), "Predeterminada" (es, 28), "Padrão"
// (pt-BR, 31), "默认" (zh-CN, 22).
var defaultWords = []string{"default", "par défaut", "predeterminada", "padrão", "默认"}

// ParsePrint parses the output of `route print` (any of -4/-6) or
// `netstat -r`: the interface list, the IPv4 and IPv6 active routes and the
// "Persistent Routes:" sections.
//
// Rows are read by what their columns hold, not by the header's column
// positions, because route.exe's headers do not give them: its columns are
// right-aligned under left-aligned labels, localized labels are not padded
// to the columns (zh-CN's double-width labels drift several cells, 22), and
// the ru-RU IPv6 header has no "If" label at all (26). Addresses and numbers
// anchor every column, so the only free-text columns (the on-link Gateway
// phrase and the persistent "Default" metric) are found between them and
// stay whole however many words they have; see ipv4Row. Localized headers,
// CJK text, tabs, CRLF, blank-line-doubled pastes and IPv6 rows whose
// gateway wraps to the next line all parse. Section labels must be known
// (see sectionLabels and LabelError).
func ParsePrint(text string) (*Table, error) {
	p := &printParser{t: &Table{}}
	for i, line := range wintext.SplitLines(text) {
		if err := p.line(i+1, line); err != nil {
			return nil, fmt.Errorf("parsing route print: %w", err)
		}
	}
	if p.pending != nil {
		return nil, fmt.Errorf("parsing route print: line %d: IPv6 route %s has no gateway", p.pending.Line, p.pending.Dst)
	}
	if !p.recognised {
		return nil, errors.New("parsing route print: no interface list, route rows or section labels found")
	}
	return p.t, nil
}

type printParser struct {
	t          *Table
	store      netcfg.Store // current section; "" before the first label
	inIfList   bool         // after an interface entry, before the next ruler
	pending    *Row         // IPv6 row waiting for its wrapped gateway line
	recognised bool
}

func (p *printParser) line(n int, line string) error {
	s := strings.TrimSpace(line)
	switch {
	case s == "":
		return nil
	case p.pending != nil:
		return p.wrappedGateway(n, s)
	case strings.Trim(s, "=") == "":
		p.inIfList = false
		return nil
	}
	if ifc, ok := parseInterfaceEntry(line); ok {
		p.t.Interfaces = append(p.t.Interfaces, ifc)
		p.inIfList, p.recognised = true, true
		return nil
	}
	if p.inIfList {
		// An 80-column console wrap of the previous description.
		last := &p.t.Interfaces[len(p.t.Interfaces)-1]
		last.Description += strings.TrimRight(line, " \t")
		return nil
	}
	fields := strings.Fields(s)
	if isIPv4Row(fields) {
		return p.ipv4Row(n, fields)
	}
	if isIPv6Row(fields) {
		return p.ipv6Row(n, fields)
	}
	if gw, ok := defaultGatewayLine(s, fields); ok {
		p.t.DefaultGateway = gw
		return nil
	}
	if label, ok := sectionLabel(s); ok {
		return p.section(n, s, label)
	}
	return nil // titles, column headers, "None"/"Keine"/"无"
}

func (p *printParser) section(n int, raw, label string) error {
	store, ok := sectionLabels[label]
	if !ok {
		return &LabelError{Line: n, Text: raw}
	}
	p.store, p.recognised = store, true
	return nil
}

func (p *printParser) requireSection(n int) error {
	if p.store == "" {
		return fmt.Errorf("line %d: route row before any \"Active Routes:\" or \"Persistent Routes:\" label", n)
	}
	return nil
}

// ipv4Row parses
//
//	DEST MASK GATEWAY INTERFACE METRIC   (active)
//	DEST MASK GATEWAY METRIC             (persistent)
//
// Columns are found by what they hold, not where they are (route.exe
// right-aligns its columns, and localized headers, CJK ones especially, do
// not line up with the rows). The two columns that hold words may hold
// several: GATEWAY the on-link phrase ("Auf Verbindung", "En vínculo"), the
// persistent METRIC "Default" ("Par défaut"). An active row's INTERFACE and
// METRIC are its last two fields. A persistent row's GATEWAY is one address
// and METRIC the rest; a persistent row whose GATEWAY is a phrase is split
// at its numeric last field, or at a known on-link phrase, and is an error
// otherwise.
func (p *printParser) ipv4Row(n int, f []string) error {
	if err := p.requireSection(n); err != nil {
		return err
	}
	r := Row{Line: n, Family: netcfg.IPv4, Store: p.store}
	dst, err := prefixFromMask(f[0], f[1])
	if err != nil {
		return fmt.Errorf("line %d: %w", n, err)
	}
	r.Dst = dst
	var gw, metric string
	if p.store == netcfg.StoreActive {
		if len(f) < 5 {
			return fmt.Errorf("line %d: active IPv4 row has %d columns, want 5", n, len(f))
		}
		last := len(f) - 1
		if err := r.setInterface(f[last-1]); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		gw, metric = strings.Join(f[2:last-1], " "), f[last]
	} else if gw, metric, err = splitPersistent(f[2:]); err != nil {
		return fmt.Errorf("line %d: %w", n, err)
	}
	r.setGateway(gw)
	if err := r.setMetric(metric); err != nil {
		return fmt.Errorf("line %d: %w", n, err)
	}
	p.t.Rows = append(p.t.Rows, r)
	p.recognised = true
	return nil
}

// splitPersistent splits the fields after DEST MASK of a persistent row
// into the Gateway and the Metric column.
func splitPersistent(f []string) (gw, metric string, err error) {
	if _, err := netip.ParseAddr(f[0]); err == nil {
		return f[0], strings.Join(f[1:], " "), nil
	}
	last := len(f) - 1
	if _, err := strconv.ParseUint(f[last], 10, 64); err == nil {
		return strings.Join(f[:last], " "), f[last], nil
	}
	rest := strings.Join(f, " ")
	for _, w := range onLinkWords {
		if len(rest) > len(w) && strings.EqualFold(rest[:len(w)], w) && rest[len(w)] == ' ' {
			return rest[:len(w)], rest[len(w)+1:], nil
		}
	}
	return "", "", fmt.Errorf("persistent row %q: cannot tell the Gateway column from the Metric column (neither an address nor a known on-link phrase)", rest)
}

// ipv6Row parses "IF METRIC PREFIX [GATEWAY]"; a long prefix pushes the
// gateway to the next line.
func (p *printParser) ipv6Row(n int, f []string) error {
	if err := p.requireSection(n); err != nil {
		return err
	}
	dst, err := netip.ParsePrefix(f[2])
	if err != nil {
		return fmt.Errorf("line %d: Network Destination: %w", n, err)
	}
	r := Row{Line: n, Family: netcfg.IPv6, Store: p.store, Dst: dst}
	if r.IfIndex, err = wintext.ParseInt("If", f[0]); err != nil {
		return fmt.Errorf("line %d: %w", n, err)
	}
	if r.Metric, err = wintext.ParseInt("Metric", f[1]); err != nil {
		return fmt.Errorf("line %d: %w", n, err)
	}
	p.recognised = true
	if len(f) == 3 {
		p.pending = &r
		return nil
	}
	r.setGateway(strings.Join(f[3:], " "))
	p.t.Rows = append(p.t.Rows, r)
	return nil
}

func (p *printParser) wrappedGateway(n int, s string) error {
	r := *p.pending
	p.pending = nil
	if isIPv6Row(strings.Fields(s)) || strings.Trim(s, "=") == "" {
		return fmt.Errorf("line %d: IPv6 route %s (line %d) has no gateway", n, r.Dst, r.Line)
	}
	r.setGateway(s)
	p.t.Rows = append(p.t.Rows, r)
	return nil
}

func (r *Row) setGateway(text string) {
	r.GatewayText = text
	if a, err := netip.ParseAddr(text); err == nil {
		r.Gateway = a
		// XP writes on-link routes with the interface address as gateway.
		r.OnLink = r.InterfaceIP.IsValid() && a == r.InterfaceIP
		return
	}
	r.OnLink = true
}

func (r *Row) setInterface(text string) error {
	if a, err := netip.ParseAddr(text); err == nil && a.Is4() {
		r.InterfaceIP = a
		return nil
	}
	v, err := wintext.ParseUint32("Interface", text)
	if err != nil {
		return fmt.Errorf("Interface column %q is neither an IPv4 address nor an index", text)
	}
	r.IfIndex, err = wintext.Int("Interface", v)
	return err
}

// setMetric reads the Metric column: a ULONG (route metric plus interface
// metric, up to 4294967295), or, in a persistent row, the word "Default"
// in any language (the only word that column holds).
func (r *Row) setMetric(text string) error {
	if isDigits(text) {
		m, err := wintext.ParseInt("Metric", text)
		if err != nil {
			return err
		}
		r.Metric = m
		return nil
	}
	if r.Store == netcfg.StorePersistent && text != "" {
		r.DefaultMetric = true
		r.MetricText = text
		return nil
	}
	return fmt.Errorf("Metric column %q is not a number", text)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Resolver names the interface of a row for Routes. Either func may be nil.
type Resolver struct {
	ByIP    func(netip.Addr) string // IPv4 rows: the Interface column's address
	ByIndex func(int) string        // IPv6 rows (and XP index rows): the If column
}

// Routes converts the rows to netcfg routes. Interface names come from res;
// persistent IPv4 rows carry no interface column and get "". On-link rows
// get an invalid Gateway; Protocol and Type stay "" (route print does not
// say).
func (t *Table) Routes(res Resolver) []netcfg.Route {
	out := make([]netcfg.Route, 0, len(t.Rows))
	for _, r := range t.Rows {
		rt := netcfg.Route{Dst: r.Dst, Metric: r.Metric, Store: r.Store}
		if !r.OnLink {
			rt.Gateway = r.Gateway
		}
		switch {
		case r.InterfaceIP.IsValid() && res.ByIP != nil:
			rt.Interface = res.ByIP(r.InterfaceIP)
		case r.IfIndex != 0 && res.ByIndex != nil:
			rt.Interface = res.ByIndex(r.IfIndex)
		}
		out = append(out, rt)
	}
	return out
}

// DescriptionByIndex is a Resolver.ByIndex that names interfaces by the
// descriptions of the table's own interface list.
func (t *Table) DescriptionByIndex(idx int) string {
	for _, i := range t.Interfaces {
		if i.Index == idx {
			return i.Description
		}
	}
	return ""
}

// parseInterfaceEntry parses one interface list entry: an index (decimal or
// XP's 0xN), "...", an optional MAC of 6 or 8 hex bytes, dots, and the
// description.
func parseInterfaceEntry(line string) (Interface, bool) {
	s := strings.TrimLeft(line, " \t")
	end := strings.IndexAny(s, " .")
	if end <= 0 {
		return Interface{}, false
	}
	idx, ok := parseIndex(s[:end])
	if !ok {
		return Interface{}, false
	}
	rest := strings.TrimLeft(s[end:], " ")
	if !strings.HasPrefix(rest, "...") {
		return Interface{}, false
	}
	rest = strings.TrimLeft(rest, ". ")
	mac, after := splitMAC(rest)
	if mac != "" {
		rest = strings.TrimLeft(after, ". ")
	}
	return Interface{Index: idx, MAC: mac, Description: strings.TrimRight(rest, " \t")}, true
}

func parseIndex(s string) (int, bool) {
	var v int64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err = strconv.ParseInt(h, 16, 32)
	} else {
		v, err = strconv.ParseInt(s, 10, 32)
	}
	return int(v), err == nil && v >= 0
}

// splitMAC takes up to 8 space-separated hex byte pairs from the front of s.
// Fewer than 6 is no MAC (the description merely starts with hex letters).
func splitMAC(s string) (mac, rest string) {
	var parts []string
	rest = s
	for len(parts) < 8 && len(rest) >= 2 && isHexByte(rest[:2]) && (len(rest) == 2 || rest[2] == ' ' || rest[2] == '.') {
		parts = append(parts, strings.ToLower(rest[:2]))
		rest = strings.TrimPrefix(rest[2:], " ")
	}
	if len(parts) < 6 {
		return "", s
	}
	return strings.Join(parts, ":"), rest
}

func isHexByte(s string) bool {
	_, err := strconv.ParseUint(s, 16, 8)
	return err == nil && len(s) == 2
}

func isIPv4Row(f []string) bool {
	if len(f) < 4 {
		return false
	}
	a, err1 := netip.ParseAddr(f[0])
	m, err2 := netip.ParseAddr(f[1])
	return err1 == nil && err2 == nil && a.Is4() && m.Is4()
}

// isIPv6Row: "IF METRIC PREFIX ...", both numbers plain digits (their
// range is checked when the row is parsed, so a metric above int on a 32-bit
// build is an error, not a skipped row).
func isIPv6Row(f []string) bool {
	return len(f) >= 3 && strings.Contains(f[2], ":") && strings.Contains(f[2], "/") && isDigits(f[0]) && isDigits(f[1])
}

// defaultGatewayLine recognises XP's "Default Gateway:     192.0.2.1".
func defaultGatewayLine(s string, f []string) (netip.Addr, bool) {
	if !strings.Contains(s, ":") || len(f) < 2 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(f[len(f)-1])
	if err != nil || !a.Is4() || !strings.HasSuffix(strings.TrimSpace(strings.TrimSuffix(s, f[len(f)-1])), ":") {
		return netip.Addr{}, false
	}
	return a, true
}

// sectionLabel returns a line ending in ':' (or the full-width '：')
// lower-cased without the colon.
func sectionLabel(s string) (string, bool) {
	for _, colon := range []string{":", "："} {
		if l, ok := strings.CutSuffix(s, colon); ok {
			return strings.ToLower(strings.TrimSpace(l)), true
		}
	}
	return "", false
}

// prefixFromMask builds a prefix from "192.0.2.0" and "255.255.255.0".
func prefixFromMask(dest, mask string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(dest)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("Network Destination: %w", err)
	}
	bits, err := wintext.MaskBits(mask)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, bits), nil
}
