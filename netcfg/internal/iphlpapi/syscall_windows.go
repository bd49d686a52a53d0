// Package iphlpapi declares the legacy IP Helper calls that winipcfg does not
// wrap: AddIPAddress and DeleteIPAddress, which add and remove an IPv4
// address as a network table entry (NTE) identified by a context.
//
// The calls load from iphlpapi.dll, the write procedures (AddIPAddress,
// DeleteIPAddress) from WritesDLL. A procedure missing from its DLL comes
// back as an error instead of a panic; callers probe with FindProc first
// anyway, to report the capability before using it.
package iphlpapi

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// WritesEnv names, for tests under Wine only, a DLL the write procedures
// AddIPAddress and DeleteIPAddress are loaded from instead of iphlpapi.dll
// (Wine's answer ERROR_NOT_SUPPORTED): the stand-in for their documented
// contract, agent/iphlpapi, which applies them to the real kernel through
// the command stand-ins' server. Every read stays Wine's iphlpapi.
const WritesEnv = "KBHARNESS_IPHLPAPI_WRITES"

// writes is the DLL the write procedures come from.
var writes = func() *windows.LazyDLL {
	if p := os.Getenv(WritesEnv); p != "" {
		return windows.NewLazyDLL(p)
	}
	return windows.NewLazySystemDLL("iphlpapi.dll")
}()

var (
	procAddIPAddress    = writes.NewProc("AddIPAddress")
	procDeleteIPAddress = writes.NewProc("DeleteIPAddress")
	modiphlpapi         = windows.NewLazySystemDLL("iphlpapi.dll")
)

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
	if r0 != 0 {
		return syscall.Errno(r0)
	}
	return nil
}

// DeleteIPAddress corresponds to DeleteIPAddress: it removes the address
// that AddIPAddress added under nteContext.
// https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-deleteipaddress
func DeleteIPAddress(nteContext uint32) error {
	if err := procDeleteIPAddress.Find(); err != nil {
		return err
	}
	r0, _, _ := syscall.SyscallN(procDeleteIPAddress.Addr(), uintptr(nteContext))
	if r0 != 0 {
		return syscall.Errno(r0)
	}
	return nil
}

// FindProc reports whether the DLL a procedure is loaded from exports it
// (LazyProc.Find): nil if it does, the loader's error otherwise.
func FindProc(name string) error {
	if name == "AddIPAddress" || name == "DeleteIPAddress" {
		return writes.NewProc(name).Find()
	}
	return modiphlpapi.NewProc(name).Find()
}
