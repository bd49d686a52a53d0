package journal

import (
	"context"
	"fmt"

	"github.com/kbharness/kbharness/netcfg"
)

// Wrap returns h with every change journaled: the inverse is recorded
// durably before the change is made, so a change whose inverse cannot be
// recorded is not made.
func (j *Journal) Wrap(h netcfg.Host) netcfg.Host { return &host{Host: h, j: j} }

type host struct {
	netcfg.Host
	j *Journal
}

func (h *host) AddAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.j.Record(Op{Kind: DeleteAddress, Mechanism: m, Address: &a, Undoes: fmt.Sprintf("add address %s dev %s", a.Prefix, a.Interface)}); err != nil {
		return err
	}
	// A mechanism that knows a better undo (AddIPAddress: DeleteIPAddress
	// of the NTE context) records it once it has made the change; it
	// replays first, and the delete-address above finds nothing left.
	ctx = netcfg.WithUndoRecorder(ctx, func(u netcfg.UndoCommand) error {
		return h.j.Record(Op{Kind: Run, Argv: u.Argv, Address: u.Guard, Undoes: u.Undoes})
	})
	return h.Host.AddAddress(ctx, m, a)
}

func (h *host) DeleteAddress(ctx context.Context, m netcfg.Mechanism, a netcfg.AddressSpec) error {
	if err := h.j.Record(Op{Kind: AddAddress, Mechanism: m, Address: &a, Undoes: fmt.Sprintf("delete address %s dev %s", a.Prefix, a.Interface)}); err != nil {
		return err
	}
	return h.Host.DeleteAddress(ctx, m, a)
}

func (h *host) AddRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.j.Record(Op{Kind: DeleteRoute, Mechanism: m, Route: &r, Undoes: "add route " + routeText(r)}); err != nil {
		return err
	}
	return h.Host.AddRoute(ctx, m, r)
}

func (h *host) DeleteRoute(ctx context.Context, m netcfg.Mechanism, r netcfg.RouteSpec) error {
	if err := h.j.Record(Op{Kind: AddRoute, Mechanism: m, Route: &r, Undoes: "delete route " + routeText(r)}); err != nil {
		return err
	}
	return h.Host.DeleteRoute(ctx, m, r)
}
