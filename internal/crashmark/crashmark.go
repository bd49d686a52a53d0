// Package crashmark notices a host that crashed during a stress. A marker
// file is written before the stress and removed after it; a marker found at
// the next start means the run never finished. The System event log is then
// searched, after the marker's time, for the evidence of an unexpected
// restart — Kernel-Power 41, EventLog 6008, BugCheck 1001 — and the run is
// reported as "host crashed during <scenario>" with those events.
package crashmark

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kbharness/kbharness/internal/winevent"
)

// Marker is the content of a marker file.
type Marker struct {
	Scenario string    `json:"scenario"` // e.g. "KB943650"
	Written  time.Time `json:"written"`  // when the stress was about to start
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
}

// DefaultPath is the marker file of scenario under the user cache directory
// (%LocalAppData% on Windows, $XDG_CACHE_HOME or ~/.cache elsewhere), which
// survives a reboot.
func DefaultPath(scenario string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the crash marker of %s: %w", scenario, err)
	}
	return filepath.Join(dir, "kbharness", "crash-marker-"+scenario+".json"), nil
}

// Write writes the marker of scenario at path and syncs it to disk, so it
// survives the crash it is there to notice.
func Write(path, scenario string) (*Marker, error) {
	host, _ := os.Hostname()
	m := &Marker{Scenario: scenario, Written: time.Now().UTC(), Host: host, PID: os.Getpid()}
	if err := WriteMarker(path, *m); err != nil {
		return nil, err
	}
	return m, nil
}

// WriteMarker writes m at path and syncs it to disk.
func WriteMarker(path string, m Marker) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("writing crash marker %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing crash marker %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing crash marker %s: %w", path, err)
	}
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("writing crash marker %s: %w", path, err)
	}
	return nil
}

// Read reads the marker at path. A missing marker is an error matching
// os.ErrNotExist; a damaged one names the file.
func Read(path string) (*Marker, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading crash marker: %w", err)
	}
	var m Marker
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("reading crash marker %s: %w", path, err)
	}
	if m.Scenario == "" || m.Written.IsZero() {
		return nil, fmt.Errorf("reading crash marker %s: no scenario or time", path)
	}
	return &m, nil
}

// Clear removes the marker: the stress finished. A missing marker is fine.
func Clear(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clearing crash marker: %w", err)
	}
	return nil
}

// CrashEvidence are the System-log events of an unexpected restart.
var CrashEvidence = []winevent.Selector{winevent.KernelPower41, winevent.EventLog6008, winevent.BugCheck1001}

// Query is the System-log query for crash evidence after since
// (`wevtutil qe System /q:... /f:xml`).
func Query(since time.Time) winevent.Query {
	return winevent.Query{Log: "System", Selectors: CrashEvidence, Since: since, Format: winevent.FormatXML}
}

// Finding is what a marker left by an unfinished run means.
type Finding struct {
	Marker Marker
	Events []winevent.Event // crash evidence after the marker's time, oldest first
	// QueryErr says why the event log could not be read (e.g. not Windows).
	QueryErr error
}

// Crashed reports whether the event log shows an unexpected restart after
// the marker.
func (f *Finding) Crashed() bool { return len(f.Events) > 0 }

func (f *Finding) String() string {
	if !f.Crashed() {
		why := "no crash events in the System log after it"
		if f.QueryErr != nil {
			why = "System log not read: " + f.QueryErr.Error()
		}
		return fmt.Sprintf("the run of %s started at %s (pid %d on %s) did not finish; %s",
			f.Marker.Scenario, f.Marker.Written.Format(time.RFC3339), f.Marker.PID, f.Marker.Host, why)
	}
	lines := make([]string, len(f.Events))
	for i, e := range f.Events {
		lines[i] = "  " + describe(e)
	}
	return fmt.Sprintf("host crashed during %s (run started at %s, pid %d on %s):\n%s",
		f.Marker.Scenario, f.Marker.Written.Format(time.RFC3339), f.Marker.PID, f.Marker.Host, strings.Join(lines, "\n"))
}

// describe names an evidence event and what it says.
func describe(e winevent.Event) string {
	name := fmt.Sprintf("%s %d", e.Provider, e.EventID)
	switch {
	case e.EventID == 41:
		name = "Kernel-Power 41 (rebooted without cleanly shutting down"
		if c := dataValue(e, "BugcheckCode"); c != "" && c != "0" {
			name += ", BugcheckCode " + c
		}
		name += ")"
	case e.EventID == 6008:
		name = "EventLog 6008 (previous shutdown was unexpected"
		if len(e.Data) >= 2 {
			name += fmt.Sprintf(": at %s on %s", e.Data[0].Value, e.Data[1].Value)
		}
		name += ")"
	case e.EventID == 1001:
		name = "BugCheck 1001 (rebooted from a bugcheck"
		if len(e.Data) > 0 && e.Data[0].Value != "" {
			name += ": " + e.Data[0].Value
		}
		name += ")"
	}
	return fmt.Sprintf("%s at %s, record %d", name, e.Time.UTC().Format(time.RFC3339), e.RecordID)
}

func dataValue(e winevent.Event, name string) string {
	for _, d := range e.Data {
		if d.Name == name {
			return d.Value
		}
	}
	return ""
}

// Check looks for a marker at path. Without one, or with one of a run still
// going on (same host, its pid alive), it returns nil. With one it
// asks events for the crash evidence since the marker's time (QueryEvents
// on Windows), keeps the events at or after that time, and returns the
// finding. The marker is left in place; Clear it once reported.
func Check(path string, events func(winevent.Query) ([]winevent.Event, error)) (*Finding, error) {
	m, err := Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if host, _ := os.Hostname(); m.Host == host && m.PID != os.Getpid() && processAlive(m.PID) {
		return nil, nil
	}
	f := &Finding{Marker: *m}
	all, err := events(Query(m.Written))
	if err != nil {
		f.QueryErr = err
	}
	for _, e := range all {
		if e.Time.IsZero() || e.Time.Before(m.Written) || !isEvidence(e) {
			continue
		}
		f.Events = append(f.Events, e)
	}
	sortByTime(f.Events)
	return f, nil
}

func isEvidence(e winevent.Event) bool {
	for _, s := range CrashEvidence {
		if winevent.Count([]winevent.Event{e}, s) == 1 {
			return true
		}
	}
	return false
}

func sortByTime(es []winevent.Event) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Time.Before(es[j-1].Time); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}
