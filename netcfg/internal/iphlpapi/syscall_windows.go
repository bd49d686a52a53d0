// Package iphlpapi declares the legacy IP Helper calls that winipcfg does not
// wrap: AddIPAddress and DeleteIPAddress, which add and remove an IPv4
// address as a network table entry (NTE) identified by a context.
//
// The raw calls are //sys lines below, generated into zsyscall_windows.go by
// mkwinsyscall. Each is declared with "?" so a procedure missing from
// iphlpapi.dll comes back as an error instead of a panic; callers probe with
// FindProc first anyway, to report the capability before using it.
package iphlpapi

// AddIPAddress corresponds to AddIPAddress: it adds the IPv4 address to the
// interface with index ifIndex and returns the NTE context that
// DeleteIPAddress takes. address and mask are IPAddr values (the four bytes
// in network order, as stored in memory); use IPv4ToIPAddr. Not elevated, it
// fails with ERROR_INVALID_HANDLE.
// https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-addipaddress
//sys	AddIPAddress(address uint32, mask uint32, ifIndex uint32, nteContext *uint32, nteInstance *uint32) (ret error) = iphlpapi.AddIPAddress?

// DeleteIPAddress corresponds to DeleteIPAddress: it removes the address
// that AddIPAddress added under nteContext.
// https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-deleteipaddress
//sys	DeleteIPAddress(nteContext uint32) (ret error) = iphlpapi.DeleteIPAddress?

// FindProc reports whether iphlpapi.dll exports the named procedure
// (LazyProc.Find): nil if it does, the loader's error otherwise.
func FindProc(name string) error {
	return modiphlpapi.NewProc(name).Find()
}
