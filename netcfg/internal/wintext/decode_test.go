package wintext

import (
	"errors"
	"testing"
	"unicode/utf16"
)

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestDecode(t *testing.T) {
	const text = "Interface List\r\n 11...00 15 5d 01 02 03 ......Ethernet 2\r\n"
	for name, data := range map[string][]byte{
		"utf-8": []byte(text), "utf-8 bom": append([]byte("\ufeff"), text...),
		"utf-16le bom": utf16le(text, true), "utf-16le plain": utf16le(text, false),
	} {
		if got, err := Decode(data); err != nil || got != text {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	_, err := Decode([]byte("Interface List\n\xe9\n"))
	var de *DecodeError
	if !errors.As(err, &de) || de.Line != 2 {
		t.Errorf("CP850 byte: %v, want a DecodeError at line 2", err)
	}
	if _, err := Decode(append(utf16le(text, true), 'x')); err == nil {
		t.Error("odd-length UTF-16: no error")
	}
}
