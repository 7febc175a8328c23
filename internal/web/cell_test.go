package web

import "testing"

// Cells of the rejects download that a spreadsheet would run as a formula
// get an apostrophe; ordinary text is left alone.
func TestCellNeutralisesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://evil.example\",\"点击\")": "'=HYPERLINK(\"http://evil.example\",\"点击\")",
		"+86 138 0013 8000":           "'+86 138 0013 8000",
		"-2+3+cmd|' /C calc'!A0":      "'-2+3+cmd|' /C calc'!A0",
		"@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1+1":                      "'\t=1+1",
		"\r=1+1":                      "'\r=1+1",
		"＝1+1":                        "'＝1+1",
		"ZY202610090003,张三":           "ZY202610090003,张三",
		"":                            "",
		"出院日期 2026-13-45 无效":          "出院日期 2026-13-45 无效",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}
