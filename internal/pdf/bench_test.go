package pdf

import (
	"fmt"
	"testing"
)

// BenchmarkLongSheet lays out and writes a handling sheet with a 200-step
// history (a long-running, reopened case): about eight pages.
func BenchmarkLongSheet(b *testing.B) { benchSheet(b, nil) }

// BenchmarkLongSheetEmbedded is the same sheet with the CJK font subset
// embedded (LXGW WenKai when installed).
func BenchmarkLongSheetEmbedded(b *testing.B) {
	path := FindFont("")
	if path == "" {
		b.Skip("no CJK TrueType font installed")
	}
	f, err := LoadFont(path)
	if err != nil {
		b.Fatal(err)
	}
	benchSheet(b, f)
}

func benchSheet(b *testing.B, font *Font) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		d := New(Info{Title: "医疗投诉及纠纷处理表", Created: created, Header: "第一医院 · TS-H1-20261120-0001", Font: font})
		d.Para("医疗投诉及纠纷处理表", Style{Size: 18, Bold: true, Align: Center})
		rows := make([][]Cell, 200)
		for i := range rows {
			rows[i] = []Cell{{Text: "2026-11-20 09:30"}, {Text: "调查记录"}, {Text: "质控王"}, {Text: fmt.Sprintf("%d %s", i, mixed)}, {Text: "ca08a18ece09"}}
		}
		d.Table(Table{Widths: []float64{1.5, 1.6, 1.1, 3.3, 1.3}, Size: 8.5,
			Header: []Cell{{Text: "时间"}, {Text: "环节"}, {Text: "经办人"}, {Text: "说明"}, {Text: "链哈希"}}, Rows: rows})
		size = len(d.Bytes())
	}
	b.ReportMetric(float64(size), "bytes/pdf")
}
