package standin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// powershell.exe (Windows PowerShell 5.1) with the NetTCPIP cmdlets, as
// their reference pages document them (learn.microsoft.com,
// powershell/module/nettcpip): New-NetRoute, Remove-NetRoute, Get-NetRoute,
// New-NetIPAddress, Remove-NetIPAddress, Get-NetIPAddress; and the
// pipeline pieces kbharness's scripts use: Select-Object (properties and
// calculated properties), ConvertTo-Json, Out-Null, Get-Command.
//
// Stores, per the reference pages: New-NetRoute and New-NetIPAddress
// without -PolicyStore write both stores ("By default, a route is saved in
// both stores"; "the default entries are created in both the ActiveStore
// and the PersistentStore"), with ActiveStore only the active one;
// -PolicyStore PersistentStore is documented as "Cannot be used" (routes)
// and "Specify ActiveStore only" (addresses) and is rejected. Get-NetRoute
// and Get-NetIPAddress without -PolicyStore read the active store.
// Remove-NetIPAddress without -PolicyStore removes from the active store
// ("The default value is ActiveStore"). Remove-NetRoute without
// -PolicyStore removes from both stores: the page does not say; this is
// the stand-ins' reading, the one `route delete` documents.

// Errors as PowerShell prints them: "<Cmdlet> : <message>" then the
// category and the fully qualified error id. The messages are the CIM
// provider's (from captures; not documented), the parameter binding ones
// PowerShell's.
type psError struct {
	cmdlet   string
	msg      string
	category string
	fqid     string
}

func (e *psError) Error() string { return e.cmdlet + " : " + e.msg }

// errUnsupported carries an unsupported-command rejection through the
// evaluation; it always ends the script.
type errUnsupported struct{ what string }

func (e *errUnsupported) Error() string { return e.what }

func unsupportedf(format string, args ...any) error {
	return &errUnsupported{what: fmt.Sprintf(format, args...)}
}

func (c *cmd) powershell(args []string) {
	script, err := powershellScript(args)
	if err != nil {
		c.unsupported("powershell %s: %v", quoteArgs(args), err)
		return
	}
	if m := putScript.FindStringSubmatch(script); m != nil {
		c.putFile(strings.ReplaceAll(m[1], "''", "'"))
		return
	}
	if isLegacyScript(script) {
		c.legacyIPHelper(script)
		return
	}
	if strings.TrimSpace(script) == psVersionProbe {
		c.printf("%s\n", c.s.os.PowerShell)
		return
	}
	stmts, err := parseScript(script)
	if err != nil {
		c.unsupported("powershell script %q: %v", script, err)
		return
	}
	r := &psRun{c: c}
	c.exit = r.run(stmts)
}

// psVersionProbe is the one expression over $PSVersionTable the stand-in
// answers: target.Probe's.
const psVersionProbe = "$PSVersionTable.PSVersion.ToString()"

// notRecognized is PowerShell's error for a cmdlet the OS lacks: the
// NetTCPIP ones before Windows 8 / Server 2012.
func (r *psRun) notRecognized(name string) error {
	if r.c.s.os.NetTCPIP || !strings.Contains(strings.ToLower(name), "-net") {
		return nil
	}
	return r.writeError(&psError{cmdlet: name,
		msg:      fmt.Sprintf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", name),
		category: fmt.Sprintf("ObjectNotFound: (%s:String) [], CommandNotFoundException", name),
		fqid:     "CommandNotFoundException"}, "")
}

// powershellScript returns the script of `powershell.exe [-NoProfile]
// [-NonInteractive] [-NoLogo] [-ExecutionPolicy X] -Command SCRIPT...` or
// `... -EncodedCommand BASE64` (UTF-16LE).
func powershellScript(args []string) (string, error) {
	for i := 0; i < len(args); i++ {
		switch strings.ToLower(args[i]) {
		case "-noprofile", "-nop", "-noninteractive", "-noni", "-nologo":
		case "-executionpolicy", "-ep":
			i++
		case "-command", "-c":
			rest := args[i+1:]
			if len(rest) == 0 || (len(rest) == 1 && rest[0] == "-") {
				return "", errors.New("-Command without a script (standard input)")
			}
			return strings.Join(rest, " "), nil
		case "-encodedcommand", "-enc", "-ec", "-e":
			if i+1 >= len(args) {
				return "", errors.New("-EncodedCommand without its argument")
			}
			b, err := base64.StdEncoding.DecodeString(args[i+1])
			if err != nil || len(b)%2 != 0 {
				return "", fmt.Errorf("-EncodedCommand %q is not base64 of UTF-16LE text", args[i+1])
			}
			u := make([]uint16, len(b)/2)
			for j := range u {
				u[j] = uint16(b[2*j]) | uint16(b[2*j+1])<<8
			}
			return string(utf16.Decode(u)), nil
		default:
			return "", fmt.Errorf("option %s (the stand-in implements -NoProfile, -NonInteractive, -NoLogo, -ExecutionPolicy, -Command, -EncodedCommand)", args[i])
		}
	}
	return "", errors.New("no -Command or -EncodedCommand")
}

// psRun evaluates one script.
type psRun struct {
	c    *cmd
	stop bool // $ErrorActionPreference = 'Stop'
}

// errStop ends the script after a terminating error was written.
var errStop = errors.New("terminating error")

// run evaluates the statements and returns powershell.exe's exit status:
// 1 when a terminating error ended the script or the last statement
// failed, else 0.
func (r *psRun) run(stmts []psStatement) int {
	failed := false
	for _, st := range stmts {
		failed = false
		if st.assignVar != "" {
			if !strings.EqualFold(st.assignVar, "ErrorActionPreference") {
				r.c.unsupported("powershell: assigning $%s", st.assignVar)
				return 1
			}
			pref, err := actionPreference(st.assignVal.s)
			if err != nil {
				r.c.unsupported("powershell: $ErrorActionPreference = %q", st.assignVal.s)
				return 1
			}
			r.stop = pref == "stop"
			continue
		}
		objs, err := r.pipeline(st.pipe, nil)
		if err != nil {
			var ni *errUnsupported
			if errors.As(err, &ni) {
				r.c.unsupported("powershell: %s", ni.what)
				return 1
			}
			if errors.Is(err, errStop) {
				return 1
			}
			var pe *psError
			if !errors.As(err, &pe) {
				r.c.internal(err)
				return 1
			}
			failed = true
		}
		if err := r.output(objs); err != nil {
			r.c.unsupported("powershell: %v", err)
			return 1
		}
	}
	if failed {
		return 1
	}
	return 0
}

func actionPreference(s string) (string, error) {
	v := strings.ToLower(s)
	switch v {
	case "stop", "continue", "silentlycontinue", "ignore":
		return v, nil
	}
	return "", fmt.Errorf("ErrorAction %q", s)
}

// writeError prints a cmdlet's error; with Stop in effect (the cmdlet's
// -ErrorAction or $ErrorActionPreference) it ends the script.
func (r *psRun) writeError(e *psError, action string) error {
	if action == "silentlycontinue" || action == "ignore" {
		return nil
	}
	r.c.eprintf("%s\n    + CategoryInfo          : %s\n    + FullyQualifiedErrorId : %s\n\n", e.Error(), e.category, e.fqid)
	if action == "stop" || (action == "" && r.stop) {
		return errStop
	}
	return e
}

func (r *psRun) pipeline(p psPipeline, input []psObject) ([]psObject, error) {
	objs := input
	for i, el := range p {
		var err error
		if el.cmd == nil {
			if i > 0 {
				return nil, unsupportedf("a parenthesized expression inside a pipeline")
			}
			objs, err = r.pipeline(el.sub, nil)
			if err != nil {
				return nil, err
			}
			if el.member != "" {
				if objs, err = memberOf(objs, el.member); err != nil {
					return nil, err
				}
			}
			continue
		}
		objs, err = r.invoke(el.cmd, objs, i > 0)
		if err != nil {
			return objs, err
		}
	}
	return objs, nil
}

// memberOf is (expr).Member over every object.
func memberOf(objs []psObject, member string) ([]psObject, error) {
	var out []psObject
	for _, o := range objs {
		v, ok := o.get(member)
		if !ok {
			return nil, unsupportedf("property %s of %s", member, o.typeName)
		}
		out = append(out, psObject{typeName: "System.String", scalar: v})
	}
	return out, nil
}

// psParamSpec declares a cmdlet parameter.
type psParamSpec struct {
	name string
	kind string // "switch", "string", "uint16", "uint32", "byte", "int", "value"
}

// psCmdlet declares a cmdlet: its parameters (the real ones; impl lists
// those the stand-in implements), the positional order, and its body.
type psCmdlet struct {
	params      []psParamSpec
	positional  []string
	impl        []string
	acceptsPipe bool
	run         func(r *psRun, name string, p map[string]psBound, input []psObject) ([]psObject, error)
}

// psBound is a bound parameter value.
type psBound struct {
	v   psValue
	set bool
}

func (b psBound) str() string { return b.v.s }

var commonParams = []psParamSpec{{"ErrorAction", "string"}, {"WarningAction", "string"}, {"Verbose", "switch"},
	{"Debug", "switch"}, {"ErrorVariable", "string"}, {"OutVariable", "string"}, {"WhatIf", "switch"}, {"Confirm", "switch"}}

func (r *psRun) invoke(c *psCommand, input []psObject, piped bool) ([]psObject, error) {
	if err := r.notRecognized(c.name); err != nil {
		return nil, err
	}
	name, def, ok := findCmdlet(c.name)
	if !ok {
		return nil, unsupportedf("cmdlet %s (the stand-in implements %s)", c.name, strings.Join(cmdletNames(), ", "))
	}
	if piped && !def.acceptsPipe {
		return nil, unsupportedf("piping into %s", name)
	}
	bound, err := r.bind(name, def, c.args)
	if err != nil {
		return nil, err
	}
	for p, b := range bound {
		if !b.set {
			continue
		}
		if p == "WhatIf" || (!slices.Contains(def.impl, p) && !slices.Contains([]string{"ErrorAction", "Confirm"}, p)) {
			return nil, unsupportedf("%s -%s (the stand-in implements %s)", name, p, strings.Join(def.impl, ", "))
		}
	}
	return def.run(r, name, bound, input)
}

// bind binds arguments to parameters as PowerShell does: names matched
// case-insensitively or by a unique prefix, -Name:value, switches, then
// positional values in order.
func (r *psRun) bind(cmdlet string, def psCmdlet, args []psArg) (map[string]psBound, error) {
	specs := append(slices.Clone(def.params), commonParams...)
	bound := map[string]psBound{}
	var positional []psValue
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.param == "" {
			positional = append(positional, *a.value)
			continue
		}
		spec, err := matchParam(cmdlet, specs, a.param)
		if err != nil {
			return nil, r.writeError(err, "stop")
		}
		if _, dup := bound[spec.name]; dup {
			return nil, r.writeError(&psError{cmdlet, fmt.Sprintf("Cannot bind parameter because parameter '%s' is specified more than once.", spec.name),
				"InvalidArgument: (:) [" + cmdlet + "], ParameterBindingException", "ParameterAlreadyBound," + cmdlet}, "stop")
		}
		var v psValue
		switch {
		case a.colon:
			v = *a.value
		case spec.kind == "switch":
			v = psValue{kind: vBool, b: true}
		case i+1 < len(args) && args[i+1].param == "":
			i++
			v = *args[i].value
		default:
			return nil, r.writeError(&psError{cmdlet, fmt.Sprintf("Missing an argument for parameter '%s'. Specify a parameter of type 'System.String' and try again.", spec.name),
				"InvalidArgument: (:) [" + cmdlet + "], ParameterBindingException", "MissingArgument," + cmdlet}, "stop")
		}
		if err := checkParamValue(cmdlet, spec, v); err != nil {
			return nil, r.writeError(err, "stop")
		}
		bound[spec.name] = psBound{v: v, set: true}
	}
	for i, v := range positional {
		if i >= len(def.positional) {
			return nil, r.writeError(&psError{cmdlet, fmt.Sprintf("A positional parameter cannot be found that accepts argument '%s'.", v.s),
				"InvalidArgument: (:) [" + cmdlet + "], ParameterBindingException", "PositionalParameterNotFound," + cmdlet}, "stop")
		}
		name := def.positional[i]
		if _, dup := bound[name]; dup {
			return nil, r.writeError(&psError{cmdlet, fmt.Sprintf("A positional parameter cannot be found that accepts argument '%s'.", v.s),
				"InvalidArgument: (:) [" + cmdlet + "], ParameterBindingException", "PositionalParameterNotFound," + cmdlet}, "stop")
		}
		spec, _ := matchParam(cmdlet, specs, name)
		if err := checkParamValue(cmdlet, spec, v); err != nil {
			return nil, r.writeError(err, "stop")
		}
		bound[name] = psBound{v: v, set: true}
	}
	if ea, ok := bound["ErrorAction"]; ok {
		if _, err := actionPreference(ea.str()); err != nil {
			return nil, unsupportedf("%s -ErrorAction %s", cmdlet, ea.str())
		}
	}
	return bound, nil
}

func matchParam(cmdlet string, specs []psParamSpec, name string) (psParamSpec, *psError) {
	var found []psParamSpec
	for _, s := range specs {
		if strings.EqualFold(s.name, name) {
			return s, nil
		}
		if strings.HasPrefix(strings.ToLower(s.name), strings.ToLower(name)) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return psParamSpec{}, &psError{cmdlet, fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", name),
			"InvalidArgument: (:) [" + cmdlet + "], ParameterBindingException", "NamedParameterNotFound," + cmdlet}
	}
	var names []string
	for _, f := range found {
		names = append(names, "-"+f.name)
	}
	return psParamSpec{}, &psError{cmdlet, fmt.Sprintf("Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: %s.", name, strings.Join(names, " ")),
		"InvalidArgument: (:) [" + cmdlet + "], ParameterBindingException", "AmbiguousParameter," + cmdlet}
}

// checkParamValue converts numbers as PowerShell's parameter binder does
// (an out-of-range value fails with its argument transformation error).
func checkParamValue(cmdlet string, spec psParamSpec, v psValue) *psError {
	var max uint64
	var typ string
	switch spec.kind {
	case "uint16":
		max, typ = 65535, "UInt16"
	case "uint32":
		max, typ = 4294967295, "UInt32"
	case "byte":
		max, typ = 255, "Byte"
	default:
		return nil
	}
	n, err := strconv.ParseUint(v.s, 10, 64)
	if err == nil && n <= max {
		return nil
	}
	why := "Input string was not in a correct format."
	if err == nil || errors.Is(err, strconv.ErrRange) {
		why = fmt.Sprintf("Value was either too large or too small for a %s.", typ)
	}
	return &psError{cmdlet, fmt.Sprintf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"System.%s\". Error: \"%s\"", spec.name, v.s, typ, why),
		"InvalidData: (:) [" + cmdlet + "], ParameterBindingArgumentTransformationException", "ParameterArgumentTransformationError," + cmdlet}
}

// errorAction is the cmdlet's -ErrorAction, lower-cased, or "".
func errorAction(p map[string]psBound) string {
	if b, ok := p["ErrorAction"]; ok {
		s, _ := actionPreference(b.str())
		return s
	}
	return ""
}

// requireConfirmOff insists on -Confirm:$false for the Remove cmdlets:
// without it PowerShell asks, which a non-interactive run cannot answer.
func requireConfirmOff(name string, p map[string]psBound) error {
	if b, ok := p["Confirm"]; ok && b.v.kind == vBool && !b.v.b {
		return nil
	}
	return unsupportedf("%s without -Confirm:$false (it would ask for confirmation)", name)
}

// policyStore reads -PolicyStore: "" (absent), "active" or "persistent".
func policyStore(p map[string]psBound) (string, error) {
	b, ok := p["PolicyStore"]
	if !ok {
		return "", nil
	}
	switch strings.ToLower(b.str()) {
	case "activestore":
		return "active", nil
	case "persistentstore":
		return "persistent", nil
	}
	return "", unsupportedf("-PolicyStore %s (a Group Policy store)", b.str())
}

// resolveInterface reads -InterfaceAlias or -InterfaceIndex.
func (r *psRun) resolveInterface(name string, v *view, p map[string]psBound) (Link, *psError, bool) {
	if b, ok := p["InterfaceAlias"]; ok {
		if l, ok := v.linkByName(b.str()); ok {
			return l, nil, true
		}
		return Link{}, &psError{name, fmt.Sprintf("No MSFT_NetIPInterface objects found with property 'InterfaceAlias' equal to '%s'.  Verify the value of the property and retry.", b.str()),
			fmt.Sprintf("ObjectNotFound: (%s:String) [%s], CimJobException", b.str(), name), "CmdletizationQuery_NotFound_InterfaceAlias," + name}, true
	}
	if b, ok := p["InterfaceIndex"]; ok {
		idx, _ := strconv.Atoi(b.str())
		if l, ok := v.linkByIndex(idx); ok {
			return l, nil, true
		}
		return Link{}, &psError{name, fmt.Sprintf("No MSFT_NetIPInterface objects found with property 'InterfaceIndex' equal to '%s'.  Verify the value of the property and retry.", b.str()),
			fmt.Sprintf("ObjectNotFound: (%s:UInt32) [%s], CimJobException", b.str(), name), "CmdletizationQuery_NotFound_InterfaceIndex," + name}, true
	}
	return Link{}, nil, false
}

func invalidParameter(name, what string) *psError {
	return &psError{name, msgInvalidParam, fmt.Sprintf("InvalidArgument: (%s) [%s], CimException", what, name), "Windows System Error 87," + name}
}

func parsePrefixParam(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return p, p.Addr().Zone() == ""
}
