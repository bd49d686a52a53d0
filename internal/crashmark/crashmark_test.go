package crashmark

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kbharness/kbharness/internal/winevent"
)

// recorded answers every query with the recorded System-log output, as
// wevtutil would (the recorded file also holds an older crash).
func recorded(t *testing.T) (func(winevent.Query) ([]winevent.Event, error), *[]winevent.Query) {
	data, err := os.ReadFile("testdata/system-crash-evidence.xml")
	if err != nil {
		t.Fatal(err)
	}
	var asked []winevent.Query
	return func(q winevent.Query) ([]winevent.Event, error) {
		asked = append(asked, q)
		return winevent.ParseXML(data)
	}, &asked
}

func TestInterruptedRunIsReportedAsACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "marker.json")
	written := time.Date(2026, 7, 6, 23, 40, 0, 0, time.UTC)
	if err := WriteMarker(path, Marker{Scenario: "KB943650", Written: written, Host: "HyteY70", PID: 4242}); err != nil {
		t.Fatal(err)
	}
	events, asked := recorded(t)
	f, err := Check(path, events)
	if err != nil {
		t.Fatal(err)
	}
	if f == nil || !f.Crashed() {
		t.Fatalf("finding = %v, want a crash", f)
	}
	var got []int
	for _, e := range f.Events {
		got = append(got, int(e.RecordID))
	}
	if want := []int{39637, 39640, 39660}; !slices.Equal(got, want) {
		t.Fatalf("evidence records %v, want %v (the older crash 39001 left out)", got, want)
	}
	msg := f.String()
	for _, want := range []string{
		"host crashed during KB943650 (run started at 2026-07-06T23:40:00Z, pid 4242 on HyteY70)",
		"Kernel-Power 41 (rebooted without cleanly shutting down) at 2026-07-06T23:54:33Z, record 39637",
		"EventLog 6008 (previous shutdown was unexpected: at 1:51:02 AM on 7/7/2026)",
		"BugCheck 1001 (rebooted from a bugcheck: 0x000000d1 (0x0000000000000028",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	if len(*asked) != 1 || !(*asked)[0].Since.Equal(written) || (*asked)[0].Log != "System" {
		t.Fatalf("queries = %+v, want one System query since the marker", *asked)
	}
	argv, err := (*asked)[0].Argv()
	if err != nil {
		t.Fatal(err)
	}
	want := "wevtutil qe System /q:*[System[((Provider[@Name='Microsoft-Windows-Kernel-Power'] and (EventID=41)) or (Provider[@Name='EventLog'] and (EventID=6008)) or (Provider[@Name='Microsoft-Windows-WER-SystemErrorReporting'] and (EventID=1001))) and TimeCreated[@SystemTime>='2026-07-06T23:40:00.000Z']]] /f:xml"
	if got := strings.Join(argv, " "); got != want {
		t.Errorf("argv:\n got %s\nwant %s", got, want)
	}
}

func TestMarkerAfterTheCrashFindsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "marker.json")
	if err := WriteMarker(path, Marker{Scenario: "KB943650", Written: time.Date(2026, 7, 7, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	events, _ := recorded(t)
	f, err := Check(path, events)
	if err != nil {
		t.Fatal(err)
	}
	if f.Crashed() || !strings.Contains(f.String(), "did not finish; no crash events in the System log after it") {
		t.Fatalf("finding = %v", f)
	}
}

func TestWriteCheckClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "marker.json")
	if f, err := Check(path, QueryEvents); f != nil || err != nil {
		t.Fatalf("Check without marker = %v, %v; want nil, nil", f, err)
	}
	m, err := Write(path, "KB943650")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || got.Scenario != "KB943650" || !got.Written.Equal(m.Written) || got.PID != os.Getpid() {
		t.Fatalf("Read = %+v, %v; want %+v", got, err, m)
	}
	broken := func(winevent.Query) ([]winevent.Event, error) { return nil, errors.New("wevtutil: access denied") }
	f, err := Check(path, broken)
	if err != nil || f.Crashed() || !strings.Contains(f.String(), "System log not read: wevtutil: access denied") {
		t.Fatalf("Check with an unreadable log = %v, %v", f, err)
	}
	if err := Clear(path); err != nil {
		t.Fatal(err)
	}
	if err := Clear(path); err != nil {
		t.Fatalf("second Clear: %v", err)
	}
	os.WriteFile(path, []byte("{not json"), 0o644)
	if _, err := Check(path, broken); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("damaged marker: err = %v, want one naming the file", err)
	}
}

// A marker of another run still going on (a concurrent suite run) is not an
// interrupted run.
func TestMarkerOfALiveRunIsIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "marker.json")
	host, _ := os.Hostname()
	if err := WriteMarker(path, Marker{Scenario: "KB943650", Written: time.Now(), Host: host, PID: os.Getppid()}); err != nil {
		t.Fatal(err)
	}
	events, asked := recorded(t)
	if f, err := Check(path, events); f != nil || err != nil || len(*asked) != 0 {
		t.Fatalf("Check = %v, %v after %d queries; want nil, nil, none", f, err, len(*asked))
	}
}
