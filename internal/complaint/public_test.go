package complaint_test

import (
	"strings"
	"testing"
	"time"

	"suifang/internal/complaint"
	"suifang/internal/errs"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

func TestRegisterPublicAndTrack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		h, err := e.cs.PublicHospital(ctx, "H1")
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "第一医院" || len(h.Depts) != 2 {
			t.Fatalf("hospital %+v", h)
		}
		_, err = e.cs.PublicHospital(ctx, "NOPE")
		wantErr(t, err, errs.NotFound, "complaint_hospital_not_found")

		in := complaint.PublicInput{Name: "李华", Phone: "139-0000-1234", Role: "relative", DepartmentID: e.ortho,
			Content: "夜间呼叫无人应答", Asks: "改进夜班巡视"}
		bad := in
		bad.Phone = "010-12345678" // a landline gets no receipt and cannot be checked
		_, err = e.cs.RegisterPublic(ctx, "H1", bad)
		wantErr(t, err, errs.Invalid, "bad_phone")
		bad = in
		bad.Role = "other"
		_, err = e.cs.RegisterPublic(ctx, "H1", bad)
		wantErr(t, err, errs.Invalid, "bad_complainant_role")
		bad = in
		bad.DepartmentID = 0
		_, err = e.cs.RegisterPublic(ctx, "H1", bad)
		wantErr(t, err, errs.Invalid, "missing_department")

		rc, err := e.cs.RegisterPublic(ctx, "H1", in)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Hospital != "第一医院" || rc.FeedbackDays != 5 || strings.HasPrefix(rc.TrackingCode, "TS-") {
			t.Fatalf("receipt %+v", rc)
		}
		// The receipt went to the phone with the tracking code.
		sms := e.outbox.of("complaint.received")
		if len(sms) != 1 || sms[0].To != "13900001234" || sms[0].Params["number"] != rc.TrackingCode {
			t.Fatalf("receipt messages %+v", sms)
		}

		st, err := e.cs.Track(ctx, strings.ToLower(rc.TrackingCode), "1234")
		if err != nil {
			t.Fatal(err)
		}
		if st.Phase != "received" || len(st.Steps) != 1 || st.Steps[0].Step != "received" || st.Hospital != "第一医院" {
			t.Fatalf("status %+v", st)
		}
		for _, try := range [][2]string{{rc.TrackingCode, "4321"}, {"AAAA-BBBB-CCCC", "1234"}, {"", "1234"}, {rc.TrackingCode, "12a4"}} {
			_, err := e.cs.Track(ctx, try[0], try[1])
			wantErr(t, err, errs.NotFound, "complaint_track_not_found")
		}

		// The event names the website; quality owns it.
		list, err := e.cs.List(ctx, e.quality, complaint.Filter{InstitutionID: e.inst, Tab: complaint.TabAll, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		c := list.Items[0]
		if c.Channel != "website" || c.OwnerID != e.quality.UserID {
			t.Fatalf("complaint %+v", c.Complaint)
		}
		evs, err := e.cs.Events(ctx, e.quality, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Actor != "website" || evs[0].Action != "register" {
			t.Fatalf("first event %+v", evs[0])
		}

		e.clk.Advance(5 * time.Minute)
		e.act(e.quality, c.ID, complaint.ActionInput{Action: complaint.ActAccept})
		st, err = e.cs.Track(ctx, rc.TrackingCode, "1234")
		if err != nil {
			t.Fatal(err)
		}
		if st.Phase != "handling" || len(st.Steps) != 2 || st.Steps[1].Step != "accepted" {
			t.Fatalf("after accept %+v", st)
		}
	})
}

func TestNormalizeTrackingCode(t *testing.T) {
	for in, want := range map[string]string{
		"K7MQ-X9PA-4TZB":    "K7MQ-X9PA-4TZB",
		"k7mq x9pa 4tzb":    "K7MQ-X9PA-4TZB",
		"K7MQX9PA4TZB":      "K7MQ-X9PA-4TZB",
		"K7MQ-X9PA-4TZ":     "",
		"K7MQ-X9PA-4TZBB":   "",
		"K0MQ-X9PA-4TZB":    "", // 0 is not in the alphabet
		"Ｋ7MQ-X9PA-4TZB":    "",
		"":                  "",
		"K7MQ-X9PA-4TZB;--": "",
	} {
		if got := complaint.NormalizeTrackingCode(in); got != want {
			t.Errorf("NormalizeTrackingCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeTrackingCode(f *testing.F) {
	for _, s := range []string{"K7MQ-X9PA-4TZB", "k7mq x9pa 4tzb", "K7MQX9PA4TZB", "", "----", "Ｋ7MQ", "ABCD-EFGH-JKMN-P"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := complaint.NormalizeTrackingCode(s)
		if got == "" {
			return
		}
		if len(got) != 14 || got[4] != '-' || got[9] != '-' {
			t.Fatalf("%q normalized to malformed %q", s, got)
		}
		if again := complaint.NormalizeTrackingCode(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
