package caldb_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/calendar/caldb"
	"suifang/internal/clock"
	"suifang/internal/errs"
	"suifang/internal/org"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

var ctx = context.Background()

type env struct {
	db    *store.DB
	clk   *clock.Fake
	audit *audit.Service
	org   *org.Service
	cal   *caldb.Service
	sys   *access.Principal
}

// setup wires the services as app.Open does: the org creation hook calls the
// calendar service, which is built after org and reads institutions from it.
func setup(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{db: db, clk: clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), sys: access.System()}
	e.audit = audit.New(db, e.clk.Now)
	var cal *caldb.Service
	e.org = org.New(org.Deps{DB: db, Audit: e.audit, Now: e.clk.Now, OnCreate: []org.Hook{func(ctx context.Context, tx *sql.Tx, id int64) error {
		return cal.SeedInstitution(ctx, tx, id)
	}}})
	cal = caldb.New(caldb.Deps{DB: db, Audit: e.audit, Org: e.org, Now: e.clk.Now})
	e.cal = cal
	return e
}

func (e *env) inst(t *testing.T, code string) int64 {
	t.Helper()
	id, err := e.org.CreateInstitution(ctx, e.sys, org.InstitutionInput{Code: code, Name: code + " 医院"})
	if err != nil {
		t.Fatalf("institution %s: %v", code, err)
	}
	return id
}

func (e *env) calendar(t *testing.T, inst int64) *calendar.Calendar {
	t.Helper()
	c, err := e.cal.Calendar(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) audits(t *testing.T, action string) []audit.Entry {
	t.Helper()
	es, err := e.audit.List(ctx, e.sys, audit.Filter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func date(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// wantErr fails unless err is of kind k and, when field is given, names it.
func wantErr(t *testing.T, what string, err error, k errs.Kind, field string) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Fatalf("%s: err = %v (%s), want %s", what, err, errs.KindOf(err), k)
	}
	if field != "" {
		e, _ := errs.As(err)
		if _, ok := e.Fields[field]; !ok {
			t.Errorf("%s: fields %v, want %q", what, e.Fields, field)
		}
	}
}

var (
	agentOf = func(inst int64) *access.Principal {
		return &access.Principal{UserID: 42, Username: "agent", Roles: []access.Role{access.Agent}, InstitutionID: inst,
			Grants: []access.Grant{{InstitutionID: inst}}}
	}
	adminOf = func(inst int64) *access.Principal {
		return &access.Principal{UserID: 43, Username: "local-admin", Roles: []access.Role{access.SysAdmin}, InstitutionID: inst,
			Grants: []access.Grant{{InstitutionID: inst}}}
	}
)

func TestCaldbSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a := e.inst(t, "A")
		c := e.calendar(t, a)
		if !c.HasYear(2025) || !c.HasYear(2026) || c.HasYear(2027) {
			t.Errorf("years %v, want [2025 2026]", c.Years())
		}
		if got := c.AddWorkingDays(date(t, "2026-09-30"), 3).String(); got != "2026-10-10" {
			t.Errorf("AddWorkingDays(2026-09-30, 3) = %s", got)
		}
		if got := c.AddWorkingDays(date(t, "2025-09-30"), 1).String(); got != "2025-10-09" {
			t.Errorf("AddWorkingDays(2025-09-30, 1) = %s", got)
		}
		// The stored calendar equals the built-in one, day for day.
		builtin := calendar.New(calendar.Seed()...)
		for d := date(t, "2025-01-01"); d.Year < 2027; d = d.AddDays(1) {
			if c.IsWorkingDay(d) != builtin.IsWorkingDay(d) {
				t.Fatalf("%s: stored %t, built-in %t", d, c.IsWorkingDay(d), builtin.IsWorkingDay(d))
			}
			be, bok := builtin.Exception(d)
			se, sok := c.Exception(d)
			if bok != sok || be != se {
				t.Fatalf("%s: stored exception %+v/%t, built-in %+v/%t", d, se, sok, be, bok)
			}
		}
		miss, err := e.cal.MissingYears(ctx, a, 2025, 2026, 2027)
		if err != nil || !slices.Equal(miss, []int{2027}) {
			t.Errorf("MissingYears = %v, %v; want [2027]", miss, err)
		}
		miss, err = e.cal.MissingYears(ctx, a, 2026)
		if err != nil || miss != nil {
			t.Errorf("MissingYears(2026) = %v, %v; want none", miss, err)
		}
		v, err := e.cal.View(ctx, e.sys, a, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if !v.HasData || !slices.Equal(v.Years, []int{2025, 2026}) || len(v.Papers) != 1 || len(v.Days) == 0 {
			t.Errorf("View 2026 = %+v", v)
		}
		v, err = e.cal.View(ctx, e.sys, a, 2027)
		if err != nil || v.HasData || v.Days != nil || v.Year != 2027 {
			t.Errorf("View 2027 = %+v, %v", v, err)
		}
		// The seed is not audited; creating the institution is.
		if n := len(e.audits(t, "calendar.")); n != 0 {
			t.Errorf("%d calendar audit entries after seeding", n)
		}
	})
}

func findDay(v *caldb.YearView, d calendar.Date) (calendar.Exception, bool) {
	for _, x := range v.Days {
		if x.Date == d {
			return x, true
		}
	}
	return calendar.Exception{}, false
}

func TestCaldbSetAndDeleteDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a := e.inst(t, "A")
		day := date(t, "2026-03-03") // a Tuesday
		if !e.calendar(t, a).IsWorkingDay(day) {
			t.Fatal("2026-03-03 should start as a working day")
		}
		if err := e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: day, Name: "  院庆  ", OffDay: true}); err != nil {
			t.Fatal(err)
		}
		v, err := e.cal.View(ctx, e.sys, a, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if x, ok := findDay(v, day); !ok || x.Name != "院庆" || !x.OffDay {
			t.Errorf("after SetDay: %+v %t", x, ok)
		}
		if e.calendar(t, a).IsWorkingDay(day) {
			t.Error("2026-03-03 still a working day")
		}
		// Upsert: the same date again changes it.
		if err := e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: day, Name: "补班", OffDay: false}); err != nil {
			t.Fatal(err)
		}
		v, _ = e.cal.View(ctx, e.sys, a, 2026)
		if x, ok := findDay(v, day); !ok || x.Name != "补班" || x.OffDay {
			t.Errorf("after upsert: %+v %t", x, ok)
		}
		// Changing a seeded holiday into a working day.
		nd := date(t, "2026-10-01")
		if err := e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: nd, Name: "值班", OffDay: false}); err != nil {
			t.Fatal(err)
		}
		if !e.calendar(t, a).IsWorkingDay(nd) {
			t.Error("2026-10-01 not a working day after SetDay")
		}

		if err := e.cal.DeleteDay(ctx, e.sys, a, day); err != nil {
			t.Fatal(err)
		}
		v, _ = e.cal.View(ctx, e.sys, a, 2026)
		if _, ok := findDay(v, day); ok {
			t.Error("DeleteDay left the day")
		}
		// Deleting a seeded Saturday working day makes it a rest day again.
		sat := date(t, "2026-02-14")
		if err := e.cal.DeleteDay(ctx, e.sys, a, sat); err != nil {
			t.Fatal(err)
		}
		if e.calendar(t, a).IsWorkingDay(sat) {
			t.Error("2026-02-14 still working after its exception was deleted")
		}
		wantErr(t, "DeleteDay twice", e.cal.DeleteDay(ctx, e.sys, a, day), errs.NotFound, "")
		wantErr(t, "DeleteDay plain day", e.cal.DeleteDay(ctx, e.sys, a, date(t, "2026-03-04")), errs.NotFound, "")

		// An edit in a year without data gives the year data.
		y27 := date(t, "2027-05-01")
		if err := e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: y27, Name: "劳动节", OffDay: true}); err != nil {
			t.Fatal(err)
		}
		if c := e.calendar(t, a); !c.HasYear(2027) || c.IsWorkingDay(y27) {
			t.Errorf("2027 after SetDay: years %v", c.Years())
		}

		// Refusals.
		wantErr(t, "agent SetDay", e.cal.SetDay(ctx, agentOf(a), a, calendar.Exception{Date: day, Name: "x", OffDay: true}), errs.Forbidden, "")
		wantErr(t, "agent DeleteDay", e.cal.DeleteDay(ctx, agentOf(a), a, nd), errs.Forbidden, "")
		wantErr(t, "nil SetDay", e.cal.SetDay(ctx, nil, a, calendar.Exception{Date: day, Name: "x", OffDay: true}), errs.Forbidden, "")
		wantErr(t, "blank name", e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: day, Name: "   ", OffDay: true}), errs.Invalid, "name")
		long := ""
		for range calendar.MaxNameLen + 1 {
			long += "节"
		}
		wantErr(t, "long name", e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: day, Name: long, OffDay: true}), errs.Invalid, "name")
		wantErr(t, "bad date", e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: calendar.Date{Year: 2026, Month: 2, Day: 30}, Name: "x"}), errs.Invalid, "date")
		wantErr(t, "year out of range", e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: calendar.Date{Year: 1800, Month: 1, Day: 1}, Name: "x"}), errs.Invalid, "date")
		wantErr(t, "unknown institution", e.cal.SetDay(ctx, e.sys, a+999, calendar.Exception{Date: day, Name: "x"}), errs.NotFound, "")
		// Nothing refused changed anything: 2026-03-03 still has no exception.
		v, _ = e.cal.View(ctx, e.sys, a, 2026)
		if _, ok := findDay(v, day); ok {
			t.Error("a refused SetDay wrote the day")
		}

		// Audit: 4 set_day (03-03 twice, 10-01, 2027-05-01), 2 delete_day.
		sets, dels := e.audits(t, "calendar.set_day"), e.audits(t, "calendar.delete_day")
		if len(sets) != 4 || len(dels) != 2 {
			t.Fatalf("audit: %d set_day, %d delete_day; want 4, 2", len(sets), len(dels))
		}
		last := sets[0] // newest first
		if last.ObjectID != "2027-05-01" || last.InstitutionID != a || last.Actor != "system" || last.Detail != "off_day=true name=劳动节" {
			t.Errorf("set_day entry %+v", last)
		}
		if dels[1].ObjectID != "2026-03-03" || dels[0].ObjectID != "2026-02-14" || dels[0].InstitutionID != a {
			t.Errorf("delete_day entries %+v", dels)
		}
		if res, err := e.audit.Verify(ctx); err != nil || !res.OK {
			t.Errorf("audit chain: %+v %v", res, err)
		}
	})
}

func TestCaldbImportYear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a, b := e.inst(t, "A"), e.inst(t, "B")
		// An exception that the import must wipe.
		old := date(t, "2026-03-03")
		if err := e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: old, Name: "院庆", OffDay: true}); err != nil {
			t.Fatal(err)
		}
		y := calendar.Year{Year: 2026, Papers: []string{"https://example.org/2026-revised"}, Days: []calendar.Exception{
			{Date: date(t, "2026-10-01"), Name: "国庆节", OffDay: true},
			{Date: date(t, "2026-10-10"), Name: "国庆节", OffDay: false},
		}}
		n, err := e.cal.ImportYear(ctx, e.sys, a, y)
		if err != nil || n != 1 {
			t.Fatalf("ImportYear(A) = %d, %v", n, err)
		}
		v, err := e.cal.View(ctx, e.sys, a, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Days) != 2 || !slices.Equal(v.Papers, y.Papers) {
			t.Errorf("A 2026 after import: papers %v, days %+v", v.Papers, v.Days)
		}
		ca := e.calendar(t, a)
		if !ca.IsWorkingDay(old) {
			t.Error("the old exception survived the import")
		}
		if ca.IsWorkingDay(date(t, "2026-10-01")) || !ca.IsWorkingDay(date(t, "2026-10-02")) || !ca.IsWorkingDay(date(t, "2026-10-10")) {
			t.Error("the imported days are not in force")
		}
		if !ca.HasYear(2025) || ca.IsWorkingDay(date(t, "2025-10-01")) {
			t.Error("importing 2026 disturbed 2025")
		}
		// B untouched.
		if cb := e.calendar(t, b); cb.IsWorkingDay(date(t, "2026-10-02")) || !cb.IsWorkingDay(old) {
			t.Error("importing into A changed B")
		}

		// inst 0: every institution.
		y27 := calendar.Year{Year: 2027, Days: []calendar.Exception{{Date: date(t, "2027-01-01"), Name: "元旦", OffDay: true}}}
		n, err = e.cal.ImportYear(ctx, e.sys, 0, y27)
		if err != nil || n != 2 {
			t.Fatalf("ImportYear(0) = %d, %v", n, err)
		}
		for _, id := range []int64{a, b} {
			c := e.calendar(t, id)
			if !c.HasYear(2027) || c.IsWorkingDay(date(t, "2027-01-01")) {
				t.Errorf("institution %d lacks the 2027 import", id)
			}
			if miss, _ := e.cal.MissingYears(ctx, id, 2026, 2027); miss != nil {
				t.Errorf("institution %d missing %v", id, miss)
			}
		}
		// A non-global administrator imports with inst 0 into what it touches.
		n, err = e.cal.ImportYear(ctx, adminOf(b), 0, calendar.Year{Year: 2028})
		if err != nil || n != 1 {
			t.Errorf("scoped admin ImportYear(0) = %d, %v; want 1", n, err)
		}
		if e.calendar(t, a).HasYear(2028) || !e.calendar(t, b).HasYear(2028) {
			t.Error("a scoped administrator's import reached the wrong institutions")
		}

		// Refusals.
		_, err = e.cal.ImportYear(ctx, e.sys, a, calendar.Year{Year: 1800})
		wantErr(t, "year 1800", err, errs.Invalid, "file")
		_, err = e.cal.ImportYear(ctx, e.sys, a, calendar.Year{Year: 2027, Days: []calendar.Exception{{Date: date(t, "2026-01-01"), Name: "x", OffDay: true}}})
		wantErr(t, "day outside year", err, errs.Invalid, "file")
		dup := date(t, "2027-02-01")
		_, err = e.cal.ImportYear(ctx, e.sys, a, calendar.Year{Year: 2027, Days: []calendar.Exception{{Date: dup, Name: "x"}, {Date: dup, Name: "y"}}})
		wantErr(t, "duplicate day", err, errs.Invalid, "file")
		_, err = e.cal.ImportYear(ctx, agentOf(a), a, y27)
		wantErr(t, "agent import", err, errs.Forbidden, "")
		_, err = e.cal.ImportYear(ctx, e.sys, a+b+999, y27)
		wantErr(t, "unknown institution", err, errs.NotFound, "")

		imports := e.audits(t, "calendar.import")
		if len(imports) != 4 { // A 2026, A+B 2027, B 2028
			t.Fatalf("%d calendar.import entries, want 4", len(imports))
		}
		first := imports[len(imports)-1]
		if first.InstitutionID != a || first.ObjectID != "2026" || first.Detail != "days=2 papers=https://example.org/2026-revised" {
			t.Errorf("first import entry %+v", first)
		}
		insts := []int64{imports[1].InstitutionID, imports[2].InstitutionID}
		slices.Sort(insts)
		if !slices.Equal(insts, []int64{a, b}) || imports[1].ObjectID != "2027" || imports[2].ObjectID != "2027" {
			t.Errorf("2027 import entries %+v %+v", imports[1], imports[2])
		}
		if res, err := e.audit.Verify(ctx); err != nil || !res.OK {
			t.Errorf("audit chain: %+v %v", res, err)
		}
	})
}

func TestCaldbPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a := e.inst(t, "A")
		p, err := e.cal.Policy(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if p.Hours.String() != "08:00-17:30" || p.Loc.String() != "Asia/Shanghai" || !p.Cal.HasYear(2026) {
			t.Errorf("default policy: hours %s, loc %s, years %v", p.Hours, p.Loc, p.Cal.Years())
		}
		err = e.org.UpdateInstitution(ctx, e.sys, a, org.InstitutionInput{Code: "A", Name: "A 医院", Kind: org.KindHospital,
			Timezone: "Asia/Urumqi", ServiceHours: "09:00-16:00", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		p, err = e.cal.Policy(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if p.Hours != (calendar.ServiceHours{Start: 9 * 60, End: 16 * 60}) || p.Loc.String() != "Asia/Urumqi" {
			t.Errorf("updated policy: hours %s, loc %s", p.Hours, p.Loc)
		}
		// The policy uses the institution's calendar: from Wednesday 2026-09-30
		// 15:00 Urumqi, 2 service hours end on Thursday 2026-10-08 at 10:00.
		start := time.Date(2026, 9, 30, 15, 0, 0, 0, p.Loc)
		if got := p.AddWorkingDuration(start, 2*time.Hour); !got.Equal(time.Date(2026, 10, 8, 10, 0, 0, 0, p.Loc)) {
			t.Errorf("AddWorkingDuration = %s", got)
		}
		_, err = e.cal.Policy(ctx, a+999)
		wantErr(t, "Policy unknown institution", err, errs.NotFound, "")
	})
}

func TestCaldbScopeAndValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a, b := e.inst(t, "A"), e.inst(t, "B")
		agentA := agentOf(a)

		if _, err := e.cal.View(ctx, agentA, a, 2026); err != nil {
			t.Errorf("agent viewing its own institution: %v", err)
		}
		deptOnly := &access.Principal{Roles: []access.Role{access.Doctor}, Grants: []access.Grant{{InstitutionID: a, DepartmentID: 5}}}
		if _, err := e.cal.View(ctx, deptOnly, a, 2026); err != nil {
			t.Errorf("department-scoped doctor viewing its institution: %v", err)
		}
		_, err := e.cal.View(ctx, agentA, b, 2026)
		wantErr(t, "View other institution", err, errs.Forbidden, "")
		_, err = e.cal.View(ctx, nil, a, 2026)
		wantErr(t, "View nil principal", err, errs.Forbidden, "")
		_, err = e.cal.View(ctx, e.sys, a+b+999, 2026)
		wantErr(t, "View unknown institution", err, errs.NotFound, "")

		got, err := e.cal.AddWorkdays(ctx, agentA, a, "2026-09-30", 3)
		if err != nil || got != "2026-10-10" {
			t.Errorf("AddWorkdays = %q, %v", got, err)
		}
		got, err = e.cal.AddWorkdays(ctx, agentA, a, "2026-10-08", -1)
		if err != nil || got != "2026-09-30" {
			t.Errorf("AddWorkdays(-1) = %q, %v", got, err)
		}
		if _, err := e.cal.AddWorkdays(ctx, agentA, a, "2026-01-01", 3650); err != nil {
			t.Errorf("AddWorkdays(3650): %v", err)
		}
		if _, err := e.cal.AddWorkdays(ctx, agentA, a, "2026-01-01", -3650); err != nil {
			t.Errorf("AddWorkdays(-3650): %v", err)
		}
		_, err = e.cal.AddWorkdays(ctx, agentA, b, "2026-09-30", 3)
		wantErr(t, "AddWorkdays other institution", err, errs.Forbidden, "")
		for _, from := range []string{"", "2026-9-30", "2026-02-30", "tomorrow"} {
			_, err = e.cal.AddWorkdays(ctx, agentA, a, from, 1)
			wantErr(t, "AddWorkdays from "+from, err, errs.Invalid, "from")
		}
		for _, n := range []int{3651, -3651, 1 << 40} {
			_, err = e.cal.AddWorkdays(ctx, agentA, a, "2026-09-30", n)
			wantErr(t, "AddWorkdays n", err, errs.Invalid, "n")
		}

		for day, want := range map[string]bool{"2026-02-14": true, "2026-10-01": false, "2026-03-07": false, "2026-03-02": true} {
			ok, err := e.cal.IsWorkday(ctx, agentA, a, day)
			if err != nil || ok != want {
				t.Errorf("IsWorkday(%s) = %t, %v", day, ok, err)
			}
		}
		_, err = e.cal.IsWorkday(ctx, agentA, b, "2026-10-01")
		wantErr(t, "IsWorkday other institution", err, errs.Forbidden, "")
		_, err = e.cal.IsWorkday(ctx, agentA, a, "2026-13-01")
		wantErr(t, "IsWorkday bad date", err, errs.Invalid, "date")
	})
}

func TestCaldbInstitutionsIndependent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := setup(t, db)
		a, b := e.inst(t, "A"), e.inst(t, "B")
		d := date(t, "2026-10-09")
		if err := e.cal.SetDay(ctx, e.sys, a, calendar.Exception{Date: d, Name: "院庆", OffDay: true}); err != nil {
			t.Fatal(err)
		}
		if err := e.cal.DeleteDay(ctx, e.sys, a, date(t, "2026-10-10")); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.cal.AddWorkdays(ctx, e.sys, a, "2026-09-30", 3); got != "2026-10-13" {
			t.Errorf("A: AddWorkdays = %s, want 2026-10-13", got)
		}
		if got, _ := e.cal.AddWorkdays(ctx, e.sys, b, "2026-09-30", 3); got != "2026-10-10" {
			t.Errorf("B: AddWorkdays = %s, want 2026-10-10", got)
		}
		// Deleting in B a day only A has is NotFound, and leaves A alone.
		wantErr(t, "DeleteDay in B", e.cal.DeleteDay(ctx, e.sys, b, d), errs.NotFound, "")
		if e.calendar(t, a).IsWorkingDay(d) {
			t.Error("A's exception vanished")
		}
		// A later institution still gets the pristine seed.
		c := e.inst(t, "C")
		if got, _ := e.cal.AddWorkdays(ctx, e.sys, c, "2026-09-30", 3); got != "2026-10-10" {
			t.Errorf("C: AddWorkdays = %s, want 2026-10-10", got)
		}
		va, _ := e.cal.View(ctx, e.sys, a, 2026)
		vb, _ := e.cal.View(ctx, e.sys, b, 2026)
		if len(va.Days) != len(vb.Days) { // +1 set, -1 deleted
			t.Errorf("A has %d days, B %d", len(va.Days), len(vb.Days))
		}
	})
}
