package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"suifang/internal/access"
	"suifang/internal/app"
	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar"
	"suifang/internal/complaint"
	"suifang/internal/followup"
	"suifang/internal/intake"
	"suifang/internal/org"
	"suifang/internal/pii"
	"suifang/internal/store/storetest"
)

// tamperDB is a database with something in every chain: two imported
// patients, two follow-up records (one 不满意, which raises a notice), a
// complaint, and the audit entries of all that.
type tamperDB struct {
	engine string
	env    map[string]string
	raw    *sql.DB
}

func newTamperDB(t *testing.T, engine string) *tamperDB {
	t.Helper()
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	dsn := storetest.DSN(t, engine)
	env := map[string]string{"SUIFANG_DB": dsn, "SUIFANG_DATA_KEYS": "k1:" + key(1), "SUIFANG_INDEX_KEY": key(2),
		"SUIFANG_CHAIN_KEY": key(3), "SUIFANG_LOG_LEVEL": "warn"}
	must(t, env, "", "institution", "add", "TP", "防篡改医院")
	d := &tamperDB{engine: engine, env: env}
	ctx := context.Background()
	a := d.open(t)
	inst, err := a.Org.InstitutionByCode(ctx, "TP")
	if err != nil {
		t.Fatal(err)
	}
	// The template's departments and ward, each with a head, so the
	// 不满意 record's notice and the complaint have an owner.
	for i, dep := range [][3]string{{"0301", "心血管内科", org.DeptClinical}, {"0502", "内分泌科", org.DeptClinical}, {"W05", "心内一病区", org.DeptWard}, {"W12", "内分泌病区", org.DeptWard}} {
		id, err := a.Org.CreateDepartment(ctx, access.System(), org.DepartmentInput{InstitutionID: inst.ID, Code: dep[0], Name: dep[1],
			Kind: dep[2], Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Auth.CreateUser(ctx, access.System(), auth.UserInput{Username: fmt.Sprintf("head%d", i), DisplayName: dep[1] + "主任",
			Password: "Xq7#mV2p!kLw9z", HomeInstitutionID: inst.ID, Roles: []access.Role{access.DeptHead},
			Grants: []access.Grant{{InstitutionID: inst.ID, DepartmentID: id}}, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	csv := writeFile(t, "discharges.csv", string(intake.CSVTemplate()))
	if r := must(t, env, "", "import", "--quiet", csv); !strings.Contains(r.stdout, "2 new") {
		t.Fatalf("import: %s", r.stdout)
	}
	a = d.open(t)
	defer a.Close()
	wl, err := a.Followup.Worklist(ctx, access.System(), followup.Filter{InstitutionID: inst.ID, Tab: followup.TabOverdue, Limit: 5},
		calendar.Date{Year: 2100, Month: 1, Day: 1})
	if err != nil || len(wl.Tasks) < 2 {
		t.Fatalf("worklist: %v, %d tasks", err, len(wl.Tasks))
	}
	sat := []string{followup.Satisfied, followup.Dissatisfied}
	for i, task := range wl.Tasks[:2] {
		in := followup.RecordInput{TreatmentEffect: "improved", Satisfaction: sat[i], MedicationGuidance: "按时服药，阿托伐他汀 20mg 每晚一次",
			RevisitAdvice: "两周后心内科门诊复诊", NPS: 9 - 6*i, Opinions: map[bool]string{false: "", true: "夜间病房太吵，护士呼叫不应"}[i == 1]}
		if _, err := a.Followup.Complete(ctx, access.System(), task.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	_, err = a.Complaints.Register(ctx, access.System(), complaint.Input{InstitutionID: inst.ID, Channel: "phone",
		ComplainantName: "王秀兰", ComplainantRole: "relative", Contact: "13912345678",
		Content: "父亲住院期间夜班护士换药不及时，伤口渗液两小时无人处理。", Asks: "希望科室说明情况并改进",
		Category: "service_attitude", Severity: "general", Complexity: "simple", DepartmentID: wl.Tasks[0].DepartmentID})
	if err != nil {
		t.Fatal(err)
	}
	driver := "sqlite"
	if engine == "postgres" {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	d.raw = raw
	return d
}

// open opens the app on the database with the fixture's keys.
func (d *tamperDB) open(t *testing.T) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DB, cfg.DataKeys, cfg.IndexKey, cfg.ChainKey = d.env["SUIFANG_DB"], d.env["SUIFANG_DATA_KEYS"], d.env["SUIFANG_INDEX_KEY"], d.env["SUIFANG_CHAIN_KEY"]
	a, err := app.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (d *tamperDB) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := d.raw.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (d *tamperDB) int(t *testing.T, q string) int64 {
	t.Helper()
	var n int64
	if err := d.raw.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// unlock drops an append-only trigger, as an attacker with the database
// owner's rights can.
func (d *tamperDB) unlock(t *testing.T, trigger, table string) {
	t.Helper()
	if d.engine == "postgres" {
		d.exec(t, `DROP TRIGGER `+trigger+` ON `+table)
	} else {
		d.exec(t, `DROP TRIGGER `+trigger)
	}
}

// plainAuditHash is what an attacker without the chain key computes: the
// audit hash as it was before chains were keyed.
func plainAuditHash(prev string, at, actorID int64, actor, action, objType, objID string, inst int64, ip string, ok bool, detail string) string {
	h := sha256.New()
	for _, f := range []string{prev, strconv.FormatInt(at, 10), strconv.FormatInt(actorID, 10), actor, action, objType, objID,
		strconv.FormatInt(inst, 10), ip, strconv.FormatBool(ok), detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// rechainAudit edits entry id's detail and recomputes every hash from entry
// from on with plain SHA-256.
func (d *tamperDB) rechainAudit(t *testing.T, id, from int64, detail string) {
	t.Helper()
	d.unlock(t, "audit_log_no_update", "audit_log")
	d.exec(t, `UPDATE audit_log SET detail = $1 WHERE id = $2`, detail, id)
	rows, err := d.raw.Query(`SELECT id, at, actor_id, actor, action, object_type, object_id, institution_id, ip, success, detail, prev_hash
		FROM audit_log WHERE id >= $1 ORDER BY id`, from)
	if err != nil {
		t.Fatal(err)
	}
	type ent struct {
		id, at, actorID, inst          int64
		actor, action, ot, oid, ip, dt string
		ok                             bool
		prev                           string
	}
	var es []ent
	for rows.Next() {
		var e ent
		if err := rows.Scan(&e.id, &e.at, &e.actorID, &e.actor, &e.action, &e.ot, &e.oid, &e.inst, &e.ip, &e.ok, &e.dt, &e.prev); err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	rows.Close()
	prev := es[0].prev
	for _, e := range es {
		h := plainAuditHash(prev, e.at, e.actorID, e.actor, e.action, e.ot, e.oid, e.inst, e.ip, e.ok, e.dt)
		d.exec(t, `UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE id = $3`, prev, h, e.id)
		prev = h
	}
}

// Each way of tampering that `suifang verify` used to miss: verify passes
// on the untouched database (recording a checkpoint), and fails, naming
// what broke, after the change.
func TestVerifyCatchesTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, d *tamperDB)
		want   []string // in verify's stderr
	}{
		{"delete newest records", func(t *testing.T, d *tamperDB) {
			d.exec(t, `DELETE FROM followup_records WHERE id = (SELECT MAX(id) FROM followup_records)`)
		}, []string{"checkpoint of", "followup_records of TP", "rows were deleted from the end"}},
		{"delete newest audit rows", func(t *testing.T, d *tamperDB) {
			max := d.int(t, `SELECT MAX(id) FROM audit_log`)
			d.exec(t, `DELETE FROM audit_log WHERE id > $1`, max-3)
		}, []string{"the newest audit entries were deleted", "audit_log: row"}},
		{"delete oldest audit rows", func(t *testing.T, d *tamperDB) {
			min := d.int(t, `SELECT MIN(id) FROM audit_log`)
			d.exec(t, `DELETE FROM audit_log WHERE id < $1`, min+3)
		}, []string{"audit chain BROKEN at entry", "no recorded prune removed them"}},
		{"edit an audit row and recompute the rest with plain SHA-256", func(t *testing.T, d *tamperDB) {
			id := d.int(t, `SELECT MIN(id) FROM audit_log WHERE action = 'followup.record'`)
			d.rechainAudit(t, id, id, "nothing happened")
		}, []string{"audit chain BROKEN at entry", "recomputed without the key"}},
		{"... the whole log, and move the cut-over past it", func(t *testing.T, d *tamperDB) {
			id := d.int(t, `SELECT MIN(id) FROM audit_log WHERE action = 'followup.record'`)
			d.rechainAudit(t, id, d.int(t, `SELECT MIN(id) FROM audit_log`), "nothing happened")
			d.exec(t, `UPDATE chain_cutover SET plain_upto = (SELECT MAX(id) FROM audit_log) WHERE chain = 'audit_log'`)
			// The chain itself now verifies: only the signed checkpoint knows.
			if r := suifang(t, d.env, "", "verify"); !strings.Contains(r.stdout, "audit chain OK") {
				t.Fatalf("the rewritten log should link: %s %s", r.stdout, r.stderr)
			}
		}, []string{"the cut-over to keyed hashes moved", "no longer has the hash the checkpoint recorded"}},
		{"edit a complaint row", func(t *testing.T, d *tamperDB) {
			d.exec(t, `UPDATE complaints SET status = 'archived', severity = 'major'`)
		}, []string{"complaint events of TP BROKEN", "complaints row TS-", "edited outside the application"}},
		{"edit a notice row", func(t *testing.T, d *tamperDB) {
			d.exec(t, `UPDATE notices SET owner_id = owner_id + 1, deadline = '2099-12-31'`)
		}, []string{"notice events of TP BROKEN", "notices row CG-TP-", "edited outside the application"}},
		{"copy a sealed ID number onto another patient", func(t *testing.T, d *tamperDB) {
			lo, hi := d.int(t, `SELECT MIN(id) FROM patients WHERE national_id_enc <> ''`), d.int(t, `SELECT MAX(id) FROM patients WHERE national_id_enc <> ''`)
			if lo == hi {
				t.Fatal("the fixture needs two patients with ID numbers")
			}
			d.exec(t, `UPDATE patients SET national_id_enc = (SELECT national_id_enc FROM patients WHERE id = $1) WHERE id = $2`, lo, hi)
			// Reading the patient is an error, not the other patient's number.
			a := d.open(t)
			defer a.Close()
			if p, err := a.Patients.Get(context.Background(), nil, hi); err == nil || !strings.Contains(err.Error(), "authentication") {
				t.Fatalf("patient with a copied ID: %v, %v", p, err)
			}
		}, []string{"sealed patient identifiers BROKEN at ", "national_id_enc: does not open on this row"}},
		{"copy a sealed contact onto another complaint", func(t *testing.T, d *tamperDB) {
			// A second complaint, with another contact.
			a := d.open(t)
			c, err := a.Complaints.Get(context.Background(), access.System(), d.int(t, `SELECT MIN(id) FROM complaints`))
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Complaints.Register(context.Background(), access.System(), complaint.Input{InstitutionID: c.InstitutionID, Channel: "counter",
				ComplainantName: "李明", ComplainantRole: "patient", Contact: "13700001111", Content: "门诊缴费窗口排队一小时。",
				Category: "service_attitude", Severity: "general", Complexity: "simple", DepartmentID: c.DepartmentID})
			a.Close()
			if err != nil {
				t.Fatal(err)
			}
			d.exec(t, `UPDATE complaints SET complainant_contact = (SELECT complainant_contact FROM complaints WHERE id = $1) WHERE id = $2`,
				d.int(t, `SELECT MIN(id) FROM complaints`), d.int(t, `SELECT MAX(id) FROM complaints`))
		}, []string{"sealed complaint contacts BROKEN at TS-TP-", "does not open on this row"}},
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, tc := range cases {
			t.Run(engine+"/"+tc.name, func(t *testing.T) {
				d := newTamperDB(t, engine)
				r := must(t, d.env, "", "verify", "--checkpoint")
				for _, want := range []string{"audit chain OK", "follow-up records of TP OK: 2 records", "notice events of TP OK",
					"complaint events of TP OK", "sealed patient identifiers OK", "sealed complaint contacts OK: 1 values", "checkpoint recorded"} {
					if !strings.Contains(r.stdout, want) {
						t.Fatalf("clean verify lacks %q:\n%s", want, r.stdout)
					}
				}
				tc.tamper(t, d)
				r = suifang(t, d.env, "", "verify")
				wantExit(t, r, 1, "verify")
				for _, want := range tc.want {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("verify after tampering lacks %q:\n%s", want, r.stderr)
					}
				}
			})
		}
	}
}

// A prune is not tampering: the first surviving entry is explained by the
// prune's own entry, and checkpoints from before it still verify.
func TestVerifyAcceptsRecordedPrune(t *testing.T) {
	d := newTamperDB(t, "sqlite")
	must(t, d.env, "", "verify", "--checkpoint")
	// Age the first entries past the retention, as if they were old (the
	// edit breaks their hashes, but they are about to go).
	first := d.int(t, `SELECT MIN(id) FROM audit_log`)
	d.unlock(t, "audit_log_no_update", "audit_log")
	d.exec(t, `UPDATE audit_log SET at = 0 WHERE id < $1`, first+4)
	a := d.open(t)
	n, err := a.Audit.Prune(context.Background(), access.System(), audit.MinRetention)
	a.Close()
	if err != nil || n != 4 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	r := must(t, d.env, "", "verify")
	if !strings.Contains(r.stdout, "audit chain OK") || !strings.Contains(r.stdout, "checkpoints OK") {
		t.Fatalf("verify after a prune: %s", r.stdout)
	}
	// Deleting one more entry by hand is not explained by the prune.
	d.exec(t, `DELETE FROM audit_log WHERE id = (SELECT MIN(id) FROM audit_log)`)
	r = suifang(t, d.env, "", "verify")
	wantExit(t, r, 1, "verify")
	if !strings.Contains(r.stderr, "no recorded prune removed them") {
		t.Fatalf("verify after deleting past the prune: %s", r.stderr)
	}
}

// An exported checkpoint catches a truncation even when every copy inside
// the database went with it.
func TestVerifyAgainstExportedCheckpoints(t *testing.T) {
	d := newTamperDB(t, "sqlite")
	file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	r := must(t, d.env, "", "verify", "--checkpoint", "--export-checkpoints", file)
	if !strings.Contains(r.stdout, "1 checkpoints written") {
		t.Fatalf("export: %s", r.stdout)
	}
	d.exec(t, `DELETE FROM chain_checkpoints`)
	d.exec(t, `DELETE FROM followup_records WHERE id = (SELECT MAX(id) FROM followup_records)`)
	d.exec(t, `DELETE FROM audit_log WHERE id >= (SELECT MAX(id) FROM audit_log WHERE action = 'audit.checkpoint')`)
	must(t, d.env, "", "verify") // nothing inside the database remembers
	r = suifang(t, d.env, "", "verify", "--checkpoints", file)
	wantExit(t, r, 1, "verify")
	if !strings.Contains(r.stderr, "followup_records of TP: row") {
		t.Fatalf("verify against the export: %s", r.stderr)
	}
	// Nor can the export be edited to agree with the shorter chain: its
	// signature needs the chain key.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	head := regexp.MustCompile(`head followup_records (\d+) (\d+) (\d+)`)
	m := head.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no record head in %s", b)
	}
	last, _ := strconv.Atoi(string(m[2]))
	cnt, _ := strconv.Atoi(string(m[3]))
	forged := writeFile(t, "forged.jsonl", string(head.ReplaceAll(b, []byte(fmt.Sprintf("head followup_records $1 %d %d", last-1, cnt-1)))))
	r = suifang(t, d.env, "", "verify", "--checkpoints", forged)
	wantExit(t, r, 1, "verify")
	if !strings.Contains(r.stderr, "signature does not verify") {
		t.Fatalf("verify against a forged export: %s", r.stderr)
	}
}

// A database from before row binding: its patients' values are sealed for
// the column alone and an import reject holds plain text. verify names
// them, `keys reseal` binds and seals them (once: a second run finds
// nothing), and the data reads back the same.
func TestKeysResealBindsOldValues(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			d := newTamperDB(t, engine)
			ctx := context.Background()
			keys, err := pii.ParseKeyring(d.env["SUIFANG_DATA_KEYS"])
			if err != nil {
				t.Fatal(err)
			}
			// Seal every patient's values the old way, as before 0018.
			a := d.open(t)
			rows, err := d.raw.Query(`SELECT id FROM patients ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			before := map[int64]string{}
			for _, id := range ids {
				p, err := a.Patients.Get(ctx, nil, id)
				if err != nil {
					t.Fatal(err)
				}
				before[id] = p.NationalID + "|" + strings.Join(p.Phones, ",") + "|" + p.Address
				nid, _ := keys.Seal(p.NationalID, "patient.national_id")
				ph, _ := keys.Seal(strings.Join(p.Phones, "\n"), "patient.phones")
				ad, _ := keys.Seal(p.Address, "patient.address")
				d.exec(t, `UPDATE patients SET national_id_enc = $1, phones_enc = $2, address_enc = $3 WHERE id = $4`, nid, ph, ad, id)
			}
			a.Close()
			batch := d.int(t, `SELECT MAX(id) FROM import_batches`)
			const plain = `ZY20261188,赵丽,女,1962-07-30,44010619620730042X,13912340000,广州市天河区`
			d.exec(t, `INSERT INTO import_rejects (batch_id, line, source, field, reason, raw) VALUES ($1, 7, 'discharges.csv', 'national_id', '身份证号校验位错误', $2)`,
				batch, plain)

			r := suifang(t, d.env, "", "verify")
			wantExit(t, r, 1, "verify")
			for _, want := range []string{"national_id_enc: not bound to its row yet", "sealed import rejects BROKEN at " + strconv.FormatInt(batch, 10) + "/7 raw: holds plain text"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("verify of the old database lacks %q:\n%s", want, r.stderr)
				}
			}
			r = must(t, d.env, "", "keys", "reseal")
			if want := fmt.Sprintf("re-sealed: %d patients, 0 complaint contacts, 1 rejected import rows", len(ids)); !strings.Contains(r.stdout, want) {
				t.Fatalf("reseal: %q, want %q", r.stdout, want)
			}
			if r = must(t, d.env, "", "keys", "reseal"); !strings.Contains(r.stdout, "re-sealed: 0 patients, 0 complaint contacts, 0 rejected") {
				t.Fatalf("second reseal: %q", r.stdout)
			}
			if r = must(t, d.env, "", "verify"); !strings.Contains(r.stdout, "sealed import rejects OK") {
				t.Fatalf("verify after reseal: %s", r.stdout)
			}
			a = d.open(t)
			defer a.Close()
			for _, id := range ids {
				p, err := a.Patients.Get(ctx, nil, id)
				if err != nil {
					t.Fatal(err)
				}
				if got := p.NationalID + "|" + strings.Join(p.Phones, ",") + "|" + p.Address; got != before[id] {
					t.Errorf("patient %d reads %q after reseal, was %q", id, got, before[id])
				}
			}
			var raw, enc string
			if err := d.raw.QueryRow(`SELECT raw, raw_enc FROM import_rejects WHERE line = 7 AND batch_id = $1`, batch).Scan(&raw, &enc); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(raw, "44010619620730042X") || strings.Contains(raw, "13912340000") || !strings.Contains(raw, "赵丽") {
				t.Errorf("the display copy is %q", raw)
			}
			if got, err := keys.OpenRow(enc, "import_rejects.raw", strconv.FormatInt(batch, 10)+"/7"); err != nil || got != plain {
				t.Errorf("the sealed reject opens to %q, %v", got, err)
			}
		})
	}
}

// The chains are written with one key for good: starting with another (a
// lost --chain-key, a changed index key) is refused with a clear error
// rather than every later row reading as altered.
func TestAnotherChainKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	env := map[string]string{"SUIFANG_DB": filepath.Join(dir, "k.db"), "SUIFANG_CHAIN_KEY": key(5), "SUIFANG_LOG_LEVEL": "warn"}
	must(t, env, "", "institution", "add", "KC", "钥匙医院")
	must(t, env, "", "verify")
	env["SUIFANG_CHAIN_KEY"] = key(6)
	r := suifang(t, env, "", "verify")
	if r.code == 0 || !strings.Contains(r.stderr, "chain key is not the one") {
		t.Fatalf("verify with another chain key: exit %d\n%s", r.code, r.stderr)
	}
	// Without --chain-key the key comes from the index key: another key again.
	delete(env, "SUIFANG_CHAIN_KEY")
	if r := suifang(t, env, "", "verify"); r.code == 0 {
		t.Fatalf("verify with the derived key accepted a database chained with another: %s", r.stdout)
	}
}
