package e2e

// The patient archive in a browser: 质控 finds a patient by phone number,
// opens the archive page, reveals the number (audited), marks the patient
// do-not-contact, opens one of the patient's records and corrects it; the
// correction shows and the record chains still verify.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"suifang/internal/audit"
	"suifang/internal/followup"
	"suifang/internal/pii"
)

func TestBrowserPatientArchive(t *testing.T) {
	s := start(t, "sqlite")
	ctx := t.Context()
	inst, _ := h01(t, s)
	sys := systemPrincipal()

	// A demo patient of H01 with a completed follow-up and a phone number.
	page, err := s.App.Followup.Records(ctx, sys, followup.RecordFilter{InstitutionID: inst, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var rec *followup.RecordRow
	var phone string
	for _, r := range page.Rows {
		pat, err := s.App.Patients.Get(ctx, nil, r.PatientID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pat.Phones) == 1 && !pat.DoNotContact && !pat.Deceased && !r.Amended {
			rec, phone = r, pat.Phones[0]
			break
		}
	}
	if rec == nil {
		t.Fatalf("no demo record of a patient with one phone among %d", len(page.Rows))
	}
	masked := pii.MaskName(rec.PatientName)

	b := newBrowser(t, s)
	q := b.loggedIn(t, "quality")
	// 1. Search by the full phone number from the navigation.
	if st := q.clickNav(`nav.sidenav a[href="/patients"]`); st != http.StatusOK {
		t.Fatalf("/patients = %d", st)
	}
	q.fill("#q", phone)
	if st := q.clickNav(`form.patient-search button[type=submit]`); st != http.StatusOK {
		t.Fatalf("search = %d", st)
	}
	rows := run(q, "read the hits", evalRows(`table.patients tbody tr`))
	if len(rows) != 1 || rows[0][0] != masked || rows[0][2] != rec.MRN || !strings.Contains(rows[0][3], "****") {
		t.Fatalf("hits for %s = %q, want one row for %s (%s)", pii.MaskPhone(phone), rows, masked, rec.MRN)
	}
	q.wantNoText(rec.PatientName)
	q.wantNoUntranslated()
	q.shot("40-patient-search.png")

	// 2. The archive page, masked; then the audited reveal of the phone.
	if st := q.clickNav(`table.patients td.pname a`); st != http.StatusOK {
		t.Fatalf("patient page = %d", st)
	}
	patPath := q.path()
	q.wantText(masked, "基本信息", "住院记录", "随访任务", rec.Number, pii.MaskPhone(phone))
	q.wantNoText(phone)
	if st := q.clickNav(`#phone form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("reveal = %d", st)
	}
	q.wantText(phone, "已记录本次查看")
	if !q.exists(fmt.Sprintf(`#phone a.tel[href="tel:%s"]`, phone)) {
		t.Error("the revealed number is not a dialling link")
	}
	list, err := s.App.Audit.List(ctx, sys, audit.Filter{Action: "patient.reveal"})
	if err != nil || len(list) == 0 || list[0].Actor != "quality" || list[0].Detail != "field=phone" {
		t.Errorf("reveal audit = %v %+v", err, list)
	}
	q.eval(`window.scrollTo(0, 0)`)
	q.shot("41-patient-revealed.png")

	// 3. Do not contact, with a reason (the form asks for confirmation).
	dialogs := q.acceptDialogs()
	q.open(patPath)
	q.fill("#dnc-reason", "患者来信，要求今后不再电话回访")
	if st := q.clickNav(`#dnc-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("set do-not-contact = %d", st)
	}
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "勿扰") {
			t.Errorf("confirmation asked %q", msg)
		}
	default:
		t.Error("setting do-not-contact asked no confirmation")
	}
	q.wantText("已标记为勿扰", "患者来信，要求今后不再电话回访", "解除勿扰")
	pat, err := s.App.Patients.Get(ctx, nil, rec.PatientID)
	if err != nil || !pat.DoNotContact {
		t.Fatalf("patient after DNC: %v %+v", err, pat)
	}
	open := 0
	file, err := s.App.Followup.PatientFile(ctx, sys, rec.PatientID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range file.Tasks {
		if tk.Status == followup.Open {
			open++
		}
	}
	if open != 0 {
		t.Errorf("%d tasks still open after do-not-contact", open)
	}
	q.eval(`window.scrollTo(0, 0)`)
	q.shot("42-patient-dnc.png")

	// 4. Open the record from the patient page and correct it.
	if st := q.clickNav(fmt.Sprintf(`ul.records-list a[href="/followup/records/%d"]`, rec.ID)); st != http.StatusOK {
		t.Fatalf("record page = %d", st)
	}
	q.wantText(rec.Number, "防篡改校验", "原始记录", "更正记录")
	if got := q.text("code.full-hash"); got != rec.Hash {
		t.Errorf("the page shows hash %q, want %q", got, rec.Hash)
	}
	if q.value("#medication_guidance") != rec.MedicationGuidance {
		t.Errorf("the correction form is not prefilled: %q", q.value("#medication_guidance"))
	}
	q.shot("43-record.png")
	q.fill("#revisit_advice", "两周后门诊复诊，复查血常规")
	q.fill("#amend_reason", "复诊时间记录有误，按患者回电更正")
	if st := q.clickNav(`#amend-form button[type=submit]`); st != http.StatusOK {
		t.Fatalf("amend = %d", st)
	}
	q.wantText("已保存更正", "复诊时间记录有误，按患者回电更正", "两周后门诊复诊，复查血常规", rec.Number)
	if n := q.eval(`document.querySelectorAll("#versions li").length`).(float64); n != 2 {
		t.Errorf("%v versions listed, want 2", n)
	}
	q.wantNoUntranslated()
	q.eval(`window.scrollTo(0, 0)`)
	q.shot("44-record-amended.png")
	res, err := s.App.Followup.VerifyRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res {
		if !c.OK {
			t.Errorf("record chain of %d broken at %s: %s", c.InstitutionID, c.BrokenRef, c.Reason)
		}
	}
	// The original is unchanged and says it was corrected.
	q.open(fmt.Sprintf("/followup/records/%d", rec.ID))
	q.wantText("这一版本已被更正", rec.MedicationGuidance)
	if q.exists("#amend-form") {
		t.Error("the superseded version still offers the correction form")
	}

	// 5. The record browser and the pages at phone width.
	q.open("/followup/records?number=" + rec.Number[:15])
	q.wantText(rec.Number, "已被更正", "更正")
	q.shot("45-records.png")
	ph := b.loggedInPhone(t, "quality")
	for _, p := range []struct{ path, shot string }{
		{"/patients?q=" + phone, "46-patient-search-phone.png"},
		{patPath, "47-patient-phone.png"},
		{fmt.Sprintf("/followup/records/%d", rec.ID), "48-record-phone.png"},
		{"/followup/records", "49-records-phone.png"},
	} {
		if st := ph.open(p.path); st != http.StatusOK {
			t.Fatalf("%s at phone width = %d", p.path, st)
		}
		ph.wantFits(390)
		ph.shot(p.shot)
	}
}
