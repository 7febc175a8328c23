package importer_test

// Import throughput against its ceiling (docs/benchmarks.md):
//
//	go test -run '^$' -bench 'ImportCSV|RawInsertCeiling' -benchtime 20000x ./internal/importer/
//
// BenchmarkImportCSV imports b.N generated discharges (internal/gen) from
// a CSV file through Service.Import into a fresh database: parsing,
// routing, encryption and blind indexes, the patient and encounter upserts
// and follow-up planning. BenchmarkRawInsertCeiling inserts the same rows'
// patients, phones, encounters and tasks (as many as the plan rules make)
// with plain prepared INSERTs in transactions of the same size, and does
// nothing else: the most any importer could do on this database. Both
// report discharges/s; their ratio is the importer's efficiency. Each runs
// on SQLite, and on PostgreSQL when SUIFANG_TEST_POSTGRES names a server.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/calendar/caldb"
	"suifang/internal/followup"
	"suifang/internal/gen"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/store/storetest"
)

const benchBatch = 2000

// benchConfig is b.N discharges over a year for H01, whose departments
// benchOrg creates.
func benchConfig(n int) gen.Config {
	cst := time.FixedZone("CST", 8*3600)
	return gen.Config{Seed: 1, Count: n, Start: time.Date(2025, 7, 1, 0, 0, 0, 0, cst), End: time.Date(2026, 7, 1, 0, 0, 0, 0, cst),
		Institutions: []string{"H01"}}
}

func benchDB(b *testing.B, engine string) *store.DB {
	if engine == "postgres" {
		return storetest.Postgres(b)
	}
	return storetest.SQLite(b)
}

// benchOrg creates institution H01 with the generator's departments.
func benchOrg(b *testing.B, o *org.Service) int64 {
	bg := context.Background()
	sys := access.System()
	inst, err := o.CreateInstitution(bg, sys, org.InstitutionInput{Code: "H01", Name: "基准医院", Kind: org.KindHospital})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range gen.DefaultDepartments() {
		if d.Institution != "H01" {
			continue
		}
		id, err := o.CreateDepartment(bg, sys, org.DepartmentInput{InstitutionID: inst, Code: d.Code, Name: d.Name, Kind: org.DeptClinical})
		if err != nil {
			b.Fatal(err)
		}
		if d.WardCode != "" {
			if _, err := o.CreateDepartment(bg, sys, org.DepartmentInput{InstitutionID: inst, Code: d.WardCode, Name: d.WardName,
				Kind: org.DeptWard, ParentID: id}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return inst
}

// benchImporter wires the services as app.Open does, on the real clock.
func benchImporter(b *testing.B, db *store.DB) (*importer.Service, *org.Service) {
	now := time.Now
	au := audit.New(db, now)
	var cdb *caldb.Service
	var fu *followup.Service
	o := org.New(db, au, now, func(ctx context.Context, tx *sql.Tx, id int64) error {
		if err := cdb.SeedInstitution(ctx, tx, id); err != nil {
			return err
		}
		return fu.SeedInstitution(ctx, tx, id)
	})
	cdb = caldb.New(db, au, o, now)
	keys, err := pii.ParseKeyring("b1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	if err != nil {
		b.Fatal(err)
	}
	index, err := pii.ParseIndexSecret(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32)))
	if err != nil {
		b.Fatal(err)
	}
	pat := patient.New(db, au, keys, index, now)
	fu = followup.New(db, au, pat, now, nil, followup.DefaultPolicy(), nil)
	return importer.New(db, au, o, cdb, pat, keys, fu, now, nil), o
}

func benchEngines(b *testing.B, fn func(b *testing.B, engine string)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) { fn(b, engine) })
	}
}

func BenchmarkImportCSV(b *testing.B) {
	benchEngines(b, func(b *testing.B, engine string) {
		imp, o := benchImporter(b, benchDB(b, engine))
		benchOrg(b, o)
		var csv bytes.Buffer
		if err := gen.WriteCSV(&csv, benchConfig(b.N)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		rep, err := imp.Import(context.Background(), access.System(), bytes.NewReader(csv.Bytes()), importer.Options{Filename: "bench.csv"})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if rep.New != b.N || rep.Rejected != 0 {
			b.Fatalf("report %+v, want %d new", rep, b.N)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "discharges/s")
		b.ReportMetric(float64(rep.TasksCreated)/float64(b.N), "tasks/discharge")
	})
}

func BenchmarkRawInsertCeiling(b *testing.B) {
	benchEngines(b, func(b *testing.B, engine string) {
		db := benchDB(b, engine)
		_, o := benchImporter(b, db)
		inst := benchOrg(b, o)
		rules := followup.DefaultRules()
		rp := make([]*followup.Rule, len(rules))
		for i := range rules {
			rp[i] = &rules[i]
		}
		bg := context.Background()
		tasks := 0
		batch := make([]intake.Message, 0, benchBatch)
		flush := func() error {
			err := db.Write(bg, func(tx *sql.Tx) error {
				pst, err := tx.PrepareContext(bg, `INSERT INTO patients (institution_id, mrn, name, sex, birth_date, national_id_enc,
					national_id_idx, phones_enc, address_enc, employer, deceased, created_at, updated_at)
					VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12) RETURNING id`)
				if err != nil {
					return err
				}
				defer pst.Close()
				ph, err := tx.PrepareContext(bg, `INSERT INTO patient_phones (patient_id, pos, phone_idx) VALUES ($1,$2,$3)`)
				if err != nil {
					return err
				}
				defer ph.Close()
				est, err := tx.PrepareContext(bg, `INSERT INTO encounters (institution_id, patient_id, visit_number, status, department_id,
					ward_id, dept_code, dept_name, ward_code, ward_name, attending_doctor, responsible_nurse, admitted_at, discharged_at,
					discharge_date, diagnoses, primary_icd, surgery, outcome, created_at, updated_at)
					VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$20) RETURNING id`)
				if err != nil {
					return err
				}
				defer est.Close()
				tst, err := tx.PrepareContext(bg, `INSERT INTO followup_tasks (institution_id, encounter_id, patient_id, rule_id,
					rule_version, step_key, level, purpose, assignee_role, department_id, channel, satisfaction, earliest_date,
					due_date, next_date, status, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$13,$15,$16,$16)`)
				if err != nil {
					return err
				}
				defer tst.Close()
				now := store.Micros(time.Now())
				for _, m := range batch {
					p, e := m.Patient, m.Encounter
					var pid, eid int64
					if err := pst.QueryRowContext(bg, inst, p.MRN, p.Name, string(p.Sex), p.BirthDate.String(), p.NationalID, p.NationalID,
						strings.Join(p.Phones, "\n"), p.Address, p.Employer, false, now).Scan(&pid); err != nil {
						return err
					}
					for i, n := range p.Phones {
						if _, err := ph.ExecContext(bg, pid, i, n); err != nil {
							return err
						}
					}
					dd := calendar.DateOf(e.DischargedAt)
					diag, _ := json.Marshal(e.Diagnoses)
					if err := est.QueryRowContext(bg, inst, pid, e.VisitNumber, "discharged", 0, 0, e.DepartmentCode, e.DepartmentName,
						e.WardCode, e.WardName, e.AttendingDoctor, e.ResponsibleNurse, store.Micros(e.AdmittedAt), store.Micros(e.DischargedAt),
						dd.String(), string(diag), e.Diagnoses[0].Code, e.Surgery, string(e.Outcome), now).Scan(&eid); err != nil {
						return err
					}
					// As many tasks as the default rules plan for this discharge.
					f := followup.Facts{DeptCode: e.DepartmentCode, Surgery: e.Surgery, Outcome: e.Outcome, Age: dd.Year - p.BirthDate.Year}
					for _, d := range e.Diagnoses {
						f.ICDCodes = append(f.ICDCodes, d.Code)
					}
					for _, st := range followup.Choose(rp, f).Steps {
						if st.Satisfaction && e.Outcome == intake.Died {
							continue
						}
						due := dd.AddDays(st.Due).String()
						if _, err := tst.ExecContext(bg, inst, eid, pid, 0, 1, st.Key, st.Level, st.Purpose, string(st.Role), 0,
							st.Channel, st.Satisfaction, dd.AddDays(st.Start).String(), due, "open", now); err != nil {
							return err
						}
						tasks++
					}
				}
				return nil
			})
			batch = batch[:0]
			return err
		}
		b.ReportAllocs()
		b.ResetTimer()
		err := gen.Generate(benchConfig(b.N), func(m intake.Message) error {
			batch = append(batch, m)
			if len(batch) == benchBatch {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "discharges/s")
		b.ReportMetric(float64(tasks)/float64(b.N), "tasks/discharge")
	})
}

// BenchmarkParseCSV is the parsing share of an import: intake.ParseCSV of
// the same file with a sink that does nothing.
func BenchmarkParseCSV(b *testing.B) {
	var csv bytes.Buffer
	if err := gen.WriteCSV(&csv, benchConfig(b.N)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	sum, err := intake.ParseCSV(bytes.NewReader(csv.Bytes()), "bench.csv", intake.Sink{})
	b.StopTimer()
	if err != nil || sum.Messages != b.N {
		b.Fatalf("%+v %v", sum, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "discharges/s")
}
