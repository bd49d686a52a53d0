package target

import "strings"

// ShellCommandLine joins argv for a POSIX shell: every argument that is not
// plainly safe is single-quoted.
func ShellCommandLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == "" {
			parts[i] = a
			continue
		}
		parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(parts, " ")
}

// WindowsCommandLine joins argv the way CommandLineToArgvW (and the C
// runtime) split it back, quoting every argument that holds a blank, a
// quote or a character cmd.exe would act on outside quotes (& | < > ^ ( )).
// cmd.exe still expands %VAR% inside quotes: arguments must not hold %.
func WindowsCommandLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n\v\"&|<>^()") {
			parts[i] = a
			continue
		}
		var b strings.Builder
		b.WriteByte('"')
		slashes := 0
		for j := 0; j < len(a); j++ {
			switch a[j] {
			case '\\':
				slashes++
				continue
			case '"':
				b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			default:
				b.WriteString(strings.Repeat(`\`, slashes))
			}
			slashes = 0
			b.WriteByte(a[j])
		}
		b.WriteString(strings.Repeat(`\`, 2*slashes))
		b.WriteByte('"')
		parts[i] = b.String()
	}
	return strings.Join(parts, " ")
}

// SplitWindowsCommandLine splits a command line by the rules of
// CommandLineToArgvW: blanks separate arguments outside quotes; 2n
// backslashes before a quote make n and the quote toggles quoting; 2n+1 make
// n and a literal quote; other backslashes are literal; "" inside quotes is
// a literal quote. It is WindowsCommandLine's inverse, for servers that
// receive a command line (the stand-ins behind SSH).
func SplitWindowsCommandLine(line string) []string {
	var args []string
	var cur strings.Builder
	inArg, quoted := false, false
	slashes := 0
	flush := func() {
		cur.WriteString(strings.Repeat(`\`, slashes))
		slashes = 0
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			slashes++
			inArg = true
		case c == '"':
			cur.WriteString(strings.Repeat(`\`, slashes/2))
			odd := slashes%2 == 1
			slashes = 0
			inArg = true
			switch {
			case odd:
				cur.WriteByte('"')
			case quoted && i+1 < len(line) && line[i+1] == '"':
				cur.WriteByte('"')
				i++
			default:
				quoted = !quoted
			}
		case (c == ' ' || c == '\t') && !quoted:
			flush()
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			flush()
			cur.WriteByte(c)
			inArg = true
		}
	}
	flush()
	if inArg {
		args = append(args, cur.String())
	}
	return args
}
