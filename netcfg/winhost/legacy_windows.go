package winhost

import (
	"context"
	"errors"
	"fmt"
	"github.com/kbharness/kbharness/netcfg"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"

	"github.com/kbharness/kbharness/netcfg/internal/iphlpapi"
)

// The iphlpapi-legacy mechanism: AddIPAddress adds an IPv4 address as a
// network table entry (NTE) and returns its context; DeleteIPAddress takes
// that context. The host keeps the contexts of the addresses it added, so
// DeleteAddress and Close can remove them; for an address added elsewhere
// the context is read from GetAdaptersInfo (IP_ADDR_STRING.Context).

// legacyProbeAddr is the documentation address probeLegacy offers to
// AddIPAddress on the non-existent interface 0.
var legacyProbeAddr = netip.MustParseAddr("192.0.2.254")

// nteKey identifies an address added by AddIPAddress.
type nteKey struct {
	ifIndex uint32
	addr    netip.Addr
}

// legacyAddAddress corresponds to AddIPAddress. On Vista and later
// AddIPAddress answers NO_ERROR also for an address another host on the
// link holds, leaving it in DAD state Duplicate, and an address is
// Tentative while duplicate address detection runs; so it waits for the
// state to settle and takes a duplicate back, failing with the reason.
func (h *windowsHost) legacyAddAddress(ctx context.Context, a netcfg.AddressSpec) error {
	if !a.Prefix.Addr().Is4() {
		return netcfg.Unsupported("iphlpapi-legacy IPv6 address", "AddIPAddress adds IPv4 addresses only")
	}
	idx, err := interfaceIndex(a.Interface)
	if err != nil {
		return err
	}
	luid, err := luidOfIndex(idx) // for the DAD state afterwards
	if err != nil {
		return err
	}
	var nte, instance uint32
	err = iphlpapi.AddIPAddress(iphlpapi.IPv4ToIPAddr(a.Prefix.Addr()), iphlpapi.MaskToIPAddr(a.Prefix.Bits()), idx, &nte, &instance)
	if err != nil {
		return fmt.Errorf("AddIPAddress: %w", addIPAddressError(err))
	}
	h.mu.Lock()
	h.ntes[nteKey{idx, a.Prefix.Addr()}] = nte
	h.mu.Unlock()
	read := func() (winipcfg.DadState, error) { return dadStateOf(luid, a.Prefix.Addr()) }
	if err := awaitDAD(ctx, read, dadWindow, dadPoll); err != nil {
		derr := h.legacyDeleteAddress(a)
		return fmt.Errorf("AddIPAddress answered NO_ERROR, but %s on %s %w; taking it back (DeleteIPAddress): %v", a.Prefix, a.Interface, err, derr)
	}
	return nil
}

// IPv4 duplicate address detection: Windows sends its ARP probes for
// about a second after an address is added; dadWindow bounds the wait for
// the state to leave Tentative, polled every dadPoll.
const (
	dadWindow = 10 * time.Second
	dadPoll   = 50 * time.Millisecond
)

// dadStateOf reads an address's DAD state (GetUnicastIpAddressEntry).
func dadStateOf(luid winipcfg.LUID, addr netip.Addr) (winipcfg.DadState, error) {
	row, err := luid.IPAddress(addr)
	if err != nil {
		return 0, fmt.Errorf("GetUnicastIpAddressEntry %s: %w", addr, err)
	}
	return row.DadState, nil
}

// awaitDAD polls read until the DAD state settles within window: nil for
// Preferred or Deprecated, an error for Duplicate ("is a duplicate on the
// network"), for a state still Tentative when the window ends, and for a
// failed read.
func awaitDAD(ctx context.Context, read func() (winipcfg.DadState, error), window, every time.Duration) error {
	deadline := time.NewTimer(window)
	defer deadline.Stop()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		state, err := read()
		switch {
		case err != nil:
			return fmt.Errorf("cannot be read back: %w", err)
		case state == winipcfg.DadStatePreferred || state == winipcfg.DadStateDeprecated:
			return nil
		case state == winipcfg.DadStateDuplicate:
			return errors.New("is a duplicate on the network (DAD state Duplicate): another host on the link holds it")
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return fmt.Errorf("is still in DAD state %s after %s", dadStateName(state), window)
		case <-ctx.Done():
			return fmt.Errorf("duplicate address detection not awaited: %w", ctx.Err())
		}
	}
}

func dadStateName(s winipcfg.DadState) string {
	switch s {
	case winipcfg.DadStateTentative:
		return "Tentative"
	case winipcfg.DadStateInvalid:
		return "Invalid"
	}
	return fmt.Sprintf("%d", s)
}

// legacyDeleteAddress corresponds to DeleteIPAddress.
func (h *windowsHost) legacyDeleteAddress(a netcfg.AddressSpec) error {
	if !a.Prefix.Addr().Is4() {
		return netcfg.Unsupported("iphlpapi-legacy IPv6 address", "DeleteIPAddress removes IPv4 addresses only")
	}
	idx, err := interfaceIndex(a.Interface)
	if err != nil {
		return err
	}
	key := nteKey{idx, a.Prefix.Addr()}
	h.mu.Lock()
	nte, tracked := h.ntes[key]
	h.mu.Unlock()
	if !tracked {
		if nte, err = nteContextOf(idx, a.Prefix.Addr()); err != nil {
			return err
		}
	}
	if err := iphlpapi.DeleteIPAddress(nte); err != nil {
		return fmt.Errorf("DeleteIPAddress(NTE context %d): %w", nte, deleteIPAddressError(err))
	}
	h.mu.Lock()
	delete(h.ntes, key)
	h.mu.Unlock()
	return nil
}

// legacyCleanup deletes every address still tracked, returning the errors
// of those it could not delete. An address already gone is not an error.
func (h *windowsHost) legacyCleanup() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for k, nte := range h.ntes {
		err := iphlpapi.DeleteIPAddress(nte)
		if err != nil && !errors.Is(deleteIPAddressError(err), netcfg.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deleting address %s (interface %d, NTE context %d): DeleteIPAddress: %w", k.addr, k.ifIndex, nte, err))
			continue
		}
		delete(h.ntes, k)
	}
	return errors.Join(errs...)
}

// addIPAddressError adds meaning to the codes AddIPAddress returns
// (its page): ERROR_INVALID_HANDLE refuses a process that is not elevated,
// ERROR_DUP_DOMAINNAME an address that exists (ERROR_OBJECT_ALREADY_EXISTS
// is taken as well), ERROR_DEV_NOT_EXIST an unknown interface;
// ERROR_NOT_SUPPORTED marks a stub (Wine).
func addIPAddressError(err error) error {
	switch {
	case errors.Is(err, windows.ERROR_INVALID_HANDLE):
		return fmt.Errorf("%w (the process is probably not elevated: AddIPAddress needs administrator rights)", err)
	case errors.Is(err, windows.ERROR_DUP_DOMAINNAME):
		return fmt.Errorf("%w: %w (the address exists)", netcfg.ErrExists, err)
	case errors.Is(err, windows.ERROR_DEV_NOT_EXIST):
		return fmt.Errorf("%w: %w (no such interface)", netcfg.ErrNotFound, err)
	}
	return legacyError(err)
}

// deleteIPAddressError adds meaning to the codes DeleteIPAddress returns
// (its page): ERROR_ACCESS_DENIED refuses a process that is not elevated,
// ERROR_INVALID_PARAMETER an NTE context that names no address
// (ERROR_GEN_FAILURE is taken as well).
func deleteIPAddressError(err error) error {
	switch {
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return fmt.Errorf("%w (the process is probably not elevated: DeleteIPAddress needs administrator rights)", err)
	case errors.Is(err, windows.ERROR_INVALID_PARAMETER), errors.Is(err, windows.ERROR_GEN_FAILURE):
		return fmt.Errorf("%w: %w (no address with that NTE context)", netcfg.ErrNotFound, err)
	}
	return legacyError(err)
}

// legacyError is what both procedures may answer: ERROR_NOT_SUPPORTED from
// a stub implementation (Wine), and the usual codes.
func legacyError(err error) error {
	if errors.Is(err, windows.ERROR_NOT_SUPPORTED) {
		return netcfg.Unsupported("iphlpapi-legacy", "iphlpapi.dll answers ERROR_NOT_SUPPORTED (a stub implementation, as in Wine)")
	}
	return errnoSentinel(err)
}

// nteContextOf finds the NTE context of an IPv4 address on an interface in
// GetAdaptersInfo's IP_ADDR_STRING list.
func nteContextOf(ifIndex uint32, addr netip.Addr) (uint32, error) {
	size := uint32(16 << 10)
	for {
		buf := make([]byte, size)
		info := (*windows.IpAdapterInfo)(unsafe.Pointer(&buf[0]))
		err := windows.GetAdaptersInfo(info, &size)
		if errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) && size > uint32(len(buf)) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("finding the NTE context of %s: GetAdaptersInfo: %w", addr, err)
		}
		for ; info != nil; info = info.Next {
			if info.Index != ifIndex {
				continue
			}
			for s := &info.IpAddressList; s != nil; s = s.Next {
				if a, err := netip.ParseAddr(windows.ByteSliceToString(s.IpAddress.String[:])); err == nil && a == addr {
					return s.Context, nil
				}
			}
		}
		return 0, fmt.Errorf("finding the NTE context of %s on interface %d: %w", addr, ifIndex, netcfg.ErrNotFound)
	}
}
