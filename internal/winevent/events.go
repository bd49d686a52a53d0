package winevent

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Event is one event-log record, from its System block (and, from text
// output, its description).
type Event struct {
	Provider    string    // Provider/@Name ("Tcpip"), or the text form's Source
	EventID     int       // EventID (without Qualifiers)
	Level       string    // "3" from XML, "Warning" from text
	Time        time.Time // TimeCreated/@SystemTime; zero if the text form's date did not parse
	TimeText    string    // the date as printed
	RecordID    uint64    // EventRecordID; 0 if not printed
	Channel     string    // "System"
	Computer    string    // "" if not printed
	Description string    // message text (text form only)
	Data        []Data    // EventData/Data
}

// Data is one EventData/Data item.
type Data struct {
	Name  string
	Value string
}

// ErrTruncated matches errors for output that stops inside an event. The
// events whose System block was complete are still returned.
var ErrTruncated = errors.New("event output truncated")

type xmlEvent struct {
	System struct {
		Provider struct {
			Name string `xml:"Name,attr"`
		} `xml:"Provider"`
		EventID     string `xml:"EventID"`
		Level       string `xml:"Level"`
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		} `xml:"TimeCreated"`
		EventRecordID string `xml:"EventRecordID"`
		Channel       string `xml:"Channel"`
		Computer      string `xml:"Computer"`
	} `xml:"System"`
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"Data"`
	} `xml:"EventData"`
}

// ParseXML parses `wevtutil qe ... /f:xml` output: <Event> elements one
// after another (no root element), inside an <Events> root (/e:Events), or
// after other text (Event Viewer's "Copy details as text" puts the XML
// after an "Event Xml:" line). Output cut inside an event gives the events
// so far and an error matching ErrTruncated.
func ParseXML(data []byte) ([]Event, error) {
	start := bytes.Index(data, []byte("<Event"))
	if start < 0 {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, nil
		}
		return nil, errors.New("parsing event XML: no <Event> element")
	}
	dec := xml.NewDecoder(bytes.NewReader(data[start:]))
	var events []Event
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, fmt.Errorf("parsing event XML at byte %d: %w", start+int(dec.InputOffset()), err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Event" {
			continue
		}
		var x xmlEvent
		off := start + int(dec.InputOffset())
		derr := dec.DecodeElement(&x, &se)
		ev, cerr := x.event()
		if derr != nil {
			if isEOF(derr) {
				if cerr == nil {
					events = append(events, ev)
				}
				return events, fmt.Errorf("parsing event XML: event %d at byte %d: %w", len(events), off, ErrTruncated)
			}
			return events, fmt.Errorf("parsing event XML: event %d at byte %d: %w", len(events)+1, off, derr)
		}
		if cerr != nil {
			return events, fmt.Errorf("parsing event XML: event %d at byte %d: %w", len(events)+1, off, cerr)
		}
		events = append(events, ev)
	}
}

// isEOF reports input that ended inside an element.
func isEOF(err error) bool {
	var syn *xml.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &syn) && syn.Msg == "unexpected EOF")
}

func (x *xmlEvent) event() (Event, error) {
	s := &x.System
	if s.Provider.Name == "" || s.EventID == "" {
		return Event{}, errors.New("no Provider Name or EventID")
	}
	id, err := strconv.Atoi(strings.TrimSpace(s.EventID))
	if err != nil {
		return Event{}, fmt.Errorf("EventID %q: %w", s.EventID, err)
	}
	ev := Event{Provider: s.Provider.Name, EventID: id, Level: s.Level, TimeText: s.TimeCreated.SystemTime, Channel: s.Channel, Computer: s.Computer}
	if s.TimeCreated.SystemTime != "" {
		t, err := time.Parse(time.RFC3339Nano, s.TimeCreated.SystemTime)
		if err != nil {
			return Event{}, fmt.Errorf("TimeCreated %q: %w", s.TimeCreated.SystemTime, err)
		}
		ev.Time = t
	}
	if s.EventRecordID != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(s.EventRecordID), 10, 64)
		if err != nil {
			return Event{}, fmt.Errorf("EventRecordID %q: %w", s.EventRecordID, err)
		}
		ev.RecordID = n
	}
	for _, d := range x.EventData.Data {
		ev.Data = append(ev.Data, Data{Name: d.Name, Value: strings.TrimSpace(d.Value)})
	}
	return ev, nil
}

// textDateLayouts are the dates the text forms print: wevtutil /f:text
// (local time, no zone) and Event Viewer's en-US short form.
var textDateLayouts = []string{
	"2006-01-02T15:04:05.000",
	"2006-01-02T15:04:05.0000000Z",
	"2006-01-02T15:04:05Z07:00",
	"1/2/06 3:04:05 PM",
	"1/2/2006 3:04:05 PM",
}

// ParseText parses the "Key: value" text forms: `wevtutil qe ... /f:text`
// (records start with "Event[N]:") and Event Viewer's "Copy details as
// text" (records start with "Log Name:"). The description runs from
// "Description:" to the next record or "Event Xml:". Text dates carry no
// zone; Time is set as if UTC and TimeText keeps the original.
func ParseText(text string) ([]Event, error) {
	var (
		events []Event
		cur    *Event
		inDesc bool
		desc   []string
	)
	flush := func() {
		if cur != nil {
			cur.Description = strings.TrimSpace(strings.Join(desc, "\n"))
			events = append(events, *cur)
		}
		cur, inDesc, desc = nil, false, nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "Event[") && strings.HasSuffix(trimmed, "]:") {
			flush()
			cur = &Event{}
			continue
		}
		key, val, isKV := strings.Cut(trimmed, ":")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if key == "Log Name" && isKV && (cur == nil || cur.Channel != "") {
			flush()
			cur = &Event{}
		}
		if cur == nil {
			continue
		}
		if trimmed == "Event Xml:" {
			flush()
			continue
		}
		if inDesc {
			desc = append(desc, trimmed)
			continue
		}
		if !isKV {
			continue
		}
		switch key {
		case "Log Name":
			cur.Channel = val
		case "Source":
			cur.Provider = val
		case "Date":
			cur.TimeText = val
			for _, l := range textDateLayouts {
				if t, err := time.Parse(l, val); err == nil {
					cur.Time = t
					break
				}
			}
		case "Event ID":
			id, err := strconv.Atoi(val)
			if err != nil {
				return events, fmt.Errorf("parsing event text: line %d: Event ID %q: %w", n, val, err)
			}
			cur.EventID = id
		case "Level":
			cur.Level = val
		case "Computer":
			cur.Computer = val
		case "Description":
			inDesc = true
			if val != "" {
				desc = append(desc, val)
			}
		}
	}
	flush()
	for i, ev := range events {
		if ev.Provider == "" || ev.EventID == 0 {
			return events, fmt.Errorf("parsing event text: record %d has no Source or Event ID", i+1)
		}
	}
	return events, nil
}

// Count returns how many events have the provider and one of the IDs.
func Count(events []Event, s Selector) int {
	n := 0
	for _, ev := range events {
		if !strings.EqualFold(ev.Provider, s.Provider) {
			continue
		}
		if len(s.EventIDs) == 0 {
			n++
			continue
		}
		for _, id := range s.EventIDs {
			if ev.EventID == id {
				n++
				break
			}
		}
	}
	return n
}
