package followup_test

// Patient search and the record browser on a generated archive
// (docs/benchmarks.md):
//
//	go test -run '^$' -bench 'PatientSearch|RecordBrowser' -benchtime 200x ./internal/followup/
//
// The setup imports benchPatients generated discharges (internal/gen) into
// one institution on SQLite and completes benchRecords of their tasks, then
// each sub-benchmark runs one search or one browser page as an
// institution-wide agent.

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/core"
	"suifang/internal/followup"
	"suifang/internal/gen"
	"suifang/internal/importer"
	"suifang/internal/intake"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
)

const (
	benchPatients = 20000
	benchRecords  = 2000
)

// theBrowseBench is built once per process: both benchmarks read it.
var theBrowseBench *browseBench

type browseBench struct {
	sv    *core.Services
	inst  int64
	phone string
	nid   string
	name  string
	mrn   string
	dir   string
	db    *store.DB
}

// TestMain removes the shared benchmark database when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if bb := theBrowseBench; bb != nil {
		bb.db.Close()
		os.RemoveAll(bb.dir)
	}
	os.Exit(code)
}

func newBrowseBench(b *testing.B) *browseBench {
	b.Helper()
	if theBrowseBench != nil {
		return theBrowseBench
	}
	dir, err := os.MkdirTemp("", "suifang-bench-")
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	keys, err := pii.ParseKeyring("t1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		b.Fatal(err)
	}
	index, err := pii.NewIndexer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		b.Fatal(err)
	}
	sv, err := core.Build(db, core.Options{Auth: auth.DefaultPolicy(), Followup: followup.DefaultPolicy(), Keys: keys, Index: index})
	if err != nil {
		b.Fatal(err)
	}
	bb := &browseBench{sv: sv, dir: dir, db: db}
	if bb.inst, err = sv.Org.CreateInstitution(ctx, access.System(), org.InstitutionInput{Code: "H1", Name: "基准医院"}); err != nil {
		b.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	cfg := gen.Config{Seed: 7, Count: benchPatients, Start: time.Date(2025, 7, 1, 0, 0, 0, 0, cst), End: time.Date(2026, 7, 1, 0, 0, 0, 0, cst)}
	i := 0
	rep, err := sv.Importer.ImportStream(ctx, access.System(), importer.Options{Filename: "bench", Format: "gen"}, func(s intake.Sink) error {
		return gen.Generate(cfg, func(m intake.Message) error {
			if i == benchPatients/2 {
				bb.phone, bb.nid, bb.name, bb.mrn = m.Patient.Phones[0], m.Patient.NationalID, m.Patient.Name, m.Patient.MRN
			}
			i++
			return s.Message(m)
		})
	})
	if err != nil || rep.Rejected != 0 {
		b.Fatalf("import: %v %+v", err, rep)
	}
	rows, err := db.R().QueryContext(ctx, `SELECT id FROM followup_tasks WHERE status = 'open' AND step_key = 'L1' ORDER BY id LIMIT $1`, benchRecords)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for n, id := range ids {
		in := goodRecord()
		if n%50 == 0 {
			in.Satisfaction, in.Opinions = followup.Dissatisfied, "等候时间长"
		}
		if _, err := sv.Followup.Complete(ctx, access.System(), id, in); err != nil {
			b.Fatal(err)
		}
	}
	theBrowseBench = bb
	return bb
}

func BenchmarkPatientSearch(b *testing.B) {
	bb := newBrowseBench(b)
	agent := &access.Principal{UserID: 9, Username: "agent", Roles: []access.Role{access.Agent}, Grants: []access.Grant{{InstitutionID: bb.inst}}}
	surname := string([]rune(bb.name)[:1])
	for _, c := range []struct{ name, text string }{
		{"phone", bb.phone}, {"national_id", bb.nid}, {"full_name", bb.name}, {"surname", surname}, {"mrn_prefix", bb.mrn[:len(bb.mrn)-2]}, {"mrn", bb.mrn},
	} {
		b.Run(c.name, func(b *testing.B) {
			hits := 0
			for b.Loop() {
				res, err := bb.sv.Patients.Search(ctx, agent, patient.Query{InstitutionID: bb.inst, Text: c.text})
				if err != nil {
					b.Fatal(err)
				}
				hits = res.Total
			}
			if hits == 0 {
				b.Fatalf("%q found nothing", c.text)
			}
			b.ReportMetric(float64(hits), "matches")
		})
	}
}

func BenchmarkRecordBrowser(b *testing.B) {
	bb := newBrowseBench(b)
	agent := &access.Principal{UserID: 9, Username: "agent", Roles: []access.Role{access.Agent}, Grants: []access.Grant{{InstitutionID: bb.inst}}}
	for _, c := range []struct {
		name string
		f    followup.RecordFilter
	}{
		{"first_page", followup.RecordFilter{}},
		{"dissatisfied", followup.RecordFilter{Satisfaction: followup.Dissatisfied}},
		{"page_40", followup.RecordFilter{Offset: 1950}},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.f.InstitutionID = bb.inst
			for b.Loop() {
				page, err := bb.sv.Followup.Records(ctx, agent, c.f)
				if err != nil || len(page.Rows) == 0 {
					b.Fatalf("%v %+v", err, page)
				}
			}
		})
	}
}
