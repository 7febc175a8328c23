package kpi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/kpi"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// zhLabels are the Chinese words of the ledger's codes, as the web
// catalog gives them.
func zhLabels(title string) kpi.LedgerLabels {
	words := map[string]string{
		"state.reached": "已随访", "state.refused": "拒访", "state.unreachable": "失访", "state.pending": "待随访",
		"channel.phone": "电话", "satisfaction.satisfied": "满意", "satisfaction.basically": "基本满意",
		"satisfaction.dissatisfied": "不满意", "sex.M": "男", "sex.F": "女", "sex.U": "未知",
		"remark.deceased": "死亡", "remark.do_not_contact": "拒绝联系", "remark.cancelled": "已取消", "remark.moved": "已转科",
	}
	return kpi.LedgerLabels{Title: title,
		Headers: strings.Split("出院时间,姓名,性别,年龄,出院诊断,联系电话,随访情况,患者意见,随访者,随访时间,督查签名,备注", ","),
		Label: func(kind, code string) string {
			if w, ok := words[kind+"."+code]; ok {
				return w
			}
			return code
		}}
}

// wantLedger is 心血管内科's September, by hand from build: ZY04 was
// cancelled (A13), MZ11 is an outpatient visit; the rest in discharge
// order, then by id. ZY01 reached by phone on 09-30; ZY08 wrong number on
// every task; ZY02 refused (which also marks the patient do-not-contact);
// ZY03 died (no plan); ZY10 do-not-contact since August (no plan). The CSV
// carries no birth date, so no age.
var wantLedger = [][]string{
	{"2026-09-28", "张*国", "男", "", "急性心肌梗死 (I21.9)", "139****0001", "已随访 · 电话", "满意", "system", "2026-09-30 10:00", "", ""},
	{"2026-09-28", "吴*玲", "女", "", "心房颤动 (I48.9)", "139****0008", "失访", "", "", "", "", ""},
	{"2026-09-29", "李*英", "女", "", "高血压病 (I10)", "139****0002", "拒访", "", "", "", "", "拒绝联系"},
	{"2026-09-29", "王*明", "男", "", "心力衰竭 (I50.9)", "139****0003", "待随访", "", "", "", "", "死亡"},
	{"2026-09-29", "冯*珍", "女", "", "高血压病 (I10)", "139****0010", "待随访", "", "", "", "", "拒绝联系"},
}

func TestLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := build(t, db)
		cardio := w.scalar(t, `SELECT department_id FROM encounters WHERE visit_number = 'ZY01'`)
		resp := w.scalar(t, `SELECT department_id FROM encounters WHERE visit_number = 'ZY05'`)
		sep := kpi.Month{Year: 2026, Month: time.September}
		head := &access.Principal{UserID: 930, Username: "xinnei_zr", Roles: []access.Role{access.DeptHead},
			Grants: []access.Grant{{InstitutionID: w.inst, DepartmentID: cardio}}, InstitutionID: w.inst}
		other := &access.Principal{UserID: 931, Username: "huxi_zr", Roles: []access.Role{access.DeptHead},
			Grants: []access.Grant{{InstitutionID: w.inst, DepartmentID: resp}}, InstitutionID: w.inst}
		if _, err := w.e.KPI.Ledger(ctx, other, w.inst, cardio, sep); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a head of 呼吸内科 read 心血管内科's ledger: %v", err)
		}
		// The ward's ledger is the same five stays (all of 心内一病区 are
		// 心血管内科's); a department of no institution is not found.
		ward := w.scalar(t, `SELECT ward_id FROM encounters WHERE visit_number = 'ZY01'`)
		if wl, err := w.e.KPI.Ledger(ctx, access.System(), w.inst, ward, sep); err != nil || len(wl.Rows) != 5 || wl.Department != "心内一病区" {
			t.Errorf("ward ledger: %v %+v", err, wl)
		}
		if _, err := w.e.KPI.Ledger(ctx, access.System(), w.inst, 999999, sep); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown department: %v", err)
		}
		l := zhLabels("杭州市第一人民医院 心血管内科 2026年09月 出院患者随访登记本")
		var buf bytes.Buffer
		led, err := w.e.KPI.ExportLedger(ctx, head, w.inst, cardio, sep, func(*kpi.Ledger) kpi.LedgerLabels { return l }, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if led.Department != "心血管内科" || led.Institution != "杭州市第一人民医院" {
			t.Errorf("ledger of %q %q", led.Institution, led.Department)
		}
		var got [][]string
		for i := range led.Rows {
			got = append(got, led.Rows[i].Cells(l, led.Loc))
		}
		checkRows(t, "service", got, wantLedger)
		// No plain name or number anywhere in the file.
		for _, plain := range []string{"张建国", "13905710001", "冯淑珍"} {
			if bytes.Contains(buf.Bytes(), []byte(plain)) {
				t.Errorf("the workbook holds %q unmasked", plain)
			}
		}
		checkXLSX(t, buf.Bytes(), l.Title, wantLedger)
		// The export is audited with its month and row count.
		var detail, actor string
		if err := db.R().QueryRowContext(ctx, `SELECT detail, actor FROM audit_log WHERE action = 'kpi.ledger_export'`).Scan(&detail, &actor); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(detail, "month=2026-09") || !strings.Contains(detail, "rows=5") || actor != "xinnei_zr" {
			t.Errorf("audit entry %q by %q", detail, actor)
		}
		t.Run("libreoffice", func(t *testing.T) {
			soffice, err := exec.LookPath("soffice")
			if err != nil {
				t.Skip("LibreOffice (soffice) is not installed")
			}
			checkSoffice(t, soffice, buf.Bytes())
		})
	})
}

func checkRows(t *testing.T, where string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d:\n%q", where, len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("%s row %d:\n got %q\nwant %q", where, i, got[i], want[i])
		}
	}
}

// checkXLSX reads the workbook back: title, header, rows, the declared
// dimension, the frozen header and the A4 landscape page set-up.
func checkXLSX(t *testing.T, data []byte, title string, want [][]string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || rows[0][0] != title || strings.Join(rows[1], ",") != "出院时间,姓名,性别,年龄,出院诊断,联系电话,随访情况,患者意见,随访者,随访时间,督查签名,备注" {
		t.Fatalf("title and header %q", rows[:min(2, len(rows))])
	}
	var body [][]string
	for _, r := range rows[2:] {
		for len(r) < 12 {
			r = append(r, "")
		}
		body = append(body, r)
	}
	checkRows(t, "xlsx", body, want)
	if dim, err := f.GetSheetDimension("Sheet1"); err != nil || dim != "A1:L7" {
		t.Errorf("dimension %q (%v), want A1:L7", dim, err)
	}
	panes, err := f.GetPanes("Sheet1")
	if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.TopLeftCell != "A3" {
		t.Errorf("panes %+v (%v), want frozen below row 2", panes, err)
	}
	pl, err := f.GetPageLayout("Sheet1")
	if err != nil || pl.Orientation == nil || *pl.Orientation != "landscape" || pl.Size == nil || *pl.Size != 9 ||
		pl.FitToWidth == nil || *pl.FitToWidth != 1 {
		t.Errorf("page layout %+v (%v), want A4 landscape fitted to width", pl, err)
	}
	if props, err := f.GetSheetProps("Sheet1"); err != nil || props.FitToPage == nil || !*props.FitToPage {
		t.Errorf("sheet props %+v (%v), want fit to page", props, err)
	}
	names := f.GetDefinedName()
	found := false
	for _, n := range names {
		found = found || n.Name == "_xlnm.Print_Titles" && strings.Contains(n.RefersTo, "$2:$2")
	}
	if !found {
		t.Errorf("no repeated header row for printing: %+v", names)
	}
}

// checkSoffice converts the workbook with LibreOffice, as a clerk opening
// it would, and checks the rows it sees.
func checkSoffice(t *testing.T, soffice string, data []byte) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "ledger.xlsx")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(soffice, "--headless", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", dir, in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "ledger.csv"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(csv)
	for _, r := range wantLedger {
		if !strings.Contains(text, r[0]+","+r[1]+","+r[2]) {
			t.Errorf("LibreOffice does not show the row %q:\n%s", r[:3], text)
		}
	}
}

// FuzzDiagnosisText: whatever the stored diagnoses column holds, the
// ledger prints text and never fails; named diagnoses all appear.
func FuzzDiagnosisText(f *testing.F) {
	f.Add(`[{"Code":"I21.0","Name":"急性前壁心肌梗死"},{"Code":"I10","Name":"高血压"}]`, "I21.0")
	f.Add(`[]`, "E11.9")
	f.Add(`[{"Code":"","Name":"肺炎"}]`, "")
	f.Add(`not json`, "J18.9")
	f.Fuzz(func(t *testing.T, stored, icd string) {
		got := kpi.DiagnosisText(stored, icd)
		var ds []struct{ Code, Name string }
		if json.Unmarshal([]byte(stored), &ds) != nil {
			return
		}
		for _, d := range ds {
			if d.Name != "" && !strings.Contains(got, d.Name) {
				t.Fatalf("%q printed as %q, without %q", stored, got, d.Name)
			}
		}
	})
}
