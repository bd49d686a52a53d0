// Package ipconfig parses the output of Windows `ipconfig /all` into
// adapters (name, description, physical address, IPv4 addresses with their
// masks, IPv6 addresses, default gateways), in English (XP to 11) and the
// display languages listed at labels. The lab uses it to find its adapter by
// MAC.
//
// It is pure: it runs nothing, so it builds and is tested on every OS.
package ipconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/kbharness/kbharness/netcfg/internal/wintext"
)

// Argv is the command whose output Parse reads.
func Argv() []string { return []string{"ipconfig", "/all"} }

// Address is an address as ipconfig prints it.
type Address struct {
	// Prefix: IPv4 with its "Subnet Mask"; IPv6 as a single address
	// (/128): ipconfig prints no IPv6 prefix length. Zones are dropped.
	Prefix netip.Prefix
	// State is the parenthesised suffix as printed: "Preferred",
	// "Deprecated", "Duplicate", "Bevorzugt", ...; "" on XP.
	State string
}

// Adapter is one "... adapter NAME:" block.
type Adapter struct {
	Name        string // connection name (alias): "Ethernet 2", "Wi-Fi", "WLAN"
	Kind        string // text before "adapter": "Ethernet", "Wireless LAN", "Tunnel", "Drahtlos-LAN"
	Description string // 80-column console wraps joined
	MAC         string // lower-case colon form; "" when none is printed
	IPv4        []Address
	IPv6        []Address // global, temporary and link-local
	Gateways    []netip.Addr
	Line        int // 1-based line of the adapter header
}

// ErrUnknownLabel matches the error Parse returns for output whose labels it
// does not know (an unlisted display language).
var ErrUnknownLabel = errors.New("unrecognised ipconfig labels")

// labels maps the labels we read, folded (see fold: lower-cased, dot leader
// dropped, typographic apostrophes made ASCII), to the field they fill. Only
// labels seen in real `ipconfig` output are listed; testdata/README.md names
// each capture:
//
//	en     XP..11 samples 01, 02, 04
//	de     05 (WLAN adapter, Windows 10)
//	fr     06 (radvd lab, Windows 10/11) and French Ynov TP write-ups
//	es     07 (Kea DHCP lab, Windows 10/11); XP "Dirección IP" from an Ubuntu
//	       Forums post (code-search file id 56728423664)
//	it     08 (OpenVPN notes); XP "Indirizzo IP" (file id 56970905455);
//	       "Indirizzo IPv6"/"Indirizzo IPv6 temporaneo" from Microsoft's Italian
//	       Office 365 IPv6 article (file id 25197552206), not from a capture
//	pt-BR  09 (command notes; `ipconfig` without /all: no Description or
//	       Physical Address label seen)
//	ru     10 (course answers, Windows 10); XP "IP-адрес" (file id 10090071035)
//	zh-CN  11 (DHCPv6 notes, Windows 10); "自动配置 IPv4 地址" (file id 43563216841)
//	ja     12 (vbox0 adapter, Windows 10)
//	ko     13 (course notes, Windows 10)
//	tr     14 (a Python test's ipconfig, stated to be "Real output, kept as it
//	       arrived", file id 59421101608)
//	pl     15 (XP, Ubuntu Forums; HTML entities decoded)
//	nl     16 (XP, Ubuntu Forums)
//
// Not covered: sv, zh-TW, pt-PT (no capture found); IPv6 global/temporary
// labels in pt-BR, ru, ja, ko, pl, nl, tr; autoconfiguration labels outside
// en, fr, zh-CN. Output in an unlisted language whose adapters carry none of
// these labels is an ErrUnknownLabel.
var labels = map[string]string{
	// en
	"description":                    "description",
	"physical address":               "mac",
	"ip address":                     "ipv4", // XP
	"ipv4 address":                   "ipv4",
	"autoconfiguration ipv4 address": "ipv4",
	"subnet mask":                    "mask",
	"ipv6 address":                   "ipv6",
	"temporary ipv6 address":         "ipv6",
	"link-local ipv6 address":        "ipv6",
	"default gateway":                "gateway",
	// de
	"beschreibung":                   "description",
	"physische adresse":              "mac",
	"ipv4-adresse":                   "ipv4",
	"subnetzmaske":                   "mask",
	"ipv6-adresse":                   "ipv6",
	"temporäre ipv6-adresse":         "ipv6",
	"verbindungslokale ipv6-adresse": "ipv6",
	"standardgateway":                "gateway",
	// fr
	"adresse physique":                 "mac",
	"adresse ipv4":                     "ipv4",
	"adresse d'autoconfiguration ipv4": "ipv4",
	"masque de sous-réseau":            "mask",
	"adresse ipv6":                     "ipv6",
	"adresse ipv6 temporaire":          "ipv6",
	"adresse ipv6 de liaison locale":   "ipv6",
	"passerelle par défaut":            "gateway",
	// es
	"descripción":                     "description",
	"dirección física":                "mac",
	"dirección ip":                    "ipv4", // XP
	"dirección ipv4":                  "ipv4",
	"máscara de subred":               "mask",
	"dirección ipv6":                  "ipv6",
	"dirección ipv6 temporal":         "ipv6",
	"vínculo: dirección ipv6 local":   "ipv6",
	"puerta de enlace predeterminada": "gateway",
	// it ("subnet mask" as en)
	"descrizione":               "description",
	"indirizzo fisico":          "mac",
	"indirizzo ip":              "ipv4", // XP
	"indirizzo ipv4":            "ipv4",
	"indirizzo ipv6":            "ipv6",
	"indirizzo ipv6 temporaneo": "ipv6",
	"indirizzo ipv6 locale rispetto al collegamento": "ipv6",
	"gateway predefinito":                            "gateway",
	// pt-BR
	"endereço ipv4":               "ipv4",
	"máscara de sub-rede":         "mask",
	"endereço ipv6 de link local": "ipv6",
	"gateway padrão":              "gateway",
	// ru
	"описание":                    "description",
	"физический адрес":            "mac",
	"ip-адрес":                    "ipv4", // XP
	"ipv4-адрес":                  "ipv4",
	"маска подсети":               "mask",
	"локальный ipv6-адрес канала": "ipv6",
	"основной шлюз":               "gateway",
	// zh-CN
	"描述":           "description",
	"物理地址":         "mac",
	"ipv4 地址":      "ipv4",
	"自动配置 ipv4 地址": "ipv4",
	"子网掩码":         "mask",
	"ipv6 地址":      "ipv6",
	"临时 ipv6 地址":   "ipv6",
	"本地链接 ipv6 地址": "ipv6",
	"默认网关":         "gateway",
	// ja
	"説明":                "description",
	"物理アドレス":            "mac",
	"ipv4 アドレス":         "ipv4",
	"サブネット マスク":         "mask",
	"リンクローカル ipv6 アドレス": "ipv6",
	"デフォルト ゲートウェイ":      "gateway",
	// ko
	"설명":            "description",
	"물리적 주소":        "mac",
	"ipv4 주소":       "ipv4",
	"서브넷 마스크":       "mask",
	"링크-로컬 ipv6 주소": "ipv6",
	"기본 게이트웨이":      "gateway",
	// tr
	"fiziksel adres":       "mac",
	"ipv4 adresi":          "ipv4",
	"alt ağ maskesi":       "mask",
	"varsayılan ağ geçidi": "gateway",
	// pl (XP)
	"opis":           "description",
	"adres fizyczny": "mac",
	"adres ip":       "ipv4",
	"maska podsieci": "mask",
	"brama domyślna": "gateway",
	// nl (XP: "IP-adres" is printed for IPv6 addresses too; the value decides)
	"beschrijving":     "description",
	"fysiek adres":     "mac",
	"ip-adres":         "ipv4",
	"subnetmasker":     "mask",
	"standaardgateway": "gateway",
}

// fold normalizes a label for the labels map: lower-cased, the dot leader
// and spaces around it dropped, typographic apostrophes (fr "d’autoconfiguration")
// made ASCII.
func fold(k string) string {
	k = strings.TrimRight(strings.TrimSpace(k), ". ")
	return strings.ToLower(strings.ReplaceAll(k, "\u2019", "'"))
}

// adapterWords split an adapter header "KIND <word> NAME" (en, de, nl
// "adapter"; zh-CN 适配器; ja アダプター; ko 어댑터; tr bağdaştırıcısı), and
// adapterKinds are the "KIND" prefixes of languages that name the adapter
// first (es, fr, it, pt-BR, ru, pl; from the same captures). A header that
// matches neither keeps the whole text as Name.
var (
	adapterWords = []string{"adapter ", "适配器 ", "アダプター ", "어댑터 ", "bağdaştırıcısı "}
	adapterKinds = []string{
		"Adaptador de Ethernet", "Adaptador de LAN inalámbrica", "Adaptador desconocido", "Adaptador de túnel", "Adaptador Ethernet",
		"Carte Ethernet", "Carte réseau sans fil",
		"Scheda Ethernet", "Scheda LAN wireless", "Scheda sconosciuta", "Scheda PPP",
		"Адаптер Ethernet", "Адаптер беспроводной локальной сети", "Неизвестный адаптер",
		"Karta Ethernet",
	}
)

// consoleWidth is where the XP console hard-wraps lines.
const consoleWidth = 80

// Parse parses `ipconfig /all`. Values continued on further indented lines
// (gateways, DNS servers) and XP's 80-column hard wraps are joined. Output
// whose adapters carry none of the known labels gives an error matching
// ErrUnknownLabel.
func Parse(text string) ([]Adapter, error) {
	p := &parser{}
	prevLen := 0
	for i, line := range wintext.SplitLines(text) {
		if err := p.line(i+1, line, prevLen >= consoleWidth); err != nil {
			return nil, fmt.Errorf("parsing ipconfig /all: %w", err)
		}
		prevLen = len([]rune(line))
	}
	if err := p.finish(); err != nil {
		return nil, fmt.Errorf("parsing ipconfig /all: %w", err)
	}
	return p.adapters, nil
}

type parser struct {
	adapters []Adapter
	field    string // field of the last key line, for continuation lines
	value    string // raw value of the last key line (for wraps)
	known    bool   // any known label seen in an adapter
}

func (p *parser) line(n int, line string, wrapped bool) error {
	s := strings.TrimSpace(line)
	switch {
	case s == "":
		return nil
	case line[0] != ' ' && line[0] != '\t' && strings.HasSuffix(s, ":"):
		p.adapters = append(p.adapters, newAdapter(n, strings.TrimSuffix(s, ":")))
		p.field = ""
		return nil
	case len(p.adapters) == 0:
		return nil // global "Windows IP Configuration" section
	}
	if key, val, ok := keyValue(line); ok {
		p.field, p.value = labels[key], val
		if p.field != "" {
			p.known = true
		}
		return p.set(n, val)
	}
	switch {
	case p.field != "" && isIndentedValue(line):
		p.value = s
		return p.set(n, s) // another value of the same key
	case wrapped:
		return p.rewrap(n, line)
	}
	return nil
}

// rewrap handles an XP 80-column hard wrap: the previous value continues on
// this line. The field is set again from the joined text.
func (p *parser) rewrap(n int, line string) error {
	a := &p.adapters[len(p.adapters)-1]
	p.value += line
	switch p.field {
	case "":
		return nil // a value we do not read (XP lease times)
	case "description":
		a.Description = p.value
		return nil
	case "ipv4", "ipv6", "gateway", "mac":
		return fmt.Errorf("line %d: wrapped %s value %q", n, p.field, p.value)
	}
	return nil
}

func (p *parser) set(n int, val string) error {
	a := &p.adapters[len(p.adapters)-1]
	switch p.field {
	case "description":
		a.Description = val
	case "mac":
		a.MAC = normalizeMAC(val)
	case "ipv4", "ipv6":
		return p.addAddress(n, a, val)
	case "mask":
		return setMask(n, a, val)
	case "gateway":
		if val == "" {
			return nil
		}
		gw, err := netip.ParseAddr(val)
		if err != nil {
			return fmt.Errorf("line %d: Default Gateway: %w", n, err)
		}
		a.Gateways = append(a.Gateways, gw.WithZone(""))
	}
	return nil
}

func (p *parser) addAddress(n int, a *Adapter, val string) error {
	text, state := splitState(val)
	ip, err := netip.ParseAddr(text)
	if err != nil {
		return fmt.Errorf("line %d: %s address: %w", n, p.field, err)
	}
	ip = ip.WithZone("")
	if ip.Is4() {
		a.IPv4 = append(a.IPv4, Address{Prefix: netip.PrefixFrom(ip, -1), State: state})
	} else {
		a.IPv6 = append(a.IPv6, Address{Prefix: netip.PrefixFrom(ip, 128), State: state})
	}
	return nil
}

// setMask gives a "Subnet Mask" to the first IPv4 address still without one.
func setMask(n int, a *Adapter, val string) error {
	bits, err := wintext.MaskBits(val)
	if err != nil {
		return fmt.Errorf("line %d: Subnet Mask: %w", n, err)
	}
	for i := range a.IPv4 {
		if !a.IPv4[i].Prefix.IsValid() {
			a.IPv4[i].Prefix = netip.PrefixFrom(a.IPv4[i].Prefix.Addr(), bits)
			return nil
		}
	}
	return fmt.Errorf("line %d: Subnet Mask %s without an IPv4 address before it", n, val)
}

func (p *parser) finish() error {
	if len(p.adapters) == 0 {
		return errors.New("no adapter blocks found")
	}
	if !p.known {
		return fmt.Errorf("%w: no Description/Physical Address/IPv4 Address label known (display language?)", ErrUnknownLabel)
	}
	for _, a := range p.adapters {
		for _, ip := range a.IPv4 {
			if !ip.Prefix.IsValid() {
				return fmt.Errorf("adapter %q (line %d): IPv4 address %s has no Subnet Mask", a.Name, a.Line, ip.Prefix.Addr())
			}
		}
	}
	return nil
}

// ByMAC returns the adapter with the given physical address, in any of the
// forms "00-50-56-C0-00-01", "00:50:56:c0:00:01".
func ByMAC(adapters []Adapter, mac string) (Adapter, bool) {
	want := normalizeMAC(mac)
	for _, a := range adapters {
		if want != "" && a.MAC == want {
			return a, true
		}
	}
	return Adapter{}, false
}

// newAdapter splits an adapter header into Kind and Name: "Wireless LAN
// adapter Wi-Fi", "Drahtlos-LAN-Adapter WLAN", "以太网适配器 以太网", "Carte
// Ethernet Ethernet 2" (see adapterWords, adapterKinds).
func newAdapter(n int, header string) Adapter {
	header = strings.TrimSpace(header) // fr: "Carte Ethernet Ethernet :"
	lower := strings.ToLower(header)
	if len(lower) != len(header) {
		lower = header // lower-casing changed byte offsets (tr İ): match as printed
	}
	for _, w := range adapterWords {
		if i := strings.Index(lower, w); i >= 0 {
			return Adapter{Kind: strings.TrimRight(header[:i], " -"), Name: strings.TrimSpace(header[i+len(w):]), Line: n}
		}
	}
	for _, k := range adapterKinds {
		if name, ok := strings.CutPrefix(header, k+" "); ok {
			return Adapter{Kind: k, Name: strings.TrimSpace(name), Line: n}
		}
	}
	return Adapter{Name: header, Line: n}
}

// keyValue splits an indented "Key . . . . : value" line; the key is
// returned folded. The separator is the first colon after the dot leader
// (preceded by a dot or a blank), so a label with a colon of its own
// (es "Vínculo: dirección IPv6 local. . . :") stays whole; a label without a
// dot leader (de "Verbindungsspezifisches DNS-Suffix:") splits at its first
// colon.
func keyValue(line string) (key, val string, ok bool) {
	if line[0] != ' ' && line[0] != '\t' {
		return "", "", false
	}
	sep := strings.Index(line, ":")
	if sep < 0 {
		return "", "", false
	}
	for i := sep; i >= 0 && i < len(line); {
		if i > 0 && (line[i-1] == '.' || line[i-1] == ' ' || line[i-1] == '\t') {
			sep = i
			break
		}
		j := strings.Index(line[i+1:], ":")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	k := fold(line[:sep])
	if k == "" || isIndentedValue(line) {
		return "", "", false
	}
	return k, strings.TrimSpace(line[sep+1:]), true
}

// isIndentedValue: continuation values sit in the value column, far right
// of where keys begin.
func isIndentedValue(line string) bool {
	return len(line)-len(strings.TrimLeft(line, " \t")) >= 16
}

// splitState splits "192.0.2.1(Preferred)" into the address and state.
func splitState(v string) (string, string) {
	if i := strings.Index(v, "("); i > 0 && strings.HasSuffix(v, ")") {
		return strings.TrimSpace(v[:i]), v[i+1 : len(v)-1]
	}
	return v, ""
}

// normalizeMAC turns "00-19-B9-2B-D0-D1" into "00:19:b9:2b:d0:d1"; anything
// that is not 6 or 8 hex bytes gives "".
func normalizeMAC(s string) string {
	parts := strings.FieldsFunc(strings.ToLower(strings.TrimSpace(s)), func(r rune) bool { return r == '-' || r == ':' })
	if len(parts) != 6 && len(parts) != 8 {
		return ""
	}
	for _, p := range parts {
		if len(p) != 2 || strings.Trim(p, "0123456789abcdef") != "" {
			return ""
		}
	}
	return strings.Join(parts, ":")
}
