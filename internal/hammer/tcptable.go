package hammer

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// tcpRow2 mirrors MIB_TCPROW2 (tcpmib.h), the row of GetTcpTable2: seven
// DWORDs; addresses and ports in network byte order as they lie in memory.
type tcpRow2 struct {
	State        uint32 // MIB_TCP_STATE
	LocalAddr    [4]byte
	LocalPort    [4]byte // port in the first two bytes, network order
	RemoteAddr   [4]byte
	RemotePort   [4]byte
	OwningPid    uint32
	OffloadState uint32 // TCP_CONNECTION_OFFLOAD_STATE
}

// sizeofTCPRow2 is sizeof(MIB_TCPROW2).
const sizeofTCPRow2 = 28

func (r *tcpRow2) local() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(r.LocalAddr), binary.BigEndian.Uint16(r.LocalPort[:2]))
}

func (r *tcpRow2) remote() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(r.RemoteAddr), binary.BigEndian.Uint16(r.RemotePort[:2]))
}

// parseTCPTable2 decodes a MIB_TCPTABLE2 buffer: dwNumEntries, then the rows.
func parseTCPTable2(buf []byte) ([]tcpRow2, error) {
	if len(buf) < 4 {
		return nil, fmt.Errorf("parsing MIB_TCPTABLE2: %d bytes, want at least 4", len(buf))
	}
	n := int(binary.LittleEndian.Uint32(buf))
	if need := 4 + n*sizeofTCPRow2; len(buf) < need {
		return nil, fmt.Errorf("parsing MIB_TCPTABLE2: %d entries need %d bytes, have %d", n, need, len(buf))
	}
	rows := make([]tcpRow2, n)
	for i := range rows {
		b := buf[4+i*sizeofTCPRow2:]
		r := &rows[i]
		r.State = binary.LittleEndian.Uint32(b[0:])
		copy(r.LocalAddr[:], b[4:8])
		copy(r.LocalPort[:], b[8:12])
		copy(r.RemoteAddr[:], b[12:16])
		copy(r.RemotePort[:], b[16:20])
		r.OwningPid = binary.LittleEndian.Uint32(b[20:])
		r.OffloadState = binary.LittleEndian.Uint32(b[24:])
	}
	return rows, nil
}

// windowsTCPState names a MIB_TCP_STATE value with the Linux-style names
// Census uses.
func windowsTCPState(s uint32) string {
	names := [...]string{1: "CLOSE", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT", "DELETE_TCB"}
	if int(s) < len(names) && names[s] != "" {
		return names[s]
	}
	return fmt.Sprintf("STATE_%d", s)
}

// censusOf counts the rows to or from target by state.
func censusOf(rows []tcpRow2, target netip.AddrPort) Census {
	c := Census{}
	for i := range rows {
		if rows[i].local() == target || rows[i].remote() == target {
			c[windowsTCPState(rows[i].State)]++
		}
	}
	return c
}
