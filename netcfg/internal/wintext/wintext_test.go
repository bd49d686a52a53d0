package wintext

import "testing"

func TestMaskBits(t *testing.T) {
	for _, tc := range []struct {
		mask string
		want int
		ok   bool
	}{
		{"255.255.255.0", 24, true},
		{"0.0.0.0", 0, true},
		{"255.255.255.255", 32, true},
		{"255.0.255.0", 0, false},
		{"ffff::", 0, false},
		{"Default", 0, false},
	} {
		got, err := MaskBits(tc.mask)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("MaskBits(%q) = %d, %v; want %d, ok=%v", tc.mask, got, err, tc.want, tc.ok)
		}
	}
}

func TestSplitLinesDropsCR(t *testing.T) {
	got := SplitLines("a\r\nb\nc\r")
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("SplitLines = %q", got)
	}
}
