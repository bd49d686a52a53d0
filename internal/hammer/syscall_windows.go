package hammer

// GetTcpTable2 is not wrapped by golang.org/x/sys/windows. Declared with "?"
// so a missing procedure is an error, not a panic.
//sys	getTCPTable2(table *byte, size *uint32, order bool) (ret error) = iphlpapi.GetTcpTable2?
