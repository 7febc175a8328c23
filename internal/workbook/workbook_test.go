package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// sheetRanges parses every worksheet part of an .xlsx and returns, per
// part, the declared dimension and the range its <c r=…> cells really span.
func sheetRanges(t *testing.T, data []byte) map[string][2]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		rc, _ := zf.Open()
		dec := xml.NewDecoder(rc)
		var dim string
		maxC, maxR := 0, 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			se, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			for _, a := range se.Attr {
				if a.Name.Local != "ref" && a.Name.Local != "r" {
					continue
				}
				switch {
				case se.Name.Local == "dimension":
					dim = a.Value
				case se.Name.Local == "c":
					c, r, err := excelize.CellNameToCoordinates(a.Value)
					if err != nil {
						t.Fatal(err)
					}
					maxC, maxR = max(maxC, c), max(maxR, r)
				}
			}
		}
		rc.Close()
		span := "A1"
		if maxC > 0 {
			last, _ := excelize.CoordinatesToCellName(maxC, maxR)
			span = "A1:" + last
		}
		out[zf.Name] = [2]string{dim, span}
	}
	return out
}

// A follow-up export of 523 rows by 11 columns declares A1:K523.
func TestBytesDeclaresUsedRange(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "随访")
	head := []any{"病案号", "住院流水号", "姓名", "科室", "出院日期", "随访类型", "到期日", "状态", "结果", "满意度", "备注"}
	f.SetSheetRow("随访", "A1", &head)
	for i := 2; i <= 523; i++ {
		row := []any{fmt.Sprintf("2026%06d", i), fmt.Sprintf("ZY2026101%05d", i), "李建国", "心血管内科", "2026-10-10", "一级随访", "2026-10-17", "已完成", "好转", "满意", "—"}
		f.SetSheetRow("随访", fmt.Sprintf("A%d", i), &row)
	}
	f.NewSheet("空白")
	data, err := Bytes(f)
	if err != nil {
		t.Fatal(err)
	}
	got := sheetRanges(t, data)
	if len(got) != 2 {
		t.Fatalf("sheets: %v", got)
	}
	for name, r := range got {
		if r[0] != r[1] {
			t.Errorf("%s declares %q, cells span %q", name, r[0], r[1])
		}
	}
	if got["xl/worksheets/sheet1.xml"][0] != "A1:K523" {
		t.Errorf("dimension %v, want A1:K523", got["xl/worksheets/sheet1.xml"])
	}
	if got["xl/worksheets/sheet2.xml"][0] != "A1" {
		t.Errorf("empty sheet dimension %v, want A1", got["xl/worksheets/sheet2.xml"])
	}
}
