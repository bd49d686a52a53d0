package iproute2

import "testing"

func TestTableNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ProtocolName(2), "kernel"},
		{ProtocolName(3), "boot"},
		{ProtocolName(4), "static"},
		{ProtocolName(9), "ra"},
		{ProtocolName(16), "dhcp"},
		{ProtocolName(99), "openr"},
		{ProtocolName(77), "77"},
		{TypeName(1), ""},
		{TypeName(2), "local"},
		{TypeName(3), "broadcast"},
		{TypeName(7), "unreachable"},
		{TypeName(200), "200"},
		{TableName(254), ""},
		{TableName(255), "local"},
		{TableName(253), "253"},
		{TableName(100), "100"},
		{AddrProtoName(0), ""},
		{AddrProtoName(3), "kernel_ll"},
		{AddrProtoName(9), "9"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if !IsPersistent("", "static") || IsPersistent("local", "static") || IsPersistent("", "boot") {
		t.Error("IsPersistent: only main-table static routes are persistent")
	}
}
