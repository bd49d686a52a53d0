package hammer

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"
)

func TestTCPRow2Layout(t *testing.T) {
	if got := unsafe.Sizeof(tcpRow2{}); got != sizeofTCPRow2 {
		t.Fatalf("sizeof(tcpRow2) = %d, want %d (MIB_TCPROW2)", got, sizeofTCPRow2)
	}
	for name, off := range map[string]uintptr{
		"LocalAddr": unsafe.Offsetof(tcpRow2{}.LocalAddr), "LocalPort": unsafe.Offsetof(tcpRow2{}.LocalPort),
		"RemoteAddr": unsafe.Offsetof(tcpRow2{}.RemoteAddr), "RemotePort": unsafe.Offsetof(tcpRow2{}.RemotePort),
		"OwningPid": unsafe.Offsetof(tcpRow2{}.OwningPid), "OffloadState": unsafe.Offsetof(tcpRow2{}.OffloadState),
	} {
		want := map[string]uintptr{"LocalAddr": 4, "LocalPort": 8, "RemoteAddr": 12, "RemotePort": 16, "OwningPid": 20, "OffloadState": 24}[name]
		if off != want {
			t.Errorf("offset of %s = %d, want %d", name, off, want)
		}
	}
}

// row builds the bytes GetTcpTable2 writes for one MIB_TCPROW2.
func row(state uint32, local, remote string) []byte {
	b := make([]byte, sizeofTCPRow2)
	l, r := netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote)
	binary.LittleEndian.PutUint32(b, state)
	la, ra := l.Addr().As4(), r.Addr().As4()
	copy(b[4:], la[:])
	binary.BigEndian.PutUint16(b[8:], l.Port())
	copy(b[12:], ra[:])
	binary.BigEndian.PutUint16(b[16:], r.Port())
	binary.LittleEndian.PutUint32(b[20:], 4242)
	return b
}

func TestParseTCPTable2(t *testing.T) {
	buf := binary.LittleEndian.AppendUint32(nil, 4)
	buf = append(buf, row(2, "192.0.2.20:8080", "0.0.0.0:0")...)
	buf = append(buf, row(11, "192.0.2.20:50001", "192.0.2.20:8080")...)
	buf = append(buf, row(11, "192.0.2.20:50002", "192.0.2.20:8080")...)
	buf = append(buf, row(5, "192.0.2.20:50003", "198.51.100.9:443")...)
	rows, err := parseTCPTable2(buf)
	if err != nil {
		t.Fatal(err)
	}
	if rows[1].local() != netip.MustParseAddrPort("192.0.2.20:50001") || rows[1].OwningPid != 4242 {
		t.Errorf("row 1 = %+v", rows[1])
	}
	c := censusOf(rows, netip.MustParseAddrPort("192.0.2.20:8080"))
	if c["TIME_WAIT"] != 2 || c["LISTEN"] != 1 || c["ESTABLISHED"] != 0 {
		t.Errorf("census = %v", c)
	}
	if _, err := parseTCPTable2(buf[:40]); err == nil {
		t.Error("short buffer: no error")
	}
}
