package winevent

import (
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
	Provider string    // Provider/@Name ("Tcpip"), or the text form's Source
	EventID  int       // EventID (without Qualifiers)
	Level    string    // "3" from XML, "Warning" from text
	Time     time.Time // TimeCreated/@SystemTime; zero if the text form's date did not parse
	TimeText string    // the date as printed
	RecordID uint64    // EventRecordID; 0 if not printed
	Channel  string    // "System"
	Computer string    // "" if not printed
	Data     []Data    // EventData/Data
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
