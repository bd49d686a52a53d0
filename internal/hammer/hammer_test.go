package hammer

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{
		Target:  netip.MustParseAddrPort("127.0.0.1:0"),
		Workers: 2,
		Count:   10,
		Mode:    ModeConnect,
		Close:   CloseClientFirst,
	}
}

func TestValidate(t *testing.T) {
	lab := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" = valid
	}{
		{"loopback", func(*Config) {}, ""},
		{"loopback v6", func(c *Config) { c.Target = netip.MustParseAddrPort("[::1]:80") }, ""},
		{"lab address", func(c *Config) { c.Target = netip.MustParseAddrPort("192.0.2.20:80"); c.Allowed = lab }, ""},
		{"lab address not allowed", func(c *Config) { c.Target = netip.MustParseAddrPort("192.0.2.20:80") }, "neither loopback nor a lab address"},
		{"outside lab", func(c *Config) { c.Target = netip.MustParseAddrPort("198.51.100.1:80"); c.Allowed = lab }, "neither loopback nor a lab address"},
		{"public", func(c *Config) { c.Target = netip.MustParseAddrPort("8.8.8.8:53"); c.Allowed = lab }, "neither loopback nor a lab address"},
		{"allowed not documentation", func(c *Config) {
			c.Target = netip.MustParseAddrPort("10.0.0.1:80")
			c.Allowed = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, "not in a documentation range"},
		{"no target", func(c *Config) { c.Target = netip.AddrPort{} }, "no target"},
		{"zero workers", func(c *Config) { c.Workers = 0 }, "workers 0"},
		{"too many workers", func(c *Config) { c.Workers = MaxWorkers + 1 }, "workers"},
		{"count over cap", func(c *Config) { c.Count = MaxCount + 1 }, "count"},
		{"duration over cap", func(c *Config) { c.Duration = MaxDuration + time.Second }, "duration"},
		{"unbounded", func(c *Config) { c.Count, c.Duration = 0, 0 }, "neither count nor duration"},
		{"bad mode", func(c *Config) { c.Mode = "fast" }, `unknown mode "fast"`},
		{"bad close", func(c *Config) { c.Close = "never" }, `unknown close "never"`},
		{"payload", func(c *Config) { c.Payload = MaxPayload + 1 }, "payload"},
		{"timeout", func(c *Config) { c.Timeout = time.Hour }, "timeout"},
		{"range", func(c *Config) { c.PortRange = PortRange{Lo: 500, Hi: 400} }, "bad port range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseLinuxPortRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PortRange
		bad  bool
	}{
		{"32768\t60999\n", PortRange{32768, 60999}, false},
		{"40000 40255", PortRange{40000, 40255}, false},
		{"40000", PortRange{}, true},
		{"9 8", PortRange{}, true},
		{"0 8", PortRange{}, true},
		{"1 70000", PortRange{}, true},
	} {
		got, err := ParseLinuxPortRange(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseLinuxPortRange(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestSummaryNamesSignature(t *testing.T) {
	r := &Result{Mode: ModeBindConnect, Close: CloseClientFirst, Attempts: 3, Elapsed: time.Second}
	r.Counts[ClassSuccess], r.Counts[ClassAddrInUse] = 1, 2
	r.First[ClassAddrInUse] = &Example{Op: "bind", Err: "address already in use", At: 5 * time.Millisecond}
	s := r.Summary()
	for _, want := range []string{"addrinuse         2", "SIGNATURE: 2 EADDRINUSE", "bind: address already in use"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	p := Progress{Elapsed: time.Second, Attempts: 3, Counts: r.Counts, Census: Census{"TIME_WAIT": 7, "FIN_WAIT2": 1}}
	if got := p.String(); !strings.Contains(got, "addrinuse=2") || !strings.Contains(got, "time_wait=7 closing=1") {
		t.Errorf("progress line %q", got)
	}
}
