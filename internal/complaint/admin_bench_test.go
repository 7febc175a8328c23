package complaint_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/clock"
	"suifang/internal/complaint"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

// BenchmarkPolicyEditRefresh10k measures one SLA policy save at an
// institution with 10,000 open complaints: the save recomputes every open
// complaint's next deadline in its transaction, and each save here moves
// all of them (the accepted target alternates between 1 and 2 hours).
func BenchmarkPolicyEditRefresh10k(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var db *store.DB
			if engine == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			benchPolicyEdit(b, db, 10000)
		})
	}
}

func benchPolicyEdit(b *testing.B, db *store.DB, n int) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	clk := clock.NewFake(time.Date(2026, 3, 9, 9, 0, 0, 0, loc))
	keys, _ := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	index, _ := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	pol := auth.DefaultPolicy()
	pol.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	sv, err := core.Build(db, core.Options{Now: clk.Now, Auth: pol, Followup: followup.DefaultPolicy(), Keys: keys, Index: index,
		Outbox: &fakeOutbox{now: clk.Now, keys: map[string]bool{}}})
	if err != nil {
		b.Fatal(err)
	}
	sys := access.System()
	inst, err := sv.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "第一医院"})
	if err != nil {
		b.Fatal(err)
	}
	dept, err := sv.Org.CreateDepartment(ctx, sys, org.DepartmentInput{InstitutionID: inst, Code: "0301", Name: "心血管内科", Kind: org.DeptClinical})
	if err != nil {
		b.Fatal(err)
	}
	uid, err := sv.Auth.CreateUser(ctx, sys, auth.UserInput{Username: "quality", DisplayName: "质控", Password: "Passw0rd!x",
		HomeInstitutionID: inst, Roles: []access.Role{access.Quality}, Grants: []access.Grant{{InstitutionID: inst}}, Active: true})
	if err != nil {
		b.Fatal(err)
	}
	q, err := sv.Auth.PrincipalFor(ctx, uid)
	if err != nil {
		b.Fatal(err)
	}
	first, err := sv.Complaints.Register(ctx, q, complaint.Input{InstitutionID: inst, Channel: "phone", ComplainantName: "张晓明",
		Content: "等候太久", DepartmentID: dept})
	if err != nil {
		b.Fatal(err)
	}
	// Copies of the first complaint, received over the week before, as if
	// registered one by one (same columns, own numbers and codes).
	err = db.Write(ctx, func(tx *sql.Tx) error {
		for i := 1; i < n; i++ {
			rec := store.Micros(clk.Now().Add(-time.Duration(i%(5*24*60)) * time.Minute))
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO complaints (institution_id, number, tracking_code, channel, complainant_name,
				complainant_role, complainant_contact, content, category, severity, complexity, department_id, owner_id, status,
				received_at, created_at, updated_at) SELECT institution_id, $1, $2, channel, complainant_name, complainant_role,
				complainant_contact, content, category, severity, complexity, department_id, owner_id, status, $3, created_at, updated_at
				FROM complaints WHERE id = $4 RETURNING id`, fmt.Sprintf("%s-%05d", first.Number, i), fmt.Sprintf("BENCH%07d", i), rec,
				first.ID).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO complaint_departments (complaint_id, department_id) VALUES ($1,$2)`, id, dept); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := sv.Complaints.CopyDefaultPolicies(ctx, q, inst); err != nil {
		b.Fatal(err)
	}
	v, err := sv.Complaints.Policies(ctx, q, inst)
	if err != nil {
		b.Fatal(err)
	}
	simple := v.Policies[0]
	in := complaint.PolicyInput{Name: simple.Name, Complexity: simple.Complexity}
	i := 0
	for b.Loop() {
		i++
		in.Targets = fmt.Sprintf("accepted=%dh, assessed=24h, plan=3wd, answer_simple=1wd, feedback=5wd/10wd, closed=7d", 1+i%2)
		if err := sv.Complaints.UpdatePolicy(ctx, q, inst, simple.ID, in); err != nil {
			b.Fatal(err)
		}
	}
	var moved string
	if err := db.R().QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE action = 'complaint.policy_update' ORDER BY id DESC LIMIT 1`).
		Scan(&moved); err != nil {
		b.Fatal(err)
	}
	b.Log(moved)
}
