package standin

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// The PowerShell the stand-in understands: exactly the shapes kbharness's
// script builders (netcfg/pwsh) and probes write, parsed, not matched as
// text:
//
//	statement ; statement ...
//	$ErrorActionPreference = 'Stop'
//	Cmdlet -Param value -Switch -Param:value 'positional' | Cmdlet ...
//	(pipeline).Property
//	ConvertTo-Json -Compress -InputObject @(pipeline)
//	Select-Object Name, Name, @{n='Name';e={[int]$_.Property}}
//
// Strings are single-quoted (with '' and the typographic single quotes),
// or double-quoted without expansion. Anything else - variables other than
// $true/$false/$null, script blocks outside a calculated property,
// expansion, operators - is a parse error the stand-in rejects as
// unsupported.

type psStatement struct {
	assignVar string // "ErrorActionPreference" for `$ErrorActionPreference = ...`
	assignVal psValue
	pipe      psPipeline
}

type psPipeline []psElement

// psElement is a command or a parenthesized pipeline with an optional
// member access: (pipeline).Member.
type psElement struct {
	cmd    *psCommand
	sub    psPipeline
	member string
}

type psCommand struct {
	name string
	args []psArg
}

// psArg is -Param, -Param:value or a positional value.
type psArg struct {
	param string // "" for a value
	colon bool
	value *psValue
}

type psValueKind int

const (
	vString psValueKind = iota // quoted string
	vBare                      // bareword: ActiveStore, 5, Stop
	vBool                      // $true, $false
	vNull                      // $null
	vArray                     // @(pipeline)
	vList                      // a, b, c
	vCalc                      // @{n='Name';e={[cast]$_.Property}}
)

type psValue struct {
	kind psValueKind
	s    string
	b    bool
	sub  psPipeline
	list []psValue
	calc psCalc
}

// psCalc is a calculated property of Select-Object.
type psCalc struct{ name, cast, prop string }

type psParser struct {
	src []rune
	pos int
}

// parseScript parses a whole script.
func parseScript(src string) ([]psStatement, error) {
	p := &psParser{src: []rune(src)}
	var out []psStatement
	for {
		p.skipSpace(true)
		if p.eof() {
			return out, nil
		}
		if p.peek() == ';' {
			p.pos++
			continue
		}
		st, err := p.statement()
		if err != nil {
			return nil, err
		}
		out = append(out, st)
		p.skipSpace(false)
		if !p.eof() && p.peek() != ';' && p.peek() != '\n' && p.peek() != '\r' {
			return nil, p.errorf("unexpected %q after a statement", string(p.peek()))
		}
	}
}

func (p *psParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at char %d: %s", p.pos+1, fmt.Sprintf(format, args...))
}

func (p *psParser) eof() bool  { return p.pos >= len(p.src) }
func (p *psParser) peek() rune { return p.src[p.pos] }

func (p *psParser) peekAt(i int) rune {
	if p.pos+i >= len(p.src) {
		return 0
	}
	return p.src[p.pos+i]
}

// skipSpace skips blanks; newlines too when lines is set.
func (p *psParser) skipSpace(lines bool) {
	for !p.eof() {
		r := p.peek()
		if r == ' ' || r == '\t' || (lines && (r == '\n' || r == '\r')) {
			p.pos++
			continue
		}
		return
	}
}

func (p *psParser) statement() (psStatement, error) {
	if p.peek() == '$' {
		name := p.word(1)
		p.skipSpace(false)
		if p.eof() || p.peek() != '=' {
			return psStatement{}, p.errorf("a variable expression ($%s) other than an assignment", name)
		}
		p.pos++
		p.skipSpace(false)
		v, err := p.value()
		if err != nil {
			return psStatement{}, err
		}
		return psStatement{assignVar: name, assignVal: v}, nil
	}
	pipe, err := p.pipeline()
	if err != nil {
		return psStatement{}, err
	}
	return psStatement{pipe: pipe}, nil
}

// word reads [A-Za-z0-9_-] after skipping skip runes.
func (p *psParser) word(skip int) string {
	p.pos += skip
	start := p.pos
	for !p.eof() {
		r := p.peek()
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' {
			p.pos++
			continue
		}
		break
	}
	return string(p.src[start:p.pos])
}

func (p *psParser) pipeline() (psPipeline, error) {
	var out psPipeline
	for {
		p.skipSpace(false)
		if p.eof() {
			return nil, p.errorf("an empty pipeline element")
		}
		var el psElement
		if p.peek() == '(' {
			p.pos++
			sub, err := p.pipeline()
			if err != nil {
				return nil, err
			}
			p.skipSpace(true)
			if p.eof() || p.peek() != ')' {
				return nil, p.errorf("missing ')'")
			}
			p.pos++
			el.sub = sub
			if !p.eof() && p.peek() == '.' {
				el.member = p.word(1)
				if el.member == "" {
					return nil, p.errorf("a member name after '.'")
				}
			}
		} else {
			c, err := p.command()
			if err != nil {
				return nil, err
			}
			el.cmd = c
		}
		out = append(out, el)
		p.skipSpace(false)
		if p.eof() || p.peek() != '|' {
			return out, nil
		}
		p.pos++
	}
}

func (p *psParser) command() (*psCommand, error) {
	name := p.word(0)
	if name == "" || !unicode.IsLetter([]rune(name)[0]) {
		return nil, p.errorf("a command name, not %q", string(p.peek()))
	}
	c := &psCommand{name: name}
	for {
		p.skipSpace(false)
		if p.eof() || strings.ContainsRune(";|)}\r\n", p.peek()) {
			return c, nil
		}
		if p.peek() == '-' && unicode.IsLetter(p.peekAt(1)) {
			a := psArg{param: p.word(1)}
			if !p.eof() && p.peek() == ':' {
				p.pos++
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				a.colon, a.value = true, &v
			}
			c.args = append(c.args, a)
			continue
		}
		v, err := p.valueList()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, psArg{value: &v})
	}
}

// valueList reads a value, or a comma-separated list of them.
func (p *psParser) valueList() (psValue, error) {
	v, err := p.value()
	if err != nil {
		return v, err
	}
	save := p.pos
	p.skipSpace(false)
	if p.eof() || p.peek() != ',' {
		p.pos = save
		return v, nil
	}
	list := psValue{kind: vList, list: []psValue{v}}
	for !p.eof() && p.peek() == ',' {
		p.pos++
		p.skipSpace(true)
		x, err := p.value()
		if err != nil {
			return x, err
		}
		list.list = append(list.list, x)
		save = p.pos
		p.skipSpace(false)
		if p.eof() || p.peek() != ',' {
			p.pos = save
			break
		}
	}
	return list, nil
}

func isSingleQuote(r rune) bool {
	return r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201a' || r == '\u201b'
}

func (p *psParser) value() (psValue, error) {
	if p.eof() {
		return psValue{}, p.errorf("a value")
	}
	r := p.peek()
	switch {
	case isSingleQuote(r):
		p.pos++
		var b strings.Builder
		for {
			if p.eof() {
				return psValue{}, p.errorf("an unterminated string")
			}
			r := p.peek()
			p.pos++
			if isSingleQuote(r) {
				if !p.eof() && isSingleQuote(p.peek()) {
					b.WriteRune(p.peek())
					p.pos++
					continue
				}
				return psValue{kind: vString, s: b.String()}, nil
			}
			b.WriteRune(r)
		}
	case r == '"':
		p.pos++
		start := p.pos
		for !p.eof() && p.peek() != '"' {
			if p.peek() == '$' || p.peek() == '`' {
				return psValue{}, p.errorf("an expandable string (\"...$...\")")
			}
			p.pos++
		}
		if p.eof() {
			return psValue{}, p.errorf("an unterminated string")
		}
		s := string(p.src[start:p.pos])
		p.pos++
		return psValue{kind: vString, s: s}, nil
	case r == '@' && p.peekAt(1) == '(':
		p.pos += 2
		p.skipSpace(true)
		if !p.eof() && p.peek() == ')' {
			p.pos++
			return psValue{kind: vArray}, nil
		}
		sub, err := p.pipeline()
		if err != nil {
			return psValue{}, err
		}
		p.skipSpace(true)
		if p.eof() || p.peek() != ')' {
			return psValue{}, p.errorf("missing ')' of @(...)")
		}
		p.pos++
		return psValue{kind: vArray, sub: sub}, nil
	case r == '@' && p.peekAt(1) == '{':
		return p.calculated()
	case r == '$':
		name := strings.ToLower(p.word(1))
		switch name {
		case "true", "false":
			return psValue{kind: vBool, b: name == "true"}, nil
		case "null":
			return psValue{kind: vNull}, nil
		}
		return psValue{}, p.errorf("a variable ($%s)", name)
	}
	start := p.pos
	for !p.eof() && !unicode.IsSpace(p.peek()) && !strings.ContainsRune(";|(),{}'\"", p.peek()) {
		p.pos++
	}
	if p.pos == start {
		return psValue{}, p.errorf("a value, not %q", string(r))
	}
	return psValue{kind: vBare, s: string(p.src[start:p.pos])}, nil
}

var calcExpr = regexp.MustCompile(`^\s*(?:\[(\w+)\]\s*)?\$_\.(\w+)\s*$`)

// calculated parses @{n='Name';e={[int]$_.Property}} (keys n, name, l,
// label, e, expression).
func (p *psParser) calculated() (psValue, error) {
	p.pos += 2
	var c psCalc
	var expr string
	for {
		p.skipSpace(true)
		if p.eof() {
			return psValue{}, p.errorf("an unterminated @{...}")
		}
		if p.peek() == '}' {
			p.pos++
			break
		}
		if p.peek() == ';' {
			p.pos++
			continue
		}
		key := strings.ToLower(p.word(0))
		p.skipSpace(false)
		if p.eof() || p.peek() != '=' {
			return psValue{}, p.errorf("'=' after key %q in @{...}", key)
		}
		p.pos++
		p.skipSpace(false)
		switch key {
		case "n", "name", "l", "label":
			v, err := p.value()
			if err != nil {
				return psValue{}, err
			}
			c.name = v.s
		case "e", "expression":
			if p.eof() || p.peek() != '{' {
				return psValue{}, p.errorf("a script block after %s=", key)
			}
			p.pos++
			start := p.pos
			for !p.eof() && p.peek() != '}' {
				p.pos++
			}
			if p.eof() {
				return psValue{}, p.errorf("an unterminated script block")
			}
			expr = string(p.src[start:p.pos])
			p.pos++
		default:
			return psValue{}, p.errorf("key %q in a calculated property", key)
		}
	}
	m := calcExpr.FindStringSubmatch(expr)
	if m == nil || c.name == "" {
		return psValue{}, p.errorf("a calculated property other than @{n='Name';e={[type]$_.Property}} (%q)", expr)
	}
	c.cast, c.prop = strings.ToLower(m[1]), m[2]
	if c.cast != "" && c.cast != "int" && c.cast != "string" {
		return psValue{}, p.errorf("a cast to [%s]", c.cast)
	}
	return psValue{kind: vCalc, calc: c}, nil
}
