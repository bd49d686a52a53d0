package winhost

import (
	"context"
	"errors"
	"github.com/kbharness/kbharness/netcfg"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"

	"github.com/kbharness/kbharness/netcfg/winreg"
)

// The environment that .ci/wine/run.sh (or a person on a lab VM) sets to say
// what the host must show. Each is optional; a test whose variable is unset
// skips.
const (
	// Comma-separated "prefix" list of the IPv4 addresses the host has,
	// loopback included, e.g. "127.0.0.1/8,192.0.2.20/24".
	envExpectAddrs = "KBH_EXPECT_ADDRS"
	// Semicolon-separated "dst via gw" / "dst dev" lines of the IPv4 main
	// table, e.g. "default via 192.0.2.1;192.0.2.0/24 dev".
	envExpectRoutes = "KBH_EXPECT_ROUTES"
	// Semicolon-separated PersistentRoutes value names planted in the
	// registry, e.g. "198.51.100.0,255.255.255.0,192.0.2.1,5".
	envExpectPersistent = "KBH_EXPECT_PERSISTENT"
	// The interface (alias) the mutation tests change.
	envInterface = "KBH_INTERFACE"
	// Set to 1 to let mutation tests change this host (a lab VM only).
	envMutate = "KBH_WINDOWS_MUTATE"
)

func openLocal(t *testing.T) *windowsHost {
	t.Helper()
	h, err := OpenLocal(netcfg.Exec)
	if err != nil {
		t.Fatalf("OpenLocal: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("closing host: %v", err)
		}
	})
	return h.(*windowsHost)
}

func TestWindowsCapabilitiesExplainEveryMissingMechanism(t *testing.T) {
	h := openLocal(t)
	caps := h.Capabilities()
	t.Logf("capabilities: %+v", caps)
	for _, m := range mechanismOrder {
		err := h.mechanism(m)
		if caps.Has(m) != (err == nil) {
			t.Errorf("mechanism %s: Has=%v but probe error %v", m, caps.Has(m), err)
		}
		if err != nil {
			if !errors.Is(err, netcfg.ErrUnsupported) {
				t.Errorf("mechanism %s: probe error %v does not match ErrUnsupported", m, err)
			}
			t.Logf("%s: %v", m, err)
		}
	}
	if err := h.mechanism(netcfg.Netlink); !errors.Is(err, netcfg.ErrUnsupported) {
		t.Errorf("mechanism netlink on Windows: got %v, want ErrUnsupported", err)
	}
}

func TestWindowsSnapshot(t *testing.T) {
	h := openLocal(t)
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	t.Logf("snapshot:\n%s", s)
	if len(s.Interfaces) == 0 {
		t.Error("snapshot has no interface")
	}
	names := map[string]bool{}
	for _, i := range s.Interfaces {
		names[i.Name] = true
	}
	for _, a := range s.Addresses {
		if !a.Prefix.IsValid() || !names[a.Interface] {
			t.Errorf("address %q: invalid prefix or unknown interface", a.Line())
		}
	}
	for _, r := range s.Routes {
		if r.Store != netcfg.StoreActive && r.Store != netcfg.StorePersistent {
			t.Errorf("route %q has no store", r.Line())
		}
		if r.Store == netcfg.StoreActive && !names[r.Interface] {
			t.Errorf("active route %q names no known interface", r.Line())
		}
	}
}

// The lab the runner built: the snapshot's IPv4 addresses are exactly those
// `ip -4 addr` showed, and every IPv4 main-table route `ip -4 route` showed
// is active (metrics are not compared: Wine misreports those >= 10).
func TestWindowsSnapshotMatchesLab(t *testing.T) {
	wantAddrs, wantRoutes := os.Getenv(envExpectAddrs), os.Getenv(envExpectRoutes)
	if wantAddrs == "" && wantRoutes == "" {
		t.Skipf("%s and %s unset: no lab to compare with (.ci/wine/run.sh sets them)", envExpectAddrs, envExpectRoutes)
	}
	h := openLocal(t)
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if wantAddrs != "" {
		var want, got []string
		for _, p := range strings.Split(wantAddrs, ",") {
			want = append(want, strings.TrimSpace(p))
		}
		for _, a := range s.Addresses {
			if a.Prefix.Addr().Is4() {
				got = append(got, a.Prefix.String())
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("IPv4 addresses:\n got %v\nwant %v (from ip -4 addr)", got, want)
		}
	}
	for _, line := range strings.Split(wantRoutes, ";") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		want, err := parseExpectedRoute(line)
		if err != nil {
			t.Fatalf("%s: %v", envExpectRoutes, err)
		}
		if !s.HasRoute(netcfg.StoreActive, want) {
			t.Errorf("active route %q (from ip -4 route) missing; snapshot:\n%s", line, s)
		}
	}
}

// parseExpectedRoute reads "default via 192.0.2.1" or "192.0.2.0/24 dev".
func parseExpectedRoute(line string) (netcfg.Route, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return netcfg.Route{}, errors.New("empty route line")
	}
	dst := f[0]
	if dst == "default" {
		dst = "0.0.0.0/0"
	}
	if !strings.Contains(dst, "/") {
		dst += "/32"
	}
	p, err := netip.ParsePrefix(dst)
	if err != nil {
		return netcfg.Route{}, err
	}
	r := netcfg.Route{Dst: p}
	if len(f) >= 3 && f[1] == "via" {
		if r.Gateway, err = netip.ParseAddr(f[2]); err != nil {
			return netcfg.Route{}, err
		}
	}
	return r, nil
}

// The registry view: the PersistentRoutes value names the runner planted
// are the snapshot's persistent routes, no more, no fewer.
func TestWindowsPersistentRoutesFromRegistry(t *testing.T) {
	want := os.Getenv(envExpectPersistent)
	if want == "" {
		t.Skipf("%s unset: no planted PersistentRoutes value to look for", envExpectPersistent)
	}
	h := openLocal(t)
	if !h.Capabilities().PersistentStore {
		t.Fatalf("persistent store unreadable: %v", h.probe.persistent)
	}
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	var got []string
	for _, r := range s.Routes {
		if r.Store == netcfg.StorePersistent {
			name, err := winreg.PersistentRouteName(winreg.Route{Dst: r.Dst, Gateway: r.Gateway, Metric: r.Metric})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
		}
	}
	wantNames := strings.Split(want, ";")
	slices.Sort(got)
	slices.Sort(wantNames)
	if !slices.Equal(got, wantNames) {
		t.Errorf("persistent routes as value names:\n got %q\nwant %q", got, wantNames)
	}
}

func TestWindowsSubscribeRegistersAndStops(t *testing.T) {
	h := openLocal(t)
	if !h.Capabilities().Events {
		t.Skipf("no change events: %v", h.probe.events)
	}
	stop, err := h.Subscribe(context.Background(), func(netcfg.Event) {})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	stop()
	stop() // idempotent
}

// Each mutation either works (on an elevated lab VM that allows it) or fails
// with the capability probe's reason: never a panic, never an untyped error.
func TestWindowsMutationsByMechanism(t *testing.T) {
	h := openLocal(t)
	iface := os.Getenv(envInterface)
	addr := netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.99/24"), Interface: iface}
	route := netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Interface: iface, Metric: 5}
	ctx := context.Background()
	for _, m := range mechanismOrder {
		t.Run(string(m), func(t *testing.T) {
			if probeErr := h.mechanism(m); probeErr != nil {
				for op, err := range map[string]error{
					"AddAddress":    h.AddAddress(ctx, m, addr),
					"DeleteAddress": h.DeleteAddress(ctx, m, addr),
					"AddRoute":      h.AddRoute(ctx, m, route),
					"DeleteRoute":   h.DeleteRoute(ctx, m, route),
				} {
					if !errors.Is(err, netcfg.ErrUnsupported) || !strings.Contains(err.Error(), probeErr.Error()) {
						t.Errorf("%s by %s: got %v, want the probe's %v", op, m, err, probeErr)
					}
				}
				t.Skipf("unsupported here: %v", probeErr)
			}
			if os.Getenv(envMutate) != "1" || iface == "" {
				t.Skipf("changes this host: set %s=1 and %s on a lab VM", envMutate, envInterface)
			}
			mutateAndCheck(t, h, m, addr, route)
		})
	}
}

// makesNo are the changes a mechanism does not make at all: route.exe adds
// no address, AddIPAddress no route.
var makesNo = map[netcfg.Mechanism]string{netcfg.RouteExe: "address", netcfg.IPHlpAPILegacy: "route"}

// mutateAndCheck adds and deletes the address and the route by m, each
// read back by a snapshot; only a change m does not make (makesNo) may be
// refused, as ErrUnsupported.
func mutateAndCheck(t *testing.T, h *windowsHost, m netcfg.Mechanism, addr netcfg.AddressSpec, route netcfg.RouteSpec) {
	ctx := context.Background()
	snapshot := func() *netcfg.Snapshot {
		t.Helper()
		s, err := h.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	switch err := h.AddAddress(ctx, m, addr); {
	case makesNo[m] == "address" && errors.Is(err, netcfg.ErrUnsupported):
		t.Logf("AddAddress by %s: %v", m, err)
	case err != nil:
		t.Fatalf("AddAddress: %v", err)
	default:
		t.Cleanup(func() { _ = h.DeleteAddress(ctx, m, addr) })
		if s := snapshot(); !s.HasAddress(addr.Prefix) {
			t.Errorf("after AddAddress by %s, %s is missing:\n%s", m, addr.Prefix, s)
		}
		if err := h.DeleteAddress(ctx, m, addr); err != nil {
			t.Errorf("DeleteAddress: %v", err)
		}
		if snapshot().HasAddress(addr.Prefix) {
			t.Errorf("after DeleteAddress by %s, %s is still there", m, addr.Prefix)
		}
	}
	switch err := h.AddRoute(ctx, m, route); {
	case makesNo[m] == "route" && errors.Is(err, netcfg.ErrUnsupported):
		t.Logf("AddRoute by %s: %v", m, err)
	case err != nil:
		t.Fatalf("AddRoute: %v", err)
	default:
		t.Cleanup(func() { _ = h.DeleteRoute(ctx, m, route) })
		want := netcfg.Route{Dst: route.Dst, Gateway: route.Gateway, Interface: route.Interface}
		if s := snapshot(); !s.HasRoute(netcfg.StoreActive, want) {
			t.Errorf("after AddRoute by %s, %s via %s is not active:\n%s", m, route.Dst, route.Gateway, s)
		}
		if err := h.DeleteRoute(ctx, m, route); err != nil {
			t.Errorf("DeleteRoute: %v", err)
		}
		if snapshot().HasRoute(netcfg.StoreActive, want) {
			t.Errorf("after DeleteRoute by %s, %s via %s is still active", m, route.Dst, route.Gateway)
		}
	}
}

func TestWinIPCfgRefusesPersistentRoutes(t *testing.T) {
	err := winipcfgAddRoute(netcfg.RouteSpec{Dst: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Persistent: true})
	if !errors.Is(err, netcfg.ErrUnsupported) || !strings.Contains(err.Error(), "active store only") {
		t.Fatalf("got %v, want ErrUnsupported saying winipcfg writes the active store only", err)
	}
}

func TestRequireProcsNamesTheMissingProcedure(t *testing.T) {
	err := requireProcs("winipcfg", "GetIpForwardTable2", "NoSuchProcedureKbh")
	if !errors.Is(err, netcfg.ErrUnsupported) || !strings.Contains(err.Error(), "winipcfg NoSuchProcedureKbh") || !strings.Contains(err.Error(), "procedure not found in iphlpapi.dll") {
		t.Fatalf("got %v", err)
	}
	if err := requireProcs("snapshot", snapshotProcs...); err != nil {
		t.Fatalf("snapshot procedures: %v", err)
	}
}

func TestLegacyErrorMeanings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		want    error  // a sentinel the result matches
		explain string // text the result carries
	}{
		{"AddIPAddress ERROR_NOT_SUPPORTED", addIPAddressError(windows.ERROR_NOT_SUPPORTED), netcfg.ErrUnsupported, "stub"},
		{"AddIPAddress ERROR_INVALID_HANDLE", addIPAddressError(windows.ERROR_INVALID_HANDLE), windows.ERROR_INVALID_HANDLE, "not elevated"},
		{"AddIPAddress ERROR_DUP_DOMAINNAME", addIPAddressError(windows.ERROR_DUP_DOMAINNAME), netcfg.ErrExists, "the address exists"},
		{"AddIPAddress ERROR_OBJECT_ALREADY_EXISTS", addIPAddressError(windows.ERROR_OBJECT_ALREADY_EXISTS), netcfg.ErrExists, ""},
		{"AddIPAddress ERROR_DEV_NOT_EXIST", addIPAddressError(windows.ERROR_DEV_NOT_EXIST), netcfg.ErrNotFound, "no such interface"},
		{"DeleteIPAddress ERROR_ACCESS_DENIED", deleteIPAddressError(windows.ERROR_ACCESS_DENIED), windows.ERROR_ACCESS_DENIED, "not elevated"},
		{"DeleteIPAddress ERROR_INVALID_PARAMETER", deleteIPAddressError(windows.ERROR_INVALID_PARAMETER), netcfg.ErrNotFound, "no address with that NTE context"},
		{"DeleteIPAddress ERROR_GEN_FAILURE", deleteIPAddressError(windows.ERROR_GEN_FAILURE), netcfg.ErrNotFound, "no address with that NTE context"},
		{"ERROR_NOT_FOUND", errnoSentinel(windows.ERROR_NOT_FOUND), netcfg.ErrNotFound, ""},
	} {
		if !errors.Is(tc.err, tc.want) || !strings.Contains(tc.err.Error(), tc.explain) {
			t.Errorf("%s: got %v, want %v explained by %q", tc.name, tc.err, tc.want, tc.explain)
		}
	}
}

func TestRowConversions(t *testing.T) {
	names := map[uint32]string{7: "Ethernet 2"}
	var row winipcfg.MibIPforwardRow2
	row.InterfaceIndex = 7
	if err := row.DestinationPrefix.SetPrefix(netip.MustParsePrefix("198.51.100.0/24")); err != nil {
		t.Fatal(err)
	}
	if err := row.NextHop.SetAddr(netip.IPv4Unspecified()); err != nil {
		t.Fatal(err)
	}
	row.Metric = 25
	row.Protocol = winipcfg.RouteProtocolNetMgmt
	if got, want := routeFromRow(&row, names).Line(), "198.51.100.0/24 dev Ethernet 2 proto netmgmt metric 25"; got != want {
		t.Errorf("on-link route: got %q, want %q", got, want)
	}
	if err := row.NextHop.SetAddr(netip.MustParseAddr("192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	if got, want := routeFromRow(&row, names).Line(), "198.51.100.0/24 via 192.0.2.1 dev Ethernet 2 proto netmgmt metric 25"; got != want {
		t.Errorf("gateway route: got %q, want %q", got, want)
	}

	var a winipcfg.MibUnicastIPAddressRow
	a.InterfaceIndex = 7
	if err := a.Address.SetAddr(netip.MustParseAddr("192.0.2.21")); err != nil {
		t.Fatal(err)
	}
	a.OnLinkPrefixLength = 24
	a.DadState = winipcfg.DadStateDuplicate
	a.PrefixOrigin = winipcfg.PrefixOriginManual
	got := addressFromRow(&a, names)
	if got.Line() != "addr 192.0.2.21/24 dev Ethernet 2 duplicate" || got.Origin != "manual" {
		t.Errorf("address: got %q origin %q", got.Line(), got.Origin)
	}
	if protocolName(winipcfg.RouteProtocolNTStatic) != "static" || protocolName(99) != "proto-99" {
		t.Error("protocolName")
	}
}

func TestWindowsSubscribeEndsWithItsContext(t *testing.T) {
	h := openLocal(t)
	if !h.Capabilities().Events {
		t.Skipf("no change events: %v", h.probe.events)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop, err := h.Subscribe(ctx, func(netcfg.Event) {})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	cancel()
	stop() // returns once the goroutine has unregistered and ended
}

func TestEventQueueKeepsArrivalOrder(t *testing.T) {
	q := newEventQueue()
	for _, k := range []netcfg.EventKind{netcfg.RouteAdded, netcfg.AddrRemoved, netcfg.RouteRemoved} {
		q.push(pending{kind: k})
	}
	batch, ok := q.wait(context.Background())
	if !ok || len(batch) != 3 || batch[0].kind != netcfg.RouteAdded || batch[1].kind != netcfg.AddrRemoved || batch[2].kind != netcfg.RouteRemoved {
		t.Fatalf("wait = %+v, %v; want the three in push order", batch, ok)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := q.wait(ctx); ok {
		t.Fatal("wait on a done context with nothing queued must report done")
	}
}

// TestAwaitDAD: after AddIPAddress the DAD state settles to Preferred (no
// error) or Duplicate (an error saying so), or stays Tentative past the
// window (an error naming the state); a failed read is an error too.
func TestAwaitDAD(t *testing.T) {
	const (
		tentative = winipcfg.DadStateTentative
		preferred = winipcfg.DadStatePreferred
		duplicate = winipcfg.DadStateDuplicate
	)
	for _, tc := range []struct {
		name   string
		states []winipcfg.DadState // read answers in turn; the last repeats
		fail   error
		want   string // "" for no error
	}{
		{"preferred at once", []winipcfg.DadState{preferred}, nil, ""},
		{"tentative, then preferred", []winipcfg.DadState{tentative, tentative, preferred}, nil, ""},
		{"deprecated", []winipcfg.DadState{winipcfg.DadStateDeprecated}, nil, ""},
		{"tentative, then duplicate", []winipcfg.DadState{tentative, duplicate}, nil, "is a duplicate on the network (DAD state Duplicate)"},
		{"tentative for good", []winipcfg.DadState{tentative}, nil, "is still in DAD state Tentative after 200ms"},
		{"read fails", nil, windows.ERROR_NOT_FOUND, "cannot be read back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			read := func() (winipcfg.DadState, error) {
				if tc.fail != nil {
					return 0, tc.fail
				}
				s := tc.states[min(reads, len(tc.states)-1)]
				reads++
				return s, nil
			}
			err := awaitDAD(context.Background(), read, 200*time.Millisecond, time.Millisecond)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
