package wintext

import (
	"fmt"
	"math"
	"strconv"
)

// ParseUint32 parses a decimal ULONG or DWORD as Windows prints it (a
// metric, an MTU, an interface index: up to 4294967295). Errors name field.
func ParseUint32(field, s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q: not a number in 0..4294967295", field, s)
	}
	return uint32(v), nil
}

// Int converts a ULONG field to int for a type whose field is int. Where int
// is 32 bits (386, arm) a value above 2147483647 does not fit; that is an
// error naming the field and the value, never a wrapped number.
func Int(field string, v uint32) (int, error) {
	if uint64(v) > uint64(math.MaxInt) {
		return 0, fmt.Errorf("%s %d does not fit this platform's int (max %d)", field, v, math.MaxInt)
	}
	return int(v), nil
}

// ParseInt parses a decimal ULONG into an int field: ParseUint32 then Int.
func ParseInt(field, s string) (int, error) {
	v, err := ParseUint32(field, s)
	if err != nil {
		return 0, err
	}
	return Int(field, v)
}
