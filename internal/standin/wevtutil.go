package standin

import (
	"strconv"
	"strings"
)

// wevtutil qe, as the wevtutil reference documents it
// (learn.microsoft.com, windows-commands/wevtutil):
//
//	wevtutil qe <Logname> [/q:<Query>] [/f:<Format>] [/c:<Count>] [/rd:<Direction>] [/e:<Element>]
//
// The lab has no Windows event log: every query of a known channel
// answers with no events, which is what wevtutil prints for a query that
// matches nothing (nothing at all, exit status 0), in every format. The
// query and options are still checked. Other wevtutil commands are
// rejected.
func (c *cmd) wevtutil(args []string) {
	if len(args) == 0 {
		c.unsupported("wevtutil without a command (help)")
		return
	}
	switch strings.ToLower(args[0]) {
	case "qe", "query-events":
	default:
		c.unsupported("wevtutil %s: the stand-ins implement wevtutil qe", args[0])
		return
	}
	if len(args) < 2 || strings.HasPrefix(args[1], "/") {
		c.fail("%s", msgInvalidParam)
		return
	}
	switch strings.ToLower(args[1]) {
	case "system", "application", "security", "setup":
	default:
		c.eprintf("Failed to query events. The specified channel could not be found.\n")
		c.exit = 15007
		return
	}
	root := ""
	for _, opt := range args[2:] {
		name, val, ok := strings.Cut(strings.TrimPrefix(opt, "/"), ":")
		if !ok || !strings.HasPrefix(opt, "/") {
			c.fail("%s", msgInvalidParam)
			return
		}
		switch strings.ToLower(name) {
		case "q", "query":
			if !balancedXPath(val) {
				c.eprintf("Failed to query events. The specified query is invalid.\n")
				c.exit = 15001
				return
			}
		case "f", "format":
			switch strings.ToLower(val) {
			case "xml", "text", "renderedxml":
			default:
				c.fail("%s", msgInvalidParam)
				return
			}
		case "c", "count":
			if n, err := strconv.Atoi(val); err != nil || n < 1 {
				c.fail("%s", msgInvalidParam)
				return
			}
		case "rd", "reversedirection":
			if v := strings.ToLower(val); v != "true" && v != "false" {
				c.fail("%s", msgInvalidParam)
				return
			}
		case "e", "element":
			root = val
		default:
			c.unsupported("wevtutil qe option /%s", name)
			return
		}
	}
	if root != "" {
		c.printf("<%s>\n</%s>\n", root, root)
	}
}

// balancedXPath checks the structure an event query needs: non-empty,
// brackets and parentheses balanced, quotes closed.
func balancedXPath(q string) bool {
	if strings.TrimSpace(q) == "" {
		return false
	}
	var stack []rune
	var quote rune
	for _, r := range q {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '[' || r == '(':
			stack = append(stack, r)
		case r == ']' || r == ')':
			want := '['
			if r == ')' {
				want = '('
			}
			if len(stack) == 0 || stack[len(stack)-1] != want {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return quote == 0 && len(stack) == 0
}
