// Package winevent builds Windows event-log queries (`wevtutil qe` argv and
// the XPath that EvtQuery takes) and parses what they print, plus the
// output of `netstat -ano`. Everything here is pure: it is tested on every
// OS against real captured samples, and callers run the argv themselves.
package winevent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Selector picks events of one provider with some event IDs.
type Selector struct {
	Provider string // System/Provider/@Name, e.g. "Tcpip"
	EventIDs []int  // System/EventID; empty: any ID of the provider
}

// Selectors the kbharness suites query.
var (
	// TcpipPortEvents: 4227 (EVENT_TCPIP_TCP_TIME_WAIT_COLLISION, the
	// KB2901197 signature) and 4231 (ephemeral port space exhausted).
	TcpipPortEvents = Selector{Provider: "Tcpip", EventIDs: []int{4227, 4231}}
	// Crash evidence of an unexpected restart (KB943650): Kernel-Power 41,
	// EventLog 6008, BugCheck 1001 (logged by WER-SystemErrorReporting).
	KernelPower41 = Selector{Provider: "Microsoft-Windows-Kernel-Power", EventIDs: []int{41}}
	EventLog6008  = Selector{Provider: "EventLog", EventIDs: []int{6008}}
	BugCheck1001  = Selector{Provider: "Microsoft-Windows-WER-SystemErrorReporting", EventIDs: []int{1001}}
)

// Format is a wevtutil output format.
type Format string

const (
	FormatXML  Format = "xml"
	FormatText Format = "text"
)

// Query is one event-log query.
type Query struct {
	Log       string     // channel, e.g. "System"
	Selectors []Selector // ORed; at least one
	Since     time.Time  // TimeCreated >= Since; zero: no lower bound
	Until     time.Time  // TimeCreated <= Until; zero: no upper bound
	Format    Format     // "" is FormatXML
	Max       int        // /c:N; 0: all
	Newest    bool       // /rd:true: newest first
}

// systemTimeLayout is the form of @SystemTime in event XML.
const systemTimeLayout = "2006-01-02T15:04:05.000Z"

func checkLiteral(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if strings.ContainsAny(s, "'\"\r\n") {
		return fmt.Errorf("%s %q contains a quote or a line break", field, s)
	}
	return nil
}

// XPath returns the structured-query XPath for EvtQuery or `wevtutil qe
// /q:`, e.g.
//
//	*[System[Provider[@Name='Tcpip'] and (EventID=4227 or EventID=4231) and TimeCreated[@SystemTime>='2024-05-01T10:00:00.000Z']]]
func (q Query) XPath() (string, error) {
	if len(q.Selectors) == 0 {
		return "", errors.New("building event query: no selector")
	}
	var sels []string
	for i, s := range q.Selectors {
		if err := checkLiteral(fmt.Sprintf("selector %d provider", i), s.Provider); err != nil {
			return "", fmt.Errorf("building event query: %w", err)
		}
		terms := []string{fmt.Sprintf("Provider[@Name='%s']", s.Provider)}
		if len(s.EventIDs) > 0 {
			ids := make([]string, len(s.EventIDs))
			for j, id := range s.EventIDs {
				if id < 0 || id > 65535 {
					return "", fmt.Errorf("building event query: selector %d event ID %d out of 0..65535", i, id)
				}
				ids[j] = "EventID=" + strconv.Itoa(id)
			}
			terms = append(terms, "("+strings.Join(ids, " or ")+")")
		}
		sels = append(sels, strings.Join(terms, " and "))
	}
	var parts []string
	if len(sels) == 1 {
		parts = sels
	} else {
		for i := range sels {
			sels[i] = "(" + sels[i] + ")"
		}
		parts = []string{"(" + strings.Join(sels, " or ") + ")"}
	}
	var times []string
	if !q.Since.IsZero() {
		times = append(times, "@SystemTime>='"+q.Since.UTC().Format(systemTimeLayout)+"'")
	}
	if !q.Until.IsZero() {
		if !q.Since.IsZero() && q.Until.Before(q.Since) {
			return "", fmt.Errorf("building event query: until %s before since %s", q.Until, q.Since)
		}
		times = append(times, "@SystemTime<='"+q.Until.UTC().Format(systemTimeLayout)+"'")
	}
	if len(times) > 0 {
		parts = append(parts, "TimeCreated["+strings.Join(times, " and ")+"]")
	}
	return "*[System[" + strings.Join(parts, " and ") + "]]", nil
}

// Argv returns `wevtutil qe <log> /q:<xpath> /f:xml|text [/c:N] [/rd:true]`.
// The XPath is one argument: os/exec quotes it for the command line.
func (q Query) Argv() ([]string, error) {
	if err := checkLiteral("log", q.Log); err != nil {
		return nil, fmt.Errorf("building event query: %w", err)
	}
	xpath, err := q.XPath()
	if err != nil {
		return nil, err
	}
	f := q.Format
	if f == "" {
		f = FormatXML
	}
	if f != FormatXML && f != FormatText {
		return nil, fmt.Errorf("building event query: unknown format %q", f)
	}
	argv := []string{"wevtutil", "qe", q.Log, "/q:" + xpath, "/f:" + string(f)}
	if q.Max < 0 {
		return nil, fmt.Errorf("building event query: max %d is negative", q.Max)
	}
	if q.Max > 0 {
		argv = append(argv, "/c:"+strconv.Itoa(q.Max))
	}
	if q.Newest {
		argv = append(argv, "/rd:true")
	}
	return argv, nil
}

// NetstatArgv returns `netstat -ano -p TCP`: IPv4 TCP connections with numeric
// addresses and owning PIDs.
func NetstatArgv() []string { return []string{"netstat", "-ano", "-p", "TCP"} }
