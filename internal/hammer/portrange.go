package hammer

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseLinuxPortRange parses /proc/sys/net/ipv4/ip_local_port_range
// ("32768\t60999\n").
func ParseLinuxPortRange(s string) (PortRange, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return PortRange{}, fmt.Errorf("parsing ip_local_port_range %q: want two numbers", s)
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo == 0 || hi < lo {
		return PortRange{}, fmt.Errorf("parsing ip_local_port_range %q: want 1 <= low <= high <= 65535", s)
	}
	return PortRange{Lo: uint16(lo), Hi: uint16(hi)}, nil
}
