package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/importer"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
	"suifang/internal/testkit"
)

// TestKPILedgerPages: the print view and the workbook of 心血管内科's
// October, for quality staff; a head of another department is refused.
func TestKPILedgerPages(t *testing.T) {
	k := testkit.New(t, storetest.SQLite(t), testkit.Options{Start: pageNow()})
	e := &pageEnv{t: t, auth: k.Auth, cal: k.Calendar}
	e.h1 = k.Institution(t, "H1", "第一医院")
	cardio := k.Department(t, e.h1, "0301", "心血管内科", org.DeptClinical)
	k.Department(t, e.h1, "W05", "心内一病区", org.DeptWard)
	endo := k.Department(t, e.h1, "0502", "内分泌科", org.DeptClinical)
	k.Department(t, e.h1, "W12", "内分泌病区", org.DeptWard)
	k.User(t, auth.UserInput{Username: "zhikong", DisplayName: "质控科", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: e.h1}}})
	k.User(t, auth.UserInput{Username: "neifenmi", DisplayName: "内分泌科主任", Password: adminPW,
		HomeInstitutionID: e.h1, Roles: []access.Role{access.DeptHead}, Grants: []access.Grant{{InstitutionID: e.h1, DepartmentID: endo}}})
	if _, err := k.Importer.Import(context.Background(), access.System(), strings.NewReader(dischargeCSV),
		importer.Options{Filename: "出院患者.csv"}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Auth: k.Auth, Org: k.Org, Audit: k.Audit, Calendar: k.Calendar, Patients: k.Patients, Followup: k.Followup,
		KPI: k.KPI, Log: slog.New(slog.DiscardHandler), Now: pageNow, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = newTestServer(t, s)
	q := "/kpi/ledger?dept=" + strconv.FormatInt(cardio, 10) + "&month=2026-10"
	c := e.login("zhikong", adminPW)
	// 李建国's stay of 10-08; 张小明's row had no discharge date and 王芳
	// left 内分泌科.
	r := c.get(q)
	want(t, r, http.StatusOK, "第一医院 心血管内科 2026年10月 出院患者随访台账", "<th scope=\"col\">督查签名</th>",
		"李*国", "138****8000", "急性前壁心肌梗死 (I21.0)；高血压 (I10)", "<td>68</td>", "待随访", "督查人签名：",
		`href="/kpi/ledger.xlsx?dept=`+strconv.FormatInt(cardio, 10)+`&amp;inst=`)
	wantNot(t, r, "李建国", "13800138000", "王*", "[kl.")
	want(t, c.get("/kpi/ledger?dept="+strconv.FormatInt(cardio, 10)+"&month=2026-13"), http.StatusBadRequest, "月份格式如 2026-10")
	resp, body := c.raw("/kpi/ledger.xlsx?dept=" + strconv.FormatInt(cardio, 10) + "&month=2026-10")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "ledger-"+strconv.FormatInt(cardio, 10)+"-2026-10.xlsx") {
		t.Fatalf("workbook: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	rows := xlsxSheets(t, []byte(body))["Sheet1"]
	if len(rows) != 3 || rows[1][0] != "出院时间" || rows[2][1] != "李*国" || rows[2][0] != "2026-10-08" {
		t.Errorf("workbook rows %q", rows)
	}
	// The head of 内分泌科 reads their own ledger, not cardiology's.
	h := e.login("neifenmi", adminPW)
	want(t, h.get(q), http.StatusForbidden)
	want(t, h.get(strings.Replace(q, "/ledger?", "/ledger.xlsx?", 1)), http.StatusForbidden)
	want(t, h.get("/kpi/ledger?dept="+strconv.FormatInt(endo, 10)+"&month=2026-10"), http.StatusOK, "王*", "2型糖尿病 (E11.9)")
}
