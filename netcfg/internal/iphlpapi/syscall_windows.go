// Package iphlpapi declares the IP Helper write procedures kbharness calls:
// the legacy AddIPAddress and DeleteIPAddress, which add and remove an IPv4
// address as a network table entry (NTE) identified by a context, and the
// Vista+ CreateUnicastIpAddressEntry, DeleteUnicastIpAddressEntry,
// CreateIpForwardEntry2 and DeleteIpForwardEntry2 on winipcfg's row types
// (with the Initialize* procedures that prepare those rows). winipcfg
// loads its own copies of the Vista+ procedures from iphlpapi.dll with no
// way to name another DLL, so kbharness calls them here, where the test
// seam WritesEnv applies; every read stays winipcfg's.
//
// A procedure missing from its DLL comes back as an error instead of a
// panic; callers probe with FindProc first anyway, to report the
// capability before using it.
package iphlpapi

import (
	"os"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"
)

// WritesEnv names, for tests under Wine only, a DLL the write procedures
// (WriteProcs) are loaded from instead of iphlpapi.dll: the stand-in for
// their documented contract, agent/iphlpapi, which applies them to the real
// kernel through the command stand-ins' server. Wine 8 answers
// ERROR_NOT_SUPPORTED to AddIPAddress and does not export the others. Every
// read stays Wine's iphlpapi.
const WritesEnv = "KBHARNESS_IPHLPAPI_WRITES"

// WriteProcs are the procedures loaded from the writes DLL: the writes and
// the two Initialize* procedures of their rows (which Wine 8 lacks too).
var WriteProcs = []string{
	"AddIPAddress", "DeleteIPAddress",
	"InitializeUnicastIpAddressEntry", "CreateUnicastIpAddressEntry", "DeleteUnicastIpAddressEntry",
	"InitializeIpForwardEntry", "CreateIpForwardEntry2", "DeleteIpForwardEntry2",
}

// writes is the DLL the write procedures come from.
var writes = func() *windows.LazyDLL {
	if p := os.Getenv(WritesEnv); p != "" {
		return windows.NewLazyDLL(p)
	}
	return windows.NewLazySystemDLL("iphlpapi.dll")
}()

var (
	procAddIPAddress                    = writes.NewProc("AddIPAddress")
	procDeleteIPAddress                 = writes.NewProc("DeleteIPAddress")
	procInitializeUnicastIpAddressEntry = writes.NewProc("InitializeUnicastIpAddressEntry")
	procCreateUnicastIpAddressEntry     = writes.NewProc("CreateUnicastIpAddressEntry")
	procDeleteUnicastIpAddressEntry     = writes.NewProc("DeleteUnicastIpAddressEntry")
	procInitializeIpForwardEntry        = writes.NewProc("InitializeIpForwardEntry")
	procCreateIpForwardEntry2           = writes.NewProc("CreateIpForwardEntry2")
	procDeleteIpForwardEntry2           = writes.NewProc("DeleteIpForwardEntry2")
	modiphlpapi                         = windows.NewLazySystemDLL("iphlpapi.dll")
)

// Each wrapper finds its procedure first and converts its pointers to
// uintptr inside the syscall.SyscallN call expression itself: only there
// does Go keep the pointed-to memory alive and in place for the call.

// errno turns a returned Win32 error code (NETIO_STATUS) into an error.
func errno(r0 uintptr) error {
	if r0 != 0 {
		return syscall.Errno(r0)
	}
	return nil
}

// AddIPAddress corresponds to AddIPAddress: it adds the IPv4 address to the
// interface with index ifIndex and returns the NTE context that
// DeleteIPAddress takes. address and mask are IPAddr values (the four bytes
// in network order, as stored in memory); use IPv4ToIPAddr. Not elevated, it
// fails with ERROR_INVALID_HANDLE.
// https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-addipaddress
func AddIPAddress(address uint32, mask uint32, ifIndex uint32, nteContext *uint32, nteInstance *uint32) error {
	if err := procAddIPAddress.Find(); err != nil {
		return err
	}
	r0, _, _ := syscall.SyscallN(procAddIPAddress.Addr(), uintptr(address), uintptr(mask), uintptr(ifIndex), uintptr(unsafe.Pointer(nteContext)), uintptr(unsafe.Pointer(nteInstance)))
	return errno(r0)
}

// DeleteIPAddress corresponds to DeleteIPAddress: it removes the address
// that AddIPAddress added under nteContext. Not elevated, it fails with
// ERROR_ACCESS_DENIED.
// https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-deleteipaddress
func DeleteIPAddress(nteContext uint32) error {
	if err := procDeleteIPAddress.Find(); err != nil {
		return err
	}
	r0, _, _ := syscall.SyscallN(procDeleteIPAddress.Addr(), uintptr(nteContext))
	return errno(r0)
}

// InitializeUnicastIpAddressEntry fills row with the defaults
// CreateUnicastIpAddressEntry expects to be changed from.
// https://learn.microsoft.com/en-us/windows/win32/api/netioapi/nf-netioapi-initializeunicastipaddressentry
func InitializeUnicastIpAddressEntry(row *winipcfg.MibUnicastIPAddressRow) error {
	if err := procInitializeUnicastIpAddressEntry.Find(); err != nil {
		return err
	}
	syscall.SyscallN(procInitializeUnicastIpAddressEntry.Addr(), uintptr(unsafe.Pointer(row)))
	return nil
}

// CreateUnicastIpAddressEntry adds the row's address (active store).
// https://learn.microsoft.com/en-us/windows/win32/api/netioapi/nf-netioapi-createunicastipaddressentry
func CreateUnicastIpAddressEntry(row *winipcfg.MibUnicastIPAddressRow) error {
	if err := procCreateUnicastIpAddressEntry.Find(); err != nil {
		return err
	}
	r0, _, _ := syscall.SyscallN(procCreateUnicastIpAddressEntry.Addr(), uintptr(unsafe.Pointer(row)))
	return errno(r0)
}

// DeleteUnicastIpAddressEntry removes the row's address from its interface.
// https://learn.microsoft.com/en-us/windows/win32/api/netioapi/nf-netioapi-deleteunicastipaddressentry
func DeleteUnicastIpAddressEntry(row *winipcfg.MibUnicastIPAddressRow) error {
	if err := procDeleteUnicastIpAddressEntry.Find(); err != nil {
		return err
	}
	r0, _, _ := syscall.SyscallN(procDeleteUnicastIpAddressEntry.Addr(), uintptr(unsafe.Pointer(row)))
	return errno(r0)
}

// InitializeIpForwardEntry fills row with the defaults CreateIpForwardEntry2
// expects to be changed from.
// https://learn.microsoft.com/en-us/windows/win32/api/netioapi/nf-netioapi-initializeipforwardentry
func InitializeIpForwardEntry(row *winipcfg.MibIPforwardRow2) error {
	if err := procInitializeIpForwardEntry.Find(); err != nil {
		return err
	}
	syscall.SyscallN(procInitializeIpForwardEntry.Addr(), uintptr(unsafe.Pointer(row)))
	return nil
}

// CreateIpForwardEntry2 adds the row's route (active store).
// https://learn.microsoft.com/en-us/windows/win32/api/netioapi/nf-netioapi-createipforwardentry2
func CreateIpForwardEntry2(row *winipcfg.MibIPforwardRow2) error {
	if err := procCreateIpForwardEntry2.Find(); err != nil {
		return err
	}
	r0, _, _ := syscall.SyscallN(procCreateIpForwardEntry2.Addr(), uintptr(unsafe.Pointer(row)))
	return errno(r0)
}

// DeleteIpForwardEntry2 deletes the route the row names (interface,
// destination prefix, next hop).
// https://learn.microsoft.com/en-us/windows/win32/api/netioapi/nf-netioapi-deleteipforwardentry2
func DeleteIpForwardEntry2(row *winipcfg.MibIPforwardRow2) error {
	if err := procDeleteIpForwardEntry2.Find(); err != nil {
		return err
	}
	r0, _, _ := syscall.SyscallN(procDeleteIpForwardEntry2.Addr(), uintptr(unsafe.Pointer(row)))
	return errno(r0)
}

// FindProc reports whether the DLL a procedure is loaded from exports it
// (LazyProc.Find): nil if it does, the loader's error otherwise.
func FindProc(name string) error {
	if slices.Contains(WriteProcs, name) {
		return writes.NewProc(name).Find()
	}
	return modiphlpapi.NewProc(name).Find()
}
