package complaint_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// BenchmarkMonthlyReport makes March 2026's report over 20,000 complaints
// received that month in one hospital (plus 2,000 in February and April
// around it): a fifth with two departments, one in twenty paused once,
// one in ten escalated, three in five archived. The rows are written
// straight into the tables: the benchmark measures the report, not the
// intake.
//
//	go test -run '^$' -bench MonthlyReport -benchtime 10x ./internal/complaint/
func BenchmarkMonthlyReport(b *testing.B) {
	db := storetest.SQLite(b)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 5, 20, 10, 0, 0, 0, loc)
	keys, _ := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	index, _ := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	sv, err := core.Build(db, core.Options{Now: func() time.Time { return now }, Auth: pol, Followup: followup.DefaultPolicy(), Keys: keys,
		Index: index})
	if err != nil {
		b.Fatal(err)
	}
	sys := access.System()
	inst, err := sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院"})
	if err != nil {
		b.Fatal(err)
	}
	var depts []int64
	for i := range 30 {
		d, err := sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: inst, Code: fmt.Sprintf("D%02d", i),
			Name: fmt.Sprintf("科室%02d", i), Kind: org.DeptClinical})
		if err != nil {
			b.Fatal(err)
		}
		depts = append(depts, d)
	}
	fillComplaints(b, db, inst, depts, loc)
	q := &access.Principal{UserID: 1, Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: inst}}}
	per, _ := complaint.ParsePeriod("month", "2026-03", calendar.Date{})
	b.ResetTimer()
	for b.Loop() {
		r, err := sv.Complaints.Report(ctx, q, inst, per)
		if err != nil || r.Received != 20000 {
			b.Fatalf("report: %v, %d received", err, r.Received)
		}
	}
}

// fillComplaints writes 20,000 March complaints and 1,000 each in late
// February and early April.
func fillComplaints(b *testing.B, db *store.DB, inst int64, depts []int64, loc *time.Location) {
	rng := rand.New(rand.NewPCG(1, 2))
	channels, cats := complaint.Channels(), complaint.Categories()
	grades := []string{"", "satisfied", "basic", "dissatisfied"}
	mic := func(t time.Time) int64 { return store.Micros(t) }
	err := db.Write(ctx, func(tx *sql.Tx) error {
		n := 0
		add := func(rec time.Time) error {
			n++
			dept := depts[rng.IntN(len(depts))]
			acc := rec.Add(time.Duration(10+rng.IntN(170)) * time.Minute)
			ass := acc.Add(time.Duration(1+rng.IntN(30)) * time.Hour)
			plan := rec.Add(time.Duration(24+rng.IntN(120)) * time.Hour)
			fb := plan.Add(time.Duration(rng.IntN(96)) * time.Hour)
			closed := fb.Add(time.Hour)
			status, arch := complaint.Archived, closed.Add(2*time.Hour)
			if rng.IntN(5) >= 3 {
				status, arch, fb, closed = complaint.Investigating, time.Time{}, time.Time{}, time.Time{}
			}
			complexity := complaint.Simple
			if rng.IntN(3) == 0 {
				complexity = complaint.Complex
			}
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO complaints (institution_id, number, tracking_code, channel, complainant_name,
				complainant_role, content, category, severity, complexity, department_id, owner_id, status, received_at, accepted_at,
				assessed_at, plan_at, feedback_at, closed_at, archived_at, satisfaction, created_at, updated_at)
				VALUES ($1,$2,$3,$4,'张三','patient',$5,$6,'general',$7,$8,1,$9,$10,$11,$12,$13,$14,$15,$16,$17,$10,$10) RETURNING id`,
				inst, fmt.Sprintf("TS-H1-%06d", n), fmt.Sprintf("CODE%08d", n), channels[rng.IntN(len(channels))],
				"出院结算等候时间太长，护士态度不好，希望改进流程", cats[rng.IntN(len(cats))], complexity, dept, status, mic(rec), mic(acc),
				mic(ass), mic(plan), micOr0(fb), micOr0(closed), micOr0(arch), grades[rng.IntN(len(grades))]).Scan(&id)
			if err != nil {
				return err
			}
			ds := []int64{dept}
			if rng.IntN(5) == 0 {
				if other := depts[rng.IntN(len(depts))]; other != dept {
					ds = append(ds, other)
				}
			}
			for _, d := range ds {
				if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_departments (complaint_id, department_id) VALUES ($1,$2)`, id, d); err != nil {
					return err
				}
			}
			if rng.IntN(20) == 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_pauses (complaint_id, reason, from_at, to_at) VALUES ($1,'complainant',$2,$3)`,
					id, mic(acc.Add(time.Hour)), mic(acc.Add(50*time.Hour))); err != nil {
					return err
				}
			}
			if rng.IntN(10) == 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_escalations (complaint_id, milestone, institution_id, level, due_at, at)
					VALUES ($1,'accepted',$2,1,$3,$3)`, id, inst, mic(acc)); err != nil {
					return err
				}
			}
			return nil
		}
		// Received during the day, every day of the month.
		spread := func(from time.Time, days, count int) error {
			for i := range count {
				day := from.AddDate(0, 0, i*days/count)
				if err := add(day.Add(time.Duration(8*60+rng.IntN(10*60)) * time.Minute)); err != nil {
					return err
				}
			}
			return nil
		}
		if err := spread(time.Date(2026, 2, 21, 0, 0, 0, 0, loc), 8, 1000); err != nil {
			return err
		}
		if err := spread(time.Date(2026, 3, 1, 0, 0, 0, 0, loc), 31, 20000); err != nil {
			return err
		}
		return spread(time.Date(2026, 4, 1, 0, 0, 0, 0, loc), 8, 1000)
	})
	if err != nil {
		b.Fatal(err)
	}
}

func micOr0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Micros(t)
}
