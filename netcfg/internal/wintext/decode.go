package wintext

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeError is bytes Decode cannot read as text, at Line (1-based; 0 if
// not known).
type DecodeError struct {
	Line int
	Msg  string
}

func (e *DecodeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Decode turns a Windows command's saved output into text: UTF-16 (LE or BE, with a BOM,
// or without one when every other byte of the start is NUL, as
// `Out-File`/`>` in Windows PowerShell 5.1 write) and UTF-8 (a BOM is
// dropped). Other encodings (the console's OEM code page: CP850, CP866,
// GB18030) are not guessed: invalid UTF-8 is an error naming the line.
func Decode(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		return decodeUTF16(data[2:], false)
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return decodeUTF16(data[2:], true)
	case looksUTF16(data, 1):
		return decodeUTF16(data, false)
	case looksUTF16(data, 0):
		return decodeUTF16(data, true)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if !utf8.Valid(data) {
		bad := 0
		for bad < len(data) {
			r, n := utf8.DecodeRune(data[bad:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			bad += n
		}
		line := bytes.Count(data[:bad], []byte("\n")) + 1
		return "", &DecodeError{Line: line, Msg: fmt.Sprintf("byte 0x%02x at offset %d is not UTF-8 (nor is the file UTF-16): save the capture as UTF-8 or UTF-16; a console code page (CP850, CP866, GB18030) is not guessed", data[bad], bad)}
	}
	return string(data), nil
}

// looksUTF16: at least 8 bytes, and the bytes at positions zero (mod 2 ==
// odd) are all NUL in the first 64 — ASCII text in UTF-16 without a BOM.
func looksUTF16(data []byte, odd int) bool {
	if len(data) < 8 || len(data)%2 != 0 {
		return false
	}
	n := min(len(data), 64)
	for i := odd; i < n; i += 2 {
		if data[i] != 0 {
			return false
		}
	}
	return true
}

func decodeUTF16(b []byte, bigEndian bool) (string, error) {
	if len(b)%2 != 0 {
		return "", &DecodeError{Msg: fmt.Sprintf("UTF-16 text has an odd number of bytes (%d): truncated?", len(b))}
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	s := string(utf16.Decode(u))
	return strings.TrimPrefix(s, "\ufeff"), nil
}
