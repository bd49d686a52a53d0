package hammer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"time"
)

// The legacy agent, agent/hammer/kbh-hammer.c, is this package's hammer in
// C for the Windows releases Go binaries no longer run on (Vista / 2008 /
// 7 / 2008 R2). AgentArgv builds its command line from a Config;
// ParseAgentReport reads the one JSON object it prints on stdout.

// AgentName and AgentVersion are the "agent" and "version" fields of the
// report this package reads.
const (
	AgentName    = "kbh-hammer"
	AgentVersion = 1
)

// AgentModes are the modes the agent has (bind-no-port is Linux's).
var AgentModes = []Mode{ModeConnect, ModeBindConnect, ModeBindReuseAddr, ModePortScalability, ModeReuseUnicastPort}

// ErrAgentInterrupted is returned, wrapped and with the counts so far, for
// a report of a run stopped by Ctrl-C: an interrupted run proves nothing.
var ErrAgentInterrupted = errors.New("the agent's run was interrupted")

// maxAgentElapsed bounds elapsed_ms: the agent stops within MaxDuration
// plus the attempts in flight (each bounded by its timeouts).
const maxAgentElapsed = time.Hour

// AgentArgv is the agent's command line (exe first) for c. It refuses what
// the agent cannot do: a mode it lacks, a PortRange (the agent never
// changes the dynamic port range: narrow it with netsh around the run), a
// network namespace, a QuietWait, durations that are not whole
// milliseconds. The agent keeps no census and reports no events; its
// progress lines go to its stderr (Progress is not called).
func AgentArgv(exe string, c Config) ([]string, error) {
	if exe == "" {
		return nil, errors.New("agent command line: no executable")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var errs []error
	if !slices.Contains(AgentModes, c.Mode) {
		errs = append(errs, fmt.Errorf("mode %s: the agent has only %s", c.Mode, joinStrings(AgentModes)))
	}
	if !c.PortRange.IsZero() {
		errs = append(errs, fmt.Errorf("port range %s: the agent does not change the dynamic port range (narrow it with netsh around the run)", c.PortRange))
	}
	if c.Netns != "" {
		errs = append(errs, fmt.Errorf("netns %q: the agent runs on Windows, which has no network namespaces", c.Netns))
	}
	if c.QuietWait != 0 {
		errs = append(errs, errors.New("quiet wait: the agent does not wait for the port range to empty"))
	}
	if c.Duration%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("duration %s is not a whole number of milliseconds", c.Duration))
	}
	if c.Timeout%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("timeout %s is not a whole number of milliseconds", c.Timeout))
	}
	a := c.Target.Addr().Unmap()
	if a.Zone() != "" {
		errs = append(errs, fmt.Errorf("target %s: the agent takes no IPv6 zone", c.Target))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("agent command line: %w", err)
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }
	return []string{exe,
		"--target", netip.AddrPortFrom(a, c.Target.Port()).String(),
		"--workers", strconv.Itoa(c.Workers),
		"--count", strconv.Itoa(c.Count),
		"--duration", ms(c.Duration),
		"--mode", string(c.Mode),
		"--close", string(c.Close),
		"--payload", strconv.Itoa(c.Payload),
		"--timeout", ms(c.Timeout),
	}, nil
}

// ParseAgentReport reads the agent's JSON report into a Result (Target,
// Mode, Close, Elapsed, Attempts, Counts, First, ServerErrs, ServerErr;
// PortRange, Census and Events stay zero: the agent does not know them).
// It is strict: every field present with the right type and in range, no
// unknown field or class, the counts summing to attempts, a first example
// for exactly the classes seen, nothing after the object. A report of an
// interrupted run gives its Result and an error wrapping
// ErrAgentInterrupted.
func ParseAgentReport(data []byte) (*Result, error) {
	res, err := parseAgentReport(data)
	if err != nil {
		return res, fmt.Errorf("parsing the %s report: %w", AgentName, err)
	}
	return res, nil
}

func parseAgentReport(data []byte) (*Result, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			return nil, errors.New("empty report")
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the report object")
	}
	top, err := newJSONObject("", raw)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	agent, err := top.str("agent")
	if err != nil {
		return nil, err
	}
	if agent != AgentName {
		return nil, top.errorf("agent", "%q, want %q", agent, AgentName)
	}
	version, err := top.integer("version", math.MaxInt32)
	if err != nil {
		return nil, err
	}
	if version != AgentVersion {
		return nil, top.errorf("version", "%d, this parser reads version %d", version, AgentVersion)
	}
	target, err := top.str("target")
	if err != nil {
		return nil, err
	}
	if res.Target, err = netip.ParseAddrPort(target); err != nil || res.Target.Port() == 0 {
		return nil, top.errorf("target", "%q, want the listener's ADDR:PORT", target)
	}
	mode, err := top.str("mode")
	if err != nil {
		return nil, err
	}
	if res.Mode = Mode(mode); !slices.Contains(AgentModes, res.Mode) {
		return nil, top.errorf("mode", "unknown mode %q", mode)
	}
	closeOrder, err := top.str("close")
	if err != nil {
		return nil, err
	}
	if res.Close = Close(closeOrder); !slices.Contains(Closes, res.Close) {
		return nil, top.errorf("close", "unknown close %q", closeOrder)
	}
	if res.Elapsed, err = top.millis("elapsed_ms", maxAgentElapsed); err != nil {
		return nil, err
	}
	if res.Attempts, err = top.integer("attempts", math.MaxInt64); err != nil {
		return nil, err
	}

	counts, err := top.object("counts")
	if err != nil {
		return nil, err
	}
	var sum int64
	for _, c := range Classes {
		if res.Counts[c], err = counts.integer(c.String(), math.MaxInt64); err != nil {
			return nil, err
		}
		if sum += res.Counts[c]; sum < 0 {
			return nil, counts.errorf("", "overflow")
		}
	}
	if err := counts.noneLeft("unknown class"); err != nil {
		return nil, err
	}
	if sum != res.Attempts {
		return nil, counts.errorf("", "sum to %d, but attempts is %d", sum, res.Attempts)
	}

	first, err := top.object("first")
	if err != nil {
		return nil, err
	}
	for _, c := range Classes {
		_, has := first.fields[c.String()]
		switch {
		case !has && res.Counts[c] > 0:
			return nil, first.errorf(c.String(), "missing, but counts.%s is %d", c, res.Counts[c])
		case has && res.Counts[c] == 0:
			return nil, first.errorf(c.String(), "present, but counts.%s is 0", c)
		case !has:
			continue
		}
		ex, err := first.object(c.String())
		if err != nil {
			return nil, err
		}
		if res.First[c], err = ex.example(true, c != ClassSuccess, res.Elapsed); err != nil {
			return nil, err
		}
	}
	if err := first.noneLeft("unknown class"); err != nil {
		return nil, err
	}

	if res.ServerErrs, err = top.integer("server_errors", math.MaxInt64); err != nil {
		return nil, err
	}
	_, has := top.fields["server_error"]
	switch {
	case !has && res.ServerErrs > 0:
		return nil, top.errorf("server_error", "missing, but server_errors is %d", res.ServerErrs)
	case has && res.ServerErrs == 0:
		return nil, top.errorf("server_error", "present, but server_errors is 0")
	case has:
		ex, err := top.object("server_error")
		if err != nil {
			return nil, err
		}
		// The listener drains the last connections after the
		// workers stop: its errors may come after elapsed_ms.
		if res.ServerErr, err = ex.example(false, true, maxAgentElapsed); err != nil {
			return nil, err
		}
	}
	interrupted := false
	if _, has := top.fields["interrupted"]; has {
		if interrupted, err = top.boolean("interrupted"); err != nil {
			return nil, err
		}
	}
	if err := top.noneLeft("unknown field"); err != nil {
		return nil, err
	}
	if interrupted {
		return res, fmt.Errorf("%w after %d attempts in %s", ErrAgentInterrupted, res.Attempts, res.Elapsed.Round(time.Millisecond))
	}
	return res, nil
}

// jsonObject is one JSON object of the report; fields are removed as they
// are read, so that what is left is unknown.
type jsonObject struct {
	path   string // "" for the top level, else "counts", "first.addrinuse", ...
	fields map[string]json.RawMessage
}

func newJSONObject(path string, raw json.RawMessage) (*jsonObject, error) {
	o := &jsonObject{path: path}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		if path == "" {
			return nil, errors.New("not a JSON object")
		}
		return nil, fmt.Errorf("field %s: want an object", path)
	}
	if err := json.Unmarshal(raw, &o.fields); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *jsonObject) name(field string) string {
	switch {
	case field == "":
		return o.path
	case o.path == "":
		return field
	}
	return o.path + "." + field
}

func (o *jsonObject) errorf(field, format string, args ...any) error {
	return fmt.Errorf("field %s: %s", o.name(field), fmt.Sprintf(format, args...))
}

// take removes and returns a field's value, or fails naming it.
func (o *jsonObject) take(field string) ([]byte, error) {
	raw, ok := o.fields[field]
	if !ok {
		return nil, o.errorf(field, "missing")
	}
	delete(o.fields, field)
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, o.errorf(field, "null")
	}
	return raw, nil
}

func (o *jsonObject) noneLeft(what string) error {
	if len(o.fields) == 0 {
		return nil
	}
	names := make([]string, 0, len(o.fields))
	for k := range o.fields {
		names = append(names, strconv.Quote(k))
	}
	sort.Strings(names)
	where := ""
	if o.path != "" {
		where = " in " + o.path
	}
	return fmt.Errorf("%s%s: %s", what, where, names[0])
}

func (o *jsonObject) str(field string) (string, error) {
	raw, err := o.take(field)
	if err != nil {
		return "", err
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", o.errorf(field, "want a string, have %.40s", raw)
	}
	return s, nil
}

func (o *jsonObject) boolean(field string) (bool, error) {
	raw, err := o.take(field)
	if err != nil {
		return false, err
	}
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, o.errorf(field, "want true or false, have %.40s", raw)
}

// integer reads a whole number in 0..hi.
func (o *jsonObject) integer(field string, hi int64) (int64, error) {
	raw, err := o.take(field)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	switch {
	case err != nil:
		return 0, o.errorf(field, "want a whole number, have %.40s", raw)
	case n < 0:
		return 0, o.errorf(field, "negative (%d)", n)
	case n > hi:
		return 0, o.errorf(field, "%d out of 0..%d", n, hi)
	}
	return n, nil
}

// millis reads a non-negative number of milliseconds, at most hi.
func (o *jsonObject) millis(field string, hi time.Duration) (time.Duration, error) {
	raw, err := o.take(field)
	if err != nil {
		return 0, err
	}
	var ms float64
	if (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) || json.Unmarshal(raw, &ms) != nil {
		return 0, o.errorf(field, "want a number of milliseconds, have %.40s", raw)
	}
	if ms < 0 {
		return 0, o.errorf(field, "negative (%.40s)", raw)
	}
	if ms > float64(hi/time.Millisecond) {
		return 0, o.errorf(field, "%.40s ms is more than %s", raw, hi)
	}
	return time.Duration(math.Round(ms * float64(time.Millisecond))), nil
}

func (o *jsonObject) object(field string) (*jsonObject, error) {
	raw, err := o.take(field)
	if err != nil {
		return nil, err
	}
	return newJSONObject(o.name(field), raw)
}

// example reads {"op","err",["local_port",]"at_ms"}: a failure's op and err
// are set, a success's are empty; at_ms is at most until.
func (o *jsonObject) example(withPort, failure bool, until time.Duration) (*Example, error) {
	ex := &Example{}
	var err error
	if ex.Op, err = o.str("op"); err != nil {
		return nil, err
	}
	if ex.Err, err = o.str("err"); err != nil {
		return nil, err
	}
	if failure && (ex.Op == "" || ex.Err == "") {
		return nil, o.errorf("", "a failure without op and err")
	}
	if !failure && (ex.Op != "" || ex.Err != "") {
		return nil, o.errorf("", "a success with op %q and err %q", ex.Op, ex.Err)
	}
	if withPort {
		port, err := o.integer("local_port", math.MaxUint16)
		if err != nil {
			return nil, err
		}
		ex.LocalPort = uint16(port)
	}
	if ex.At, err = o.millis("at_ms", maxAgentElapsed); err != nil {
		return nil, err
	}
	if ex.At > until {
		return nil, o.errorf("at_ms", "%s is after the end of the run (%s)", ex.At, until)
	}
	if err := o.noneLeft("unknown field"); err != nil {
		return nil, err
	}
	return ex, nil
}
