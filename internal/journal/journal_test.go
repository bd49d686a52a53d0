package journal

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kbharness/kbharness/netcfg"
)

// fakeHost is an in-memory host: addresses and routes, no events.
type fakeHost struct {
	addrs  []netcfg.AddressSpec
	routes []netcfg.RouteSpec
	calls  []string
	failOn string // a call name ("add-address", ...) that fails
}

func (h *fakeHost) Name() string { return "fake" }
func (h *fakeHost) Capabilities() netcfg.Capabilities {
	return netcfg.Capabilities{Mechanisms: []netcfg.Mechanism{netcfg.Netlink}}
}
func (h *fakeHost) Subscribe(context.Context, func(netcfg.Event)) (func(), error) {
	return func() {}, nil
}
func (h *fakeHost) Close() error { return nil }

func (h *fakeHost) Snapshot(ctx context.Context) (*netcfg.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &netcfg.Snapshot{}
	for _, a := range h.addrs {
		s.Addresses = append(s.Addresses, netcfg.Address{Prefix: a.Prefix, Interface: a.Interface})
	}
	for _, r := range h.routes {
		s.Routes = append(s.Routes, netcfg.Route{Dst: r.Dst, Gateway: r.Gateway, Interface: r.Interface, Store: netcfg.StoreActive})
		if r.Persistent {
			s.Routes = append(s.Routes, netcfg.Route{Dst: r.Dst, Gateway: r.Gateway, Interface: r.Interface, Store: netcfg.StorePersistent})
		}
	}
	return s, nil
}

func (h *fakeHost) call(name string) error {
	h.calls = append(h.calls, name)
	if name == h.failOn {
		return errors.New("injected failure")
	}
	return nil
}

func (h *fakeHost) AddAddress(_ context.Context, _ netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.call("add-address " + a.Prefix.String()); err != nil {
		return err
	}
	if slices.Contains(h.addrs, a) {
		return netcfg.ErrExists
	}
	h.addrs = append(h.addrs, a)
	return nil
}

func (h *fakeHost) DeleteAddress(_ context.Context, _ netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.call("delete-address " + a.Prefix.String()); err != nil {
		return err
	}
	i := slices.Index(h.addrs, a)
	if i < 0 {
		return netcfg.ErrNotFound
	}
	h.addrs = slices.Delete(h.addrs, i, i+1)
	return nil
}

func (h *fakeHost) AddRoute(_ context.Context, _ netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.call("add-route " + r.Dst.String()); err != nil {
		return err
	}
	h.routes = append(h.routes, r)
	return nil
}

func (h *fakeHost) DeleteRoute(_ context.Context, _ netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.call("delete-route " + r.Dst.String()); err != nil {
		return err
	}
	i := slices.IndexFunc(h.routes, func(x netcfg.RouteSpec) bool { return x.Dst == r.Dst && x.Gateway == r.Gateway })
	if i < 0 {
		return netcfg.ErrNotFound
	}
	h.routes = slices.Delete(h.routes, i, i+1)
	return nil
}

// testDir is t.TempDir emptied with os.Remove: under Wine, Go's
// os.RemoveAll (which t.TempDir's cleanup uses) fails with "Invalid
// function" on every entry, while os.Remove works.
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "journal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
		more, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, p := range append(append(entries, more...), dir) {
			if err := os.Remove(p); err != nil {
				t.Errorf("removing %s: %v", p, err)
			}
		}
	})
	return dir
}

var (
	base  = netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.20/24"), Interface: "lan0"}
	extra = netcfg.AddressSpec{Prefix: netip.MustParsePrefix("192.0.2.21/24"), Interface: "lan0"}
	own   = netcfg.RouteSpec{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1"), Persistent: true}
	def   = netcfg.RouteSpec{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1"), Persistent: true}
)

func newFake() *fakeHost {
	return &fakeHost{addrs: []netcfg.AddressSpec{base}, routes: []netcfg.RouteSpec{own}}
}

func snap(t *testing.T, h netcfg.Host) *netcfg.Snapshot {
	t.Helper()
	s, err := h.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// change makes the changes of a typical spec through a journaled host: a
// persistent default route and an additional address, one deletion of
// that address, and the deletion of a route of the baseline.
func change(t *testing.T, h netcfg.Host) {
	t.Helper()
	ctx := context.Background()
	for _, err := range []error{
		h.AddRoute(ctx, netcfg.Netlink, def),
		h.AddAddress(ctx, netcfg.Netlink, extra),
		h.DeleteAddress(ctx, netcfg.Netlink, extra),
		h.AddAddress(ctx, netcfg.Netlink, extra),
		h.DeleteRoute(ctx, netcfg.Netlink, own),
		h.AddAddress(ctx, netcfg.Netlink, base), // already there: ErrExists, the inverse must not delete it
	} {
		if err != nil && !errors.Is(err, netcfg.ErrExists) {
			t.Fatal(err)
		}
	}
}

func TestUndoRestoresTheBaselineAndNeverTouchesIt(t *testing.T) {
	fake := newFake()
	j, err := New(testDir(t), "netns:test", snap(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	change(t, j.Wrap(fake))
	fake.calls = nil
	res, err := j.Undo(context.Background(), &Target{Host: fake})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Residual.Empty() {
		t.Errorf("residual difference after undo:\n%s", res.Residual)
	}
	want := []string{"add-route 203.0.113.0/24", "delete-address 192.0.2.21/24", "delete-route 0.0.0.0/0"}
	if !slices.Equal(fake.calls, want) {
		t.Errorf("undo calls %q, want %q (newest first, each element once, baseline address kept)", fake.calls, want)
	}
	if len(res.Kept) != 1 || !strings.Contains(res.Kept[0], "192.0.2.20/24") {
		t.Errorf("kept %q, want the baseline address", res.Kept)
	}
	// Idempotent: a second undo has nothing to do.
	fake.calls = nil
	if _, err := j.Undo(context.Background(), &Target{Host: fake}); err != nil || len(fake.calls) > 0 {
		t.Errorf("second undo: calls %q, err %v", fake.calls, err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(j.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal %s left after a clean close (%v)", j.Path(), err)
	}
}

func TestNoChangeWithoutItsInverse(t *testing.T) {
	fake := newFake()
	j, err := New(testDir(t), "netns:test", snap(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	err = j.Wrap(fake).AddAddress(context.Background(), netcfg.Netlink, extra)
	if err == nil || len(fake.calls) > 0 {
		t.Fatalf("a change went through a closed journal: err %v, calls %q", err, fake.calls)
	}
}

// die simulates the owner's death: the lock goes with the file descriptor,
// the file stays.
func die(j *Journal) { j.file.Close() }

func TestRecoverReplaysDeadOwnersOnly(t *testing.T) {
	dir := testDir(t)
	fake := newFake()
	baseline := snap(t, fake)
	dead, err := New(dir, "netns:test", baseline)
	if err != nil {
		t.Fatal(err)
	}
	change(t, dead.Wrap(fake))
	die(dead)
	live, err := New(dir, "netns:test", baseline)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	open := func(_ context.Context, target string) (*Target, error) { return &Target{Host: fake}, nil }
	results, err := Recover(context.Background(), dir, open, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Journal != dead.Path() {
		t.Fatalf("recovered %v, want only the dead owner's %s", results, dead.Path())
	}
	r := results[0]
	if !r.Clean() || len(r.Restored) != 3 {
		t.Errorf("recovery:\n%s", r)
	}
	if d := netcfg.Diff(baseline, snap(t, fake)); !d.Empty() {
		t.Errorf("target differs from its baseline:\n%s", d)
	}
	if _, err := os.Stat(dead.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("recovered journal still there")
	}
	if _, err := os.Stat(live.Path()); err != nil {
		t.Errorf("live owner's journal touched: %v", err)
	}
	for _, want := range []string{"restored: delete-address 192.0.2.21/24", "the target equals its baseline", "kept (in the baseline)"} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}

func TestRecoveryKilledMidwayIsRecoveredByTheNext(t *testing.T) {
	dir := testDir(t)
	fake := newFake()
	baseline := snap(t, fake)
	j, err := New(dir, "netns:test", baseline)
	if err != nil {
		t.Fatal(err)
	}
	change(t, j.Wrap(fake))
	die(j)
	// The first recovery stops after one operation (its context ends, as a
	// kill would stop it): the journal stays.
	fake.failOn = "delete-address 192.0.2.21/24"
	open := func(context.Context, string) (*Target, error) { return &Target{Host: fake}, nil }
	if _, err := Recover(context.Background(), dir, open, nil); err == nil {
		t.Fatal("a failed recovery reported success")
	}
	if _, err := os.Stat(j.Path()); err != nil {
		t.Fatalf("journal gone after a failed recovery: %v", err)
	}
	fake.failOn = ""
	results, err := Recover(context.Background(), dir, open, nil)
	if err != nil || len(results) != 1 || !results[0].Clean() {
		t.Fatalf("second recovery: %v %v", results, err)
	}
	if d := netcfg.Diff(baseline, snap(t, fake)); !d.Empty() {
		t.Errorf("target differs from its baseline:\n%s", d)
	}
}

func TestRecoverReportsResidualAndGoneTargets(t *testing.T) {
	dir := testDir(t)
	fake := newFake()
	j, err := New(dir, "netns:gone", snap(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	die(j)
	k, err := New(dir, "netns:changed", snap(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	die(k)
	fake.addrs = append(fake.addrs, netcfg.AddressSpec{Prefix: netip.MustParsePrefix("198.51.100.9/24"), Interface: "lan1"})
	open := func(_ context.Context, target string) (*Target, error) {
		if target == "netns:gone" {
			return nil, netcfg.ErrNotFound
		}
		return &Target{Host: fake}, nil
	}
	results, err := Recover(context.Background(), dir, open, nil)
	if err != nil || len(results) != 2 {
		t.Fatalf("results %v, err %v", results, err)
	}
	for _, r := range results {
		switch r.Target {
		case "netns:gone":
			if !r.Gone || !r.Clean() {
				t.Errorf("gone target: %s", r)
			}
		case "netns:changed":
			if r.Clean() || !strings.Contains(r.String(), "+ addr 198.51.100.9/24 dev lan1") {
				t.Errorf("residual not reported: %s", r)
			}
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) > 0 {
		t.Errorf("journals left: %v", left)
	}
}

func TestParse(t *testing.T) {
	header := `{"version":1,"target":"netns:x","owner":{"pid":1},"created":"2026-11-29T00:00:00Z","baseline":{}}` + "\n"
	op := `{"kind":"delete-address","mechanism":"netlink","address":{"Prefix":"192.0.2.21/24","Interface":"lan0"},"undoes":"add"}` + "\n"
	for _, c := range []struct {
		name, data string
		ops        int
		err        string
	}{
		{"header only", header, 0, ""},
		{"one op", header + op, 1, ""},
		{"torn last line dropped", header + op + op[:20], 1, ""},
		{"empty", "", 0, "empty journal"},
		{"bad version", strings.Replace(header, `"version":1`, `"version":9`, 1), 0, "j:1: header: version 9"},
		{"no baseline", strings.Replace(header, `,"baseline":{}`, "", 1), 0, "missing target or baseline"},
		{"damaged op", header + "{oops}\n" + op, 0, "j:2:"},
		{"unknown field", header + strings.Replace(op, `"undoes"`, `"bogus"`, 1), 0, `j:2: json: unknown field "bogus"`},
		{"bad prefix", header + strings.Replace(op, "192.0.2.21/24", "192.0.2.21/2x", 1), 0, "j:2:"},
		{"unknown kind", header + strings.Replace(op, "delete-address", "format-disk", 1), 0, `j:2: unknown kind "format-disk"`},
		{"no mechanism", header + strings.Replace(op, `"mechanism":"netlink",`, "", 1), 0, "j:2: delete-address without a mechanism"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, ops, err := parse("j", []byte(c.data))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || len(ops) != c.ops {
				t.Fatalf("ops %d, err %v; want %d ops", len(ops), err, c.ops)
			}
		})
	}
}

func TestJournalFileIsDurableBeforeTheChange(t *testing.T) {
	fake := newFake()
	j, err := New(testDir(t), "netns:test", snap(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	fake.failOn = "add-address 192.0.2.21/24" // the change fails after its inverse was written
	j.Wrap(fake).AddAddress(context.Background(), netcfg.Netlink, extra)
	data, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	_, ops, err := parse(j.Path(), data)
	if err != nil || len(ops) != 1 || ops[0].Kind != DeleteAddress || ops[0].Address.Prefix != extra.Prefix {
		t.Fatalf("journal holds %v (%v), want the inverse delete-address %s", ops, err, extra.Prefix)
	}
}

// nteHost is a fakeHost whose AddAddress, like AddIPAddress, records its
// own undo: a command naming the NTE context.
type nteHost struct{ *fakeHost }

func (h nteHost) AddAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.fakeHost.AddAddress(ctx, m, a); err != nil {
		return err
	}
	return netcfg.RecordUndo(ctx, netcfg.UndoCommand{Undoes: "AddIPAddress (NTE context 7)", Argv: []string{"delete-nte", "7"}, Guard: &a})
}

// TestMechanismUndoReplaysFirstAndOnlyWhileItsAddressIsThere: the
// mechanism's own undo (DeleteIPAddress of the NTE context) is journaled
// after the change and replayed before the generic delete-address; once the
// address is gone, it is not run again.
func TestMechanismUndoReplaysFirstAndOnlyWhileItsAddressIsThere(t *testing.T) {
	fake := newFake()
	j, err := New(testDir(t), "netns:test", snap(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Wrap(nteHost{fake}).AddAddress(context.Background(), netcfg.IPHlpAPILegacy, extra); err != nil {
		t.Fatal(err)
	}
	var ran [][]string
	run := netcfg.RunnerFunc(func(_ context.Context, argv []string) (netcfg.Output, error) {
		ran = append(ran, argv)
		return netcfg.Output{}, fake.DeleteAddress(context.Background(), "", extra)
	})
	fake.calls = nil
	res, err := j.Undo(context.Background(), &Target{Host: fake, Run: run})
	if err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 || !slices.Equal(ran[0], []string{"delete-nte", "7"}) || !slices.Equal(fake.calls, []string{"delete-address " + extra.Prefix.String()}) {
		t.Errorf("ran %q, host calls %q: want the NTE delete once, and no generic delete-address after it", ran, fake.calls)
	}
	if !res.Residual.Empty() || len(res.Restored) != 1 || !strings.Contains(res.Restored[0], "NTE context 7") {
		t.Errorf("restored %q, residual %s", res.Restored, res.Residual)
	}
	ran = nil
	if _, err := j.Undo(context.Background(), &Target{Host: fake, Run: run}); err != nil || len(ran) > 0 {
		t.Errorf("second undo ran %q (%v): the guard must skip an address already gone", ran, err)
	}
}
