package wintext

import (
	"strings"
	"unicode"
)

// Measure is how a tool pads its table columns, and so how column positions
// are counted.
type Measure int

const (
	// Runes: padded by character count, as netsh and route.exe do (their
	// printf widths count UTF-16 units). A zh-CN `netsh interface ipv6 show
	// route` row "否        系统        256" puts the Type column at the
	// English character offset although 否 is two console cells wide.
	Runes Measure = iota
	// Cells: padded by console cells, East Asian wide characters counting
	// two, as PowerShell's Format-Table does (TableWriter.GenerateRowField
	// pads by DisplayCells.Length; PowerShell/PowerShell
	// src/System.Management.Automation/FormatAndOutput/common/TableWriter.cs).
	// A zh-CN Get-NetIPInterface row "21      以太网 2                        IPv6"
	// starts AddressFamily at cell 40 but at rune 37.
	Cells
)

// Column is one column of a text table: its header label and where the
// column starts and ends in the header (or rule) line, in the table's
// Measure. End is exclusive.
type Column struct {
	Name       string
	Start, End int
}

// IsRule reports whether line is the dashed rule under a table header:
// runs of at least three dashes at its start, only dashes and spaces.
func IsRule(line string) bool {
	s := strings.TrimSpace(line)
	return strings.HasPrefix(s, "---") && strings.Trim(s, "- ") == ""
}

// RuleColumns returns one column per dash run of rule, named by the header
// text above the run's start up to the next run's start. The dash runs give
// the exact column positions.
func RuleColumns(header, rule string, m Measure) []Column {
	var cols []Column
	ps := positions(rule, m)
	for i, r := range ps {
		switch {
		case r.r == '-' && (i == 0 || ps[i-1].r != '-'):
			cols = append(cols, Column{Start: r.at, End: r.at + r.w})
		case r.r == '-':
			cols[len(cols)-1].End = r.at + r.w
		}
	}
	for i, name := range Cut(header, cols, m) {
		cols[i].Name = name
	}
	return cols
}

// HeaderColumns returns the columns of a header line that has no dashed
// rule under it (lost in a copy/paste): a column starts at each label that
// follows two or more spaces, or the line start, so a label with single
// spaces inside ("Gateway/Interface Name", "Шлюз/имя интерфейса") stays one
// column. It is only as exact as the header is aligned with the rows.
func HeaderColumns(header string, m Measure) []Column {
	var cols []Column
	ps := positions(header, m)
	blanks := 2 // a label at the line start begins a column
	for _, p := range ps {
		if unicode.IsSpace(p.r) {
			blanks++
			continue
		}
		if blanks >= 2 {
			cols = append(cols, Column{Start: p.at})
		}
		cols[len(cols)-1].End = p.at + p.w
		blanks = 0
	}
	for i, name := range Cut(header, cols, m) {
		cols[i].Name = name
	}
	return cols
}

// Cut splits line into one trimmed cell per column: cell i runs from
// column i's start to column i+1's start, the last to the line end. Where a
// cut falls inside a word, it moves left to the word's start: a
// right-aligned value wider than its header starts before its column.
func Cut(line string, cols []Column, m Measure) []string {
	ps := positions(line, m)
	cuts := make([]int, len(cols)+1) // rune indexes
	cuts[len(cols)] = len(ps)
	for i := len(cols) - 1; i >= 0; i-- {
		k := 0
		for k < len(ps) && ps[k].at < cols[i].Start {
			k++
		}
		if k > cuts[i+1] {
			k = cuts[i+1]
		}
		prev := 0
		if i > 0 {
			prev = indexAt(ps, cols[i-1].Start)
		}
		j := k
		for j > prev && j < len(ps) && !unicode.IsSpace(ps[j].r) && !unicode.IsSpace(ps[j-1].r) {
			j--
		}
		if j > prev {
			k = j
		}
		cuts[i] = k
	}
	out := make([]string, len(cols))
	runes := make([]rune, len(ps))
	for i, p := range ps {
		runes[i] = p.r
	}
	for i := range cols {
		from, to := cuts[i], cuts[i+1]
		if from < to {
			out[i] = strings.TrimSpace(string(runes[from:to]))
		}
	}
	return out
}

func indexAt(ps []pos, at int) int {
	k := 0
	for k < len(ps) && ps[k].at < at {
		k++
	}
	return k
}

// pos is one rune of a line with its offset and width in a Measure.
type pos struct {
	r     rune
	at, w int
}

func positions(line string, m Measure) []pos {
	var out []pos
	at := 0
	for _, r := range line {
		w := 1
		if m == Cells {
			w = RuneWidth(r)
		}
		if r == '\t' {
			w = 8 - at%8 // tabs are rare (damaged pastes); expand like a console
		}
		out = append(out, pos{r: r, at: at, w: w})
		at += w
	}
	return out
}

// RuneWidth is the number of console cells r occupies: two for East Asian
// wide and fullwidth characters (CJK ideographs, kana, Hangul, fullwidth
// forms), one otherwise.
func RuneWidth(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, // Hangul Jamo initials
		r >= 0x2E80 && r <= 0x303E, // CJK radicals .. CJK symbols
		r >= 0x3041 && r <= 0x33FF, // kana .. CJK compatibility
		r >= 0x3400 && r <= 0x4DBF, // CJK extension A
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xA000 && r <= 0xA4CF, // Yi
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF, // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60, // fullwidth forms
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}

// Width is the number of console cells s occupies.
func Width(s string) int {
	n := 0
	for _, r := range s {
		n += RuneWidth(r)
	}
	return n
}
