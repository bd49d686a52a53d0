package wintext

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRuleColumnsAndCut(t *testing.T) {
	header := "Publish  Type      Met  Prefix                    Idx  Gateway/Interface Name"
	rule := "-------  --------  ---  ------------------------  ---  ------------------------"
	cols := RuleColumns(header, rule, Runes)
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"Publish", "Type", "Met", "Prefix", "Idx", "Gateway/Interface Name"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	row := "No       Manual    256  198.51.100.0/24            14  vEthernet (WSL)"
	want := []string{"No", "Manual", "256", "198.51.100.0/24", "14", "vEthernet (WSL)"}
	if diff := cmp.Diff(want, Cut(row, cols, Runes)); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestHeaderColumnsKeepsSingleSpacedLabels(t *testing.T) {
	cols := HeaderColumns("Публикация  Тип       Мет  Префикс                   Idx  Шлюз/имя интерфейса", Runes)
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"Публикация", "Тип", "Мет", "Префикс", "Idx", "Шлюз/имя интерфейса"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if cols[1].Start != 12 || cols[5].Start != 58 {
		t.Errorf("starts %d %d, want 12 58 (runes)", cols[1].Start, cols[5].Start)
	}
}

// TestCutByCells: a Format-Table row with a CJK alias lines up with the rule
// in console cells, not in runes (real zh-CN Get-NetIPInterface output).
func TestCutByCells(t *testing.T) {
	header := "ifIndex InterfaceAlias                  AddressFamily NlMtu(Bytes) InterfaceMetric Dhcp     ConnectionState PolicyStore"
	rule := "------- --------------                  ------------- ------------ --------------- ----     --------------- -----------"
	row := "21      以太网 2                        IPv6                  1500              15 Enabled  Connected       ActiveStore"
	want := []string{"21", "以太网 2", "IPv6", "1500", "15", "Enabled", "Connected", "ActiveStore"}
	if diff := cmp.Diff(want, Cut(row, RuleColumns(header, rule, Cells), Cells)); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	// A persistent-store row leaves NlMtu empty.
	row = "21      以太网 2                        IPv4                                     1                          Persiste..."
	want = []string{"21", "以太网 2", "IPv4", "", "1", "", "", "Persiste..."}
	if diff := cmp.Diff(want, Cut(row, RuleColumns(header, rule, Cells), Cells)); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}

}

// TestCutMovesIntoWord: a right-aligned value wider than its dashes starts
// before its column; the cut moves to the word's start.
func TestCutMovesIntoWord(t *testing.T) {
	header := "Name Size"
	rule := "---- ----"
	got := Cut("abc  123456", RuleColumns(header, rule, Cells), Cells)
	if diff := cmp.Diff([]string{"abc", "123456"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestIsRule(t *testing.T) {
	for line, want := range map[string]bool{
		"---  ----": true, "  -----": true, "--": false, "--- x": false, "": false,
	} {
		if IsRule(line) != want {
			t.Errorf("IsRule(%q) = %v", line, !want)
		}
	}
}

func TestWidth(t *testing.T) {
	if Width("以太网 2") != 8 || Width("Ethernet") != 8 || Width("이더넷") != 6 || Width("イーサネット") != 12 {
		t.Errorf("widths: %d %d %d %d", Width("以太网 2"), Width("Ethernet"), Width("이더넷"), Width("イーサネット"))
	}
}

func TestUint32(t *testing.T) {
	v, err := ParseUint32("MTU", "4294967295")
	if err != nil || v != math.MaxUint32 {
		t.Fatalf("ParseUint32 = %d, %v", v, err)
	}
	for _, s := range []string{"-1", "4294967296", "x", ""} {
		if _, err := ParseUint32("Met", s); err == nil || !strings.Contains(err.Error(), "Met") {
			t.Errorf("ParseUint32(%q): err = %v", s, err)
		}
	}
	n, err := Int("Metric", math.MaxUint32)
	if math.MaxInt == math.MaxInt32 {
		if err == nil || !strings.Contains(err.Error(), "Metric 4294967295") {
			t.Errorf("32-bit int: err = %v, want one naming Metric 4294967295", err)
		}
	} else if err != nil || uint64(n) != math.MaxUint32 {
		t.Errorf("64-bit int: %d, %v", n, err)
	}
}
