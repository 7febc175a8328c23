package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"suifang/internal/access"
	"suifang/internal/auth"
	"suifang/internal/hl7"
	"suifang/internal/importer"
	"suifang/internal/org"
	"suifang/internal/store/storetest"
)

// raceConfig is an app configuration on dsn with the test keys and a fixed
// clock (2026-09-30 10:00 Beijing).
func raceConfig(dsn string) Config {
	cfg := DefaultConfig()
	cfg.DB = dsn
	cfg.Auth.Hash = auth.HashParams{Memory: 1024, Time: 1, Threads: 1}
	cfg.DataKeys = "t1:" + base64.StdEncoding.EncodeToString([]byte("suifang-app-test-data-key-32byte"))
	cfg.IndexKey = base64.StdEncoding.EncodeToString([]byte("suifang-app-test-index-key-32byt"))
	now := time.Date(2026, 9, 30, 2, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }
	return cfg
}

// raceInstances opens two instances of Suifang on one database — two
// "servers behind a load balancer" — after setting up a hospital with its
// departments and an API token, and returns them with the token.
func raceInstances(t *testing.T, dsn string) (*App, *App, string) {
	t.Helper()
	ctx := context.Background()
	a1, err := Open(ctx, raceConfig(dsn), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a1.Close() })
	sys := access.System()
	inst, err := a1.Org.CreateInstitution(ctx, sys, org.InstitutionInput{Code: "H1", Name: "示例市第一人民医院"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []org.DepartmentInput{{Code: "0301", Name: "心血管内科"}, {Code: "W05", Name: "心内一病区", Kind: org.DeptWard}} {
		d.InstitutionID = inst
		if _, err := a1.Org.CreateDepartment(ctx, sys, d); err != nil {
			t.Fatal(err)
		}
	}
	uid, err := a1.Auth.CreateUser(ctx, sys, auth.UserInput{Username: "admin", DisplayName: "管理员", Password: "Adm1n-Passw0rd!",
		HomeInstitutionID: inst, Roles: []access.Role{access.SysAdmin}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a1.Auth.PrincipalFor(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a1.Auth.CreateToken(ctx, admin, inst, "his")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := Open(ctx, raceConfig(dsn), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close() })
	return a1, a2, tok
}

// raceCSV is a HIS export of n new discharges (round r keeps MRNs and visit
// numbers apart between rounds).
func raceCSV(r, n int) string {
	var b strings.Builder
	b.WriteString("机构代码,病案号,住院流水号,姓名,性别,身份证号,联系电话,现住址,科室代码,科室,病区代码,病区,主治医师,责任护士,入院日期,出院日期,出院诊断编码,出院诊断,治疗结果\n")
	for i := range n {
		// Every other stay names a department and ward Suifang does not
		// know yet (the import creates them: one each, whoever is first).
		dept := "0301,心血管内科,W05,心内一病区"
		if i%2 == 1 {
			dept = fmt.Sprintf("05%02d,消化内科%d,W1%d,消化%d病区", r, r, r, r)
		}
		fmt.Fprintf(&b, "H1,R%d%05d,ZY%d%05d,患者%d号,女,,139%08d,浙江省杭州市上城区解放路%d号,%s,陈医生,刘护士,2026-09-20,2026-09-28,J18.9,肺炎,好转\n",
			r, i, r, i, i, r*100000+i, i+1, dept)
	}
	return b.String()
}

func raceCount(t *testing.T, a *App, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.R().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// together runs fns at once behind a barrier and waits for all.
func together(fns ...func()) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for _, fn := range fns {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// TestRaceNewPatientsTwoInstances is issue 15: the same new patients reach
// two instances at the same moment through the file import, the JSON API
// (single and bulk) and MLLP. Both sides succeed with a documented answer
// and the database holds what one import would have left.
func TestRaceNewPatientsTwoInstances(t *testing.T) {
	for _, engine := range []string{"postgres", "sqlite"} {
		t.Run(engine, func(t *testing.T) {
			// SQLite: two instances in one process on one file, each with
			// its own writer connection; see TestRaceSQLiteTwoProcesses for
			// two processes.
			dsn := storetest.DSN(t, engine)
			if engine == "sqlite" {
				dsn = filepath.Join(t.TempDir(), "race.db")
			}
			a1, a2, tok := raceInstances(t, dsn)
			ctx := context.Background()
			sys := access.System()
			const rounds, n = 4, 120
			for r := range rounds {
				text := raceCSV(r, n)
				var reps [2]*importer.Report
				var errsOf [2]error
				together(
					func() {
						reps[0], errsOf[0] = a1.Importer.Import(ctx, sys, strings.NewReader(text), importer.Options{Filename: "出院.csv", BatchSize: 40})
					},
					func() {
						reps[1], errsOf[1] = a2.Importer.Import(ctx, sys, strings.NewReader(text), importer.Options{Filename: "出院.csv", BatchSize: 40})
					})
				created := 0
				for i, rep := range reps {
					if errsOf[i] != nil {
						t.Fatalf("round %d: importer %d failed: %v", r, i+1, errsOf[i])
					}
					if rep.Rejected != 0 || rep.Messages != n || rep.New+rep.Updated+rep.Unchanged != n {
						t.Fatalf("round %d: importer %d report %+v", r, i+1, rep)
					}
					created += rep.New
				}
				if created != n {
					t.Errorf("round %d: the two imports created %d stays together, want %d", r, created, n)
				}
				if got := raceCount(t, a1, `SELECT COUNT(*) FROM departments WHERE code = $1 OR code = $2`,
					fmt.Sprintf("05%02d", r), fmt.Sprintf("W1%d", r)); got != 2 {
					t.Errorf("round %d: %d departments made from the HIS codes, want 2", r, got)
				}
				if got := raceCount(t, a1, `SELECT COUNT(*) FROM encounters e JOIN patients p ON p.id = e.patient_id
					WHERE p.mrn LIKE $1 AND e.department_id = 0`, fmt.Sprintf("R%d%%", r)); got != 0 {
					t.Errorf("round %d: %d stays without a department", r, got)
				}
				like := fmt.Sprintf("R%d%%", r)
				if got := raceCount(t, a1, `SELECT COUNT(*) FROM patients WHERE mrn LIKE $1`, like); got != n {
					t.Errorf("round %d: %d patients, want %d", r, got, n)
				}
				// The general rule plans L1, FIRST, L2, L3: four per stay, once.
				if got := raceCount(t, a1, `SELECT COUNT(*) FROM followup_tasks t JOIN patients p ON p.id = t.patient_id WHERE p.mrn LIKE $1`, like); got != 4*n {
					t.Errorf("round %d: %d tasks, want %d", r, got, 4*n)
				}
			}

			// The JSON API, single: one side 201, the other 200; never 500.
			s1, s2 := httptest.NewServer(a1.Handler()), httptest.NewServer(a2.Handler())
			defer s1.Close()
			defer s2.Close()
			post := func(url, body string) (int, []byte) {
				req, _ := http.NewRequest("POST", url+"/api/v1/encounters", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("post: %v", err)
					return 0, nil
				}
				defer res.Body.Close()
				var b bytes.Buffer
				b.ReadFrom(res.Body)
				return res.StatusCode, b.Bytes()
			}
			item := func(mrn, visit string) string {
				return fmt.Sprintf(`{"event":"discharge","patient":{"mrn":%q,"name":"王秀英","sex":"F","birth_date":"1956-04-02",
					"phones":["13905710001"],"address":"浙江省杭州市西湖区文三路90号"},"encounter":{"visit_number":%q,
					"department_code":"0301","department_name":"心血管内科","ward_code":"W05","ward_name":"心内一病区",
					"attending_doctor":"陈医生","responsible_nurse":"刘护士","admitted_at":"2026-09-20T09:30:00+08:00",
					"discharged_at":"2026-09-28T10:00:00+08:00","diagnoses":[{"code":"I10","name":"高血压"}],"outcome":"improved"}}`, mrn, visit)
			}
			for r := range 10 {
				body := item(fmt.Sprintf("A%03d", r), fmt.Sprintf("ZYA%03d", r))
				var codes [2]int
				var bodies [2][]byte
				together(func() { codes[0], bodies[0] = post(s1.URL, body) }, func() { codes[1], bodies[1] = post(s2.URL, body) })
				if !(codes[0] == 201 && codes[1] == 200 || codes[0] == 200 && codes[1] == 201) {
					t.Errorf("single race %d: answers %d %s / %d %s, want one 201 and one 200", r, codes[0], bodies[0], codes[1], bodies[1])
				}
			}

			// The JSON API, bulk: both 200 with per-item results; each item
			// created on exactly one side.
			for r := range 3 {
				var items []string
				for i := range 60 {
					items = append(items, item(fmt.Sprintf("B%d%03d", r, i), fmt.Sprintf("ZYB%d%03d", r, i)))
				}
				body := "[" + strings.Join(items, ",") + "]"
				var codes [2]int
				var bodies [2][]byte
				together(func() { codes[0], bodies[0] = post(s1.URL, body) }, func() { codes[1], bodies[1] = post(s2.URL, body) })
				created := map[string]int{}
				for side := range 2 {
					if codes[side] != 200 {
						t.Fatalf("bulk race %d: side %d answered %d %s", r, side+1, codes[side], bodies[side])
					}
					var out struct {
						Results []struct {
							HTTPStatus  int    `json:"http_status"`
							VisitNumber string `json:"visit_number"`
						} `json:"results"`
					}
					if err := json.Unmarshal(bodies[side], &out); err != nil || len(out.Results) != 60 {
						t.Fatalf("bulk race %d: side %d: %v %s", r, side+1, err, bodies[side])
					}
					for _, it := range out.Results {
						switch it.HTTPStatus {
						case 201:
							created[it.VisitNumber]++
						case 200:
						default:
							t.Errorf("bulk race %d: item %s answered %d", r, it.VisitNumber, it.HTTPStatus)
						}
					}
				}
				for i := range 60 {
					if v := fmt.Sprintf("ZYB%d%03d", r, i); created[v] != 1 {
						t.Errorf("bulk race %d: %s created %d times", r, v, created[v])
					}
				}
			}
			if got := raceCount(t, a1, `SELECT COUNT(*) FROM encounters WHERE visit_number LIKE 'ZYA%' OR visit_number LIKE 'ZYB%'`); got != 10+3*60 {
				t.Errorf("%d API stays, want %d", got, 10+3*60)
			}
			// The chronic-disease rule (I10) plans six steps per stay.
			if got := raceCount(t, a1, `SELECT COUNT(*) FROM followup_tasks t JOIN encounters e ON e.id = t.encounter_id
				WHERE e.visit_number LIKE 'ZYA%' OR e.visit_number LIKE 'ZYB%'`); got != 6*(10+3*60) {
				t.Errorf("%d API tasks, want %d", got, 6*(10+3*60))
			}

			// MLLP: one connection to each instance; the HIS sends the same
			// new patient's A01 and A03 down both. Every ACK is AA.
			addrs := make([]string, 2)
			mctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			for i, a := range []*App{a1, a2} {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addrs[i] = ln.Addr().String()
				l := &hl7.Listener{Handler: a.mllpHandler, Log: a.Log, Now: a.Cfg.Now}
				wg.Add(1)
				go func() { defer wg.Done(); l.Serve(mctx, ln) }()
			}
			conns := make([]net.Conn, 2)
			for i, addr := range addrs {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				conns[i] = c
			}
			send := func(c net.Conn, r *bufio.Reader, msg string) string {
				c.SetDeadline(time.Now().Add(20 * time.Second))
				c.Write(append(append([]byte{0x0b}, msg...), 0x1c, 0x0d))
				b, err := r.ReadBytes(0x1c)
				if err != nil {
					return "read: " + err.Error()
				}
				r.ReadByte()
				return string(b)
			}
			readers := []*bufio.Reader{bufio.NewReader(conns[0]), bufio.NewReader(conns[1])}
			for r := range 8 {
				mrn, visit := fmt.Sprintf("H%03d", r), fmt.Sprintf("ZYH%03d", r)
				pid := fmt.Sprintf("PID|1||%s^^^H1^MR||赵^建华||19610512|M|||延安路100号^^杭州市^浙江省||13905712%03d", mrn, r)
				pv1 := fmt.Sprintf("PV1|1|I|W05^^^H1|||||||0301|||||||||%s", visit)
				a01 := fmt.Sprintf("MSH|^~\\&|HIS|H1|SF|SF|20260920093000||ADT^A01|A01-%d|P|2.5\rEVN|A01|20260920093000\r%s\r%s\r", r, pid, pv1+strings.Repeat("|", 25)+"20260920093000")
				a03 := fmt.Sprintf("MSH|^~\\&|HIS|H1|SF|SF|20260928100000||ADT^A03|A03-%d|P|2.5\rEVN|A03|20260928100000\r%s\r%s\r", r, pid, pv1+strings.Repeat("|", 25)+"20260920093000|20260928100000")
				var acks [2][]string
				together(
					func() { acks[0] = []string{send(conns[0], readers[0], a01), send(conns[0], readers[0], a03)} },
					func() { acks[1] = []string{send(conns[1], readers[1], a01), send(conns[1], readers[1], a03)} })
				for side, as := range acks {
					for _, ack := range as {
						if !strings.Contains(ack, "MSA|AA|") {
							t.Errorf("mllp race %d side %d: %q", r, side+1, ack)
						}
					}
				}
			}
			if got := raceCount(t, a1, `SELECT COUNT(*) FROM encounters WHERE visit_number LIKE 'ZYH%' AND status = 'discharged'`); got != 8 {
				t.Errorf("%d MLLP stays discharged, want 8", got)
			}
			if got := raceCount(t, a1, `SELECT COUNT(*) FROM patients WHERE mrn LIKE 'H%'`); got != 8 {
				t.Errorf("%d MLLP patients, want 8", got)
			}
		})
	}
}

// TestRaceSQLiteTwoProcesses races two processes (this test binary run
// again as a child) importing the same new patients into one SQLite file:
// the writer takes its lock at BEGIN (immediate) and waits out the other
// process within the busy timeout; both imports finish.
func TestRaceSQLiteTwoProcesses(t *testing.T) {
	if dsn := os.Getenv("SUIFANG_RACE_CHILD"); dsn != "" {
		raceChild(t, dsn)
		return
	}
	dsn := filepath.Join(t.TempDir(), "race.db")
	a1, _, _ := raceInstances(t, dsn)
	const rounds, n = 3, 300
	for r := range rounds {
		csvPath := filepath.Join(t.TempDir(), fmt.Sprintf("出院-%d.csv", r))
		if err := os.WriteFile(csvPath, []byte(raceCSV(r, n)), 0o600); err != nil {
			t.Fatal(err)
		}
		type child struct {
			cmd   *exec.Cmd
			in    io.WriteCloser
			out   *bufio.Reader
			lines bytes.Buffer
		}
		var kids [2]*child
		for i := range kids {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRaceSQLiteTwoProcesses$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "SUIFANG_RACE_CHILD="+dsn, "SUIFANG_RACE_FILE="+csvPath)
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			kids[i] = &child{cmd: cmd, in: in, out: bufio.NewReader(out)}
		}
		// Barrier: both children have opened the database; then go.
		for _, k := range kids {
			for {
				line, err := k.out.ReadString('\n')
				if err != nil {
					t.Fatalf("child: %v", err)
				}
				if strings.HasPrefix(line, "READY") {
					break
				}
			}
		}
		for _, k := range kids {
			io.WriteString(k.in, "go\n")
			k.in.Close()
		}
		created := 0
		for i, k := range kids {
			k.lines.ReadFrom(k.out)
			if err := k.cmd.Wait(); err != nil {
				t.Fatalf("round %d: process %d failed: %v\n%s", r, i+1, err, k.lines.String())
			}
			var rep importer.Report
			found := false
			for _, line := range strings.Split(k.lines.String(), "\n") {
				if j := strings.Index(line, "REPORT "); j >= 0 {
					found = json.Unmarshal([]byte(line[j+7:]), &rep) == nil
				}
			}
			if !found || rep.Rejected != 0 || rep.New+rep.Updated+rep.Unchanged != n {
				t.Fatalf("round %d: process %d report %+v\n%s", r, i+1, rep, k.lines.String())
			}
			created += rep.New
		}
		if created != n {
			t.Errorf("round %d: the two processes created %d stays, want %d", r, created, n)
		}
		like := fmt.Sprintf("R%d%%", r)
		if got := raceCount(t, a1, `SELECT COUNT(*) FROM patients WHERE mrn LIKE $1`, like); got != n {
			t.Errorf("round %d: %d patients, want %d", r, got, n)
		}
		if got := raceCount(t, a1, `SELECT COUNT(*) FROM followup_tasks t JOIN patients p ON p.id = t.patient_id WHERE p.mrn LIKE $1`, like); got != 4*n {
			t.Errorf("round %d: %d tasks, want %d", r, got, 4*n)
		}
	}
}

// raceChild is one importing process of TestRaceSQLiteTwoProcesses.
func raceChild(t *testing.T, dsn string) {
	ctx := context.Background()
	a, err := Open(ctx, raceConfig(dsn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	f, err := os.Open(os.Getenv("SUIFANG_RACE_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Println("READY")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Importer.Import(ctx, access.System(), f, importer.Options{Filename: "出院.csv", BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	fmt.Println("REPORT " + string(b))
}
