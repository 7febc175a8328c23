// Package workbook finishes the .xlsx files Suifang writes with excelize:
// every sheet declares the range it really uses.
package workbook

import (
	"bytes"
	"fmt"

	"github.com/xuri/excelize/v2"
)

// Bytes sets each sheet's dimension to its used range and returns the
// workbook. excelize leaves a new sheet's <dimension ref="A1"/> as it was,
// and streaming readers (openpyxl read-only, csvkit) trust that element:
// they would see one cell per sheet.
func Bytes(f *excelize.File) ([]byte, error) {
	for _, sh := range f.GetSheetList() {
		if err := SetDimension(f, sh); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, fmt.Errorf("workbook: write: %w", err)
	}
	return buf.Bytes(), nil
}

// SetDimension declares the used range of one sheet, from A1 to the last
// row and the widest row holding a value.
func SetDimension(f *excelize.File, sheet string) error {
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return fmt.Errorf("workbook: read %s: %w", sheet, err)
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	ref := "A1"
	if len(rows) > 0 && cols > 0 {
		last, err := excelize.CoordinatesToCellName(cols, len(rows))
		if err != nil {
			return fmt.Errorf("workbook: %s: %w", sheet, err)
		}
		ref = "A1:" + last
	}
	if err := f.SetSheetDimension(sheet, ref); err != nil {
		return fmt.Errorf("workbook: %s: dimension %s: %w", sheet, ref, err)
	}
	return nil
}
