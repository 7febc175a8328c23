package abnormal

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMobile: a staff phone becomes an SMS recipient only as 11 digits
// starting with 1, whatever was typed into the user form.
func FuzzMobile(f *testing.F) {
	for _, s := range []string{"138 0000 0001", "13800000001", "138-0000-0001", "+86 13800000001", "0571-88880000", "", "1380000000１", "138 0000 000x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := mobile(s)
		if m == "" {
			return
		}
		if len(m) != 11 || m[0] != '1' || strings.Trim(m, "0123456789") != "" {
			t.Fatalf("mobile(%q) = %q", s, m)
		}
		if strings.Trim(s, "0123456789 -") != "" {
			t.Fatalf("mobile(%q) accepted other characters", s)
		}
	})
}

// FuzzInputs: whatever a form or a JSON body carries, a report or an
// action that passes normalize is within the limits the tables and pages
// assume, and anything else is a field error, never a panic.
func FuzzInputs(f *testing.F) {
	f.Add("dispute", "urgent", "家属情绪激动", "ZY001", int64(0), int64(0), "conclude", "referred", "医保办", "结论", "")
	f.Add("fraud", "", " ", "", int64(1), int64(2), "fly", "", "", "", "")
	f.Add("safety", "normal", strings.Repeat("长", 4001), strings.Repeat("9", 65), int64(-1), int64(0), "reopen", "", "", "", " ")
	f.Fuzz(func(t *testing.T, kind, sev, summary, visit string, rec, comp int64, action, finding, referred, conclusion, note string) {
		in := Input{InstitutionID: 1, Kind: kind, Severity: sev, Summary: summary, VisitNumber: visit, RecordID: rec, ComplaintID: comp}
		if err := in.normalize(); err == nil {
			switch {
			case !slices.Contains(kinds, in.Kind), !slices.Contains(Severities(), in.Severity):
				t.Fatalf("accepted kind %q severity %q", in.Kind, in.Severity)
			case in.Summary == "" || utf8.RuneCountInString(in.Summary) > maxText || utf8.RuneCountInString(in.VisitNumber) > 64:
				t.Fatalf("accepted summary of %d runes, visit %q", utf8.RuneCountInString(in.Summary), in.VisitNumber)
			case in.RecordID < 0 || in.ComplaintID < 0 || in.RecordID > 0 && in.ComplaintID > 0:
				t.Fatalf("accepted sources %d %d", in.RecordID, in.ComplaintID)
			}
		}
		a := ActionInput{Action: action, Finding: finding, ReferredTo: referred, Conclusion: conclusion, Note: note}
		if err := a.normalize(); err == nil {
			if !slices.Contains(Actions(), a.Action) {
				t.Fatalf("accepted action %q", a.Action)
			}
			if a.Action == ActConclude && (!slices.Contains(findings, a.Finding) || a.Conclusion == "" ||
				a.Finding == "referred" && a.ReferredTo == "") {
				t.Fatalf("accepted conclusion %+v", a)
			}
			if (a.Action == ActReopen || a.Action == ActNote) && a.Note == "" {
				t.Fatalf("accepted %s without a note", a.Action)
			}
		}
	})
}
