// Package importer brings discharges in from the hospital information
// system: it parses a file (CSV, Excel, HL7 v2, FHIR R4) with package
// intake, routes each message to its institution, stores it in the patient
// archive and plans its follow-ups — in batched transactions, streaming, so
// a million-row file runs in flat memory. Every unusable row is kept with
// its reason; every good one is stored.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/calendar/caldb"
	"suifang/internal/errs"
	"suifang/internal/followup"
	"suifang/internal/intake"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Service runs imports.
type Service struct {
	db       *store.DB
	audit    *audit.Service
	org      *org.Service
	cal      *caldb.Service
	patients *patient.Service
	keys     *pii.Keyring // seals rejected rows' text
	followup *followup.Service
	now      func() time.Time
	log      *slog.Logger
	classes  intake.Classes
}

// SetClasses sets which encounter class codes are inpatient stays
// (intake.DefaultClasses until called); set once at start-up.
func (s *Service) SetClasses(c intake.Classes) { s.classes = c }

// Deps are what New needs; every room's service is built from one such
// struct, so adding a dependency never reorders a parameter list.
type Deps struct {
	DB       *store.DB         // the database
	Audit    *audit.Service    // the audit log, written in the callers' transactions
	Org      *org.Service      // institutions and departments
	Calendar *caldb.Service    // institutions' calendars
	Patients *patient.Service  // the patient archive
	Keys     *pii.Keyring      // patient-data keys
	Followup *followup.Service // the follow-up room (plans, records)
	Now      func() time.Time  // the clock (time.Now in production)
	Log      *slog.Logger      // nil: discard
}

// New returns the import service.
func New(d Deps) *Service {
	db, au, o, cal, pat, keys, fu, now, log := d.DB, d.Audit, d.Org, d.Calendar, d.Patients, d.Keys, d.Followup, d.Now, d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, audit: au, org: o, cal: cal, patients: pat, keys: keys, followup: fu, now: now, log: log, classes: intake.DefaultClasses()}
}

// Formats Suifang reads.
const (
	CSV  = "csv"
	XLSX = "xlsx"
	HL7  = "hl7"
	FHIR = "fhir"
)

// Options steer one import.
type Options struct {
	Filename string
	Format   string // "" detects from the name and the first bytes
	// Institution routes every message to this institution code, whatever
	// the message says.
	Institution string
	// SkipOlderThanDays > 0: discharges older than this many days are stored
	// but get no follow-up plan (for a go-live backlog). 0 plans everything.
	SkipOlderThanDays int
	BatchSize         int            // messages per transaction (2000)
	Progress          func(done int) // called after each batch
	KeepRejects       int            // how many rejects the report carries (1000)
}

// Report is what an import did.
type Report struct {
	BatchID        int64
	Filename       string
	Format         string
	Messages       int // usable messages parsed
	New            int // encounters created
	Updated        int // encounters changed
	Unchanged      int // re-sent, nothing changed
	Cancelled      int // encounters cancelled (A11/A13)
	TasksCreated   int
	TasksCancelled int
	TasksReplanned int // open tasks moved to a corrected discharge date
	Skipped        int // stored without a plan (older than the cut-off)
	// Visits are outpatient, emergency and other non-inpatient encounters
	// among the stored ones: kept, but no discharge plan.
	Visits   int
	Rejected int
	Rejects  []intake.Reject // the first Options.KeepRejects
	// Warned counts values dropped from stored messages (an unusable phone
	// number); Warnings lists the first Options.KeepRejects of them.
	Warned   int
	Warnings []intake.Warning
	Duration time.Duration
}

// route caches what one institution needs during an import.
type route struct {
	inst    *org.Institution
	loc     *time.Location // loaded once: LoadLocation per row showed in profiles
	depts   deptMap
	cal     *calendar.Calendar
	planner *followup.Planner
}

type deptMap map[string]int64

func (m deptMap) Resolve(code string) int64 { return m[strings.TrimSpace(code)] }

// Detect names the format of a file from its name and first bytes.
func Detect(name string, head []byte) string {
	head = bytes.TrimLeft(head, "\xef\xbb\xbf \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("PK")):
		return XLSX
	case bytes.HasPrefix(head, []byte("MSH")), bytes.HasPrefix(head, []byte{0x0b}), bytes.HasPrefix(head, []byte("FHS")), bytes.HasPrefix(head, []byte("BHS")):
		return HL7
	case bytes.HasPrefix(head, []byte("{")):
		return FHIR
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		return XLSX
	case ".hl7":
		return HL7
	case ".json":
		return FHIR
	}
	return CSV
}

// Import reads one file and stores what it can. Only I/O and database
// failures return an error; bad rows are rejects in the report.
func (s *Service) Import(ctx context.Context, p *access.Principal, r io.Reader, opt Options) (*Report, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	if opt.Format == "" {
		opt.Format = Detect(opt.Filename, head)
	}
	return s.ImportStream(ctx, p, opt, func(sink intake.Sink) error {
		var err error
		switch opt.Format {
		case CSV:
			_, err = intake.ParseCSV(br, opt.Filename, sink)
		case XLSX:
			err = parseXLSX(br, opt.Filename, sink)
		case HL7:
			err = intake.ParseHL7(br, opt.Filename, sink)
		case FHIR:
			_, err = intake.ParseFHIR(br, opt.Filename, sink)
		default:
			err = errs.Field("format", "bad_format", "format must be csv, xlsx, hl7 or fhir")
		}
		return err
	})
}

// ImportStream stores the messages that produce sends to its sink: the
// file import, the demo seed and the data generator all come through here.
func (s *Service) ImportStream(ctx context.Context, p *access.Principal, opt Options, produce func(intake.Sink) error) (*Report, error) {
	start := s.now()
	im, err := s.newRun(ctx, p, opt)
	if err != nil {
		return nil, err
	}
	rep := im.rep
	sink := intake.Sink{
		Message: func(m intake.Message) error { return storeErr(im.add(ctx, m)) },
		Reject:  func(rj intake.Reject) error { return storeErr(im.reject(ctx, rj)) },
	}
	perr := produce(sink)
	if perr == nil {
		perr = storeErr(im.flush(ctx))
	}
	rep.Duration = s.now().Sub(start)
	if ferr := im.finish(ctx, perr); ferr != nil && perr == nil {
		perr = ferr
	}
	var se *storeError
	if perr != nil && !errors.As(perr, &se) {
		// What is left is the parser refusing the whole file (no header,
		// not a bundle …): the user's input, not our failure.
		if _, ok := errs.As(perr); !ok {
			perr = errs.New(errs.Invalid, "bad_file", perr.Error())
		}
	}
	return rep, perr
}

// storeError marks a failure of our own storage during an import, so it is
// reported as an internal error and not blamed on the file.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	return &storeError{err}
}

// newRun checks who may import, fills option defaults and records the
// start of an import batch: the beginning every import entry point shares.
func (s *Service) newRun(ctx context.Context, p *access.Principal, opt Options) (*run, error) {
	if !p.HasAny(access.SysAdmin, access.Quality, access.Agent, access.Integration) {
		return nil, errs.New(errs.Forbidden, "import_forbidden", "you may not import discharges")
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 2000
	}
	if opt.KeepRejects <= 0 {
		opt.KeepRejects = 1000
	}
	im := &run{s: s, p: p, opt: opt, rep: &Report{Filename: opt.Filename, Format: opt.Format}, routes: map[string]*route{}}
	if err := im.begin(ctx); err != nil {
		return nil, err
	}
	return im, nil
}

// run is one import in progress.
type run struct {
	s           *Service
	p           *access.Principal
	opt         Options
	rep         *Report
	routes      map[string]*route
	only        *route // the single institution, when the database has one
	onlyChecked bool
	batch       []intake.Message
	rejbuf      []intake.Reject
	warnbuf     []intake.Warning
}

func (im *run) begin(ctx context.Context) error {
	return im.s.db.Write(ctx, func(tx *sql.Tx) error {
		now := store.Micros(im.s.now())
		err := tx.QueryRowContext(ctx, `INSERT INTO import_batches (user_id, filename, format, started_at, heartbeat_at, status)
			VALUES ($1,$2,$3,$4,$4,'running') RETURNING id`, im.p.UserID, im.opt.Filename, im.opt.Format, now).Scan(&im.rep.BatchID)
		if err != nil {
			return fmt.Errorf("importer: start batch: %w", err)
		}
		return nil
	})
}

func (im *run) reject(ctx context.Context, rj intake.Reject) error {
	im.rep.Rejected++
	if len(im.rep.Rejects) < im.opt.KeepRejects {
		im.rep.Rejects = append(im.rep.Rejects, rj)
	}
	rj.Raw = clip(rj.Raw, 2000)
	im.rejbuf = append(im.rejbuf, rj)
	if len(im.rejbuf) >= im.opt.BatchSize {
		return im.flush(ctx)
	}
	return nil
}

func (im *run) add(ctx context.Context, m intake.Message) error {
	im.rep.Messages++
	im.s.classes.Apply(&m)
	// Every path normalises phones with the parsers' rule; for their
	// output this is a no-op, for the JSON API it is the check.
	var phones []string
	for _, ph := range m.Patient.Phones {
		ok, bad := intake.ParsePhones(ph)
		phones = append(phones, ok...)
		for _, b := range bad {
			m.Warnings = append(m.Warnings, intake.PhoneWarning("patient.phones", b))
		}
	}
	m.Patient.Phones = phones
	for _, w := range m.Warnings {
		w.Line, w.Source = m.Line, clip(m.Source, 200)
		w.Field, w.Reason, w.Value = clip(w.Field, 100), clip(w.Reason, 500), clip(w.Value, 64)
		im.rep.Warned++
		if len(im.rep.Warnings) < im.opt.KeepRejects {
			im.rep.Warnings = append(im.rep.Warnings, w)
		}
		im.warnbuf = append(im.warnbuf, w)
	}
	im.batch = append(im.batch, m)
	if len(im.batch) >= im.opt.BatchSize {
		return im.flush(ctx)
	}
	return nil
}

// routeFor finds the institution a message belongs to: the import's chosen
// institution; else the one whose code the message names (MSH-4, PV1-3.4,
// a 机构代码 column); else, when the database holds exactly one
// institution, that one; otherwise the message is rejected with the reason.
func (im *run) routeFor(ctx context.Context, m intake.Message) (*route, error) {
	if code := strings.TrimSpace(im.opt.Institution); code != "" {
		rt, err := im.routeByCode(ctx, code)
		if rt == nil && err == nil {
			err = errs.Field("institution", "unknown_facility", fmt.Sprintf("no institution has the code %q", code))
		}
		return rt, err
	}
	code := strings.TrimSpace(m.Facility)
	if code != "" {
		rt, err := im.routeByCode(ctx, code)
		if rt != nil || err != nil {
			return rt, err
		}
	}
	only, err := im.onlyInstitution(ctx)
	if err != nil || only != nil {
		return only, err
	}
	if code == "" {
		return nil, errs.Field("facility", "unknown_facility",
			"the message names no institution and several exist: name it in the file (MSH-4 / 机构代码) or choose one for the import")
	}
	return nil, errs.Field("facility", "unknown_facility", fmt.Sprintf("no institution has the code %q", code))
}

// onlyInstitution is the single hospital of a one-institution database.
func (im *run) onlyInstitution(ctx context.Context) (*route, error) {
	if im.onlyChecked {
		return im.only, nil
	}
	im.onlyChecked = true
	list, err := im.s.org.Institutions(ctx, access.System())
	if err != nil {
		return nil, err
	}
	var leaves []*org.Institution
	for _, i := range list {
		if i.Kind != org.KindGroup && i.Active {
			leaves = append(leaves, i)
		}
	}
	if len(leaves) != 1 {
		return nil, nil
	}
	im.only, err = im.routeByCode(ctx, leaves[0].Code)
	return im.only, err
}

// routeByCode returns the cached route of an institution code, nil when no
// institution has it.
func (im *run) routeByCode(ctx context.Context, code string) (*route, error) {
	if rt, ok := im.routes[code]; ok {
		return rt, nil
	}
	inst, err := im.s.org.InstitutionByCode(ctx, code)
	if errs.Is(err, errs.NotFound) {
		im.routes[code] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !im.p.SeesInstitution(inst.ID) {
		return nil, errs.Field("facility", "out_of_scope", fmt.Sprintf("institution %q is outside your data scope", code))
	}
	rt := &route{inst: inst, loc: inst.Location()}
	codes, err := im.s.org.HISCodes(ctx, inst.ID) // departments' codes and the HIS codes mapped onto them
	if err != nil {
		return nil, err
	}
	rt.depts = deptMap(codes)
	if rt.cal, err = im.s.cal.Calendar(ctx, inst.ID); err != nil {
		return nil, err
	}
	if rt.planner, err = im.s.followup.NewPlanner(ctx, inst.ID, rt.cal); err != nil {
		return nil, err
	}
	if im.opt.SkipOlderThanDays > 0 {
		rt.planner.SkipBefore = calendar.DateOf(im.s.now().In(inst.Location())).AddDays(-im.opt.SkipOlderThanDays)
	}
	im.routes[code] = rt
	return rt, nil
}

// flush stores the pending batch in one transaction.
func (im *run) flush(ctx context.Context) error {
	if len(im.batch) == 0 && len(im.rejbuf) == 0 && len(im.warnbuf) == 0 {
		return nil
	}
	// Routing reads institutions outside the write transaction.
	routes := make([]*route, len(im.batch))
	for i, m := range im.batch {
		rt, err := im.routeFor(ctx, m)
		if err != nil {
			if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
				im.rejectMsg(m, e)
				continue
			}
			return err
		}
		if e := lostZeros(rt.depts, m.Encounter.DepartmentCode); e != nil {
			im.rejectMsg(m, e)
			continue
		}
		routes[i] = rt
	}
	if err := im.newDepartments(ctx, routes); err != nil {
		return err
	}
	// A deadlock with another instance's batch, or a SQLite file another
	// process held past the busy timeout, rolls the whole batch back: run
	// it again from the same counts.
	saved, savedBuf := *im.rep, len(im.rejbuf)
	var err error
	for try := 0; ; try++ {
		if err = im.store(ctx, routes); err == nil || try == 4 || !store.IsTransient(err) {
			break
		}
		*im.rep, im.rejbuf = saved, im.rejbuf[:savedBuf]
		im.s.log.Warn("import batch retried", "batch", im.rep.BatchID, "err", err)
	}
	if err != nil {
		return err
	}
	im.batch, im.rejbuf, im.warnbuf = im.batch[:0], im.rejbuf[:0], im.warnbuf[:0]
	if im.opt.Progress != nil {
		im.opt.Progress(im.rep.Messages + im.rep.Rejected)
	}
	return nil
}

// store writes the batch in one transaction.
func (im *run) store(ctx context.Context, routes []*route) error {
	return im.s.db.Write(ctx, func(sqlTx *sql.Tx) error {
		// The heartbeat commits with the batch: a killed import stops beating.
		if _, err := sqlTx.ExecContext(ctx, `UPDATE import_batches SET heartbeat_at = $1 WHERE id = $2`,
			store.Micros(im.s.now()), im.rep.BatchID); err != nil {
			return fmt.Errorf("importer: heartbeat: %w", err)
		}
		tx := im.s.db.Stmts(sqlTx) // each statement compiled once, not per row
		// New patients' new stays go in multi-row statements (patient.Bulk);
		// anything else through Apply, after the institution's pending rows
		// are written so Apply sees them.
		bulks := map[*route]*patient.Bulk{}
		flushBulk := func(rt *route) error {
			b := bulks[rt]
			if b == nil || b.Pending() == 0 {
				return nil
			}
			chs, lost, err := b.Flush(ctx, tx)
			if err != nil {
				return err
			}
			res, err := rt.planner.ApplyNew(ctx, tx, chs)
			if err != nil {
				return err
			}
			for i, ch := range chs {
				im.count(ch, res[i])
			}
			// Another instance stored these patients or stays first: they
			// are re-sent messages now, unchanged or updated.
			for _, m := range lost {
				if err := im.applyOne(ctx, tx, rt, m); err != nil {
					if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
						im.rejectMsg(m, e)
						continue
					}
					return fmt.Errorf("%s: %w", m.Source, err)
				}
			}
			return nil
		}
		for i, m := range im.batch {
			rt := routes[i]
			if rt == nil {
				continue
			}
			b := bulks[rt]
			if b == nil {
				b = im.s.patients.NewBulk(rt.inst.ID, rt.depts, rt.loc)
				var mine []intake.Message
				for j, other := range im.batch {
					if routes[j] == rt {
						mine = append(mine, other)
					}
				}
				if err := b.Lookup(ctx, tx, mine); err != nil {
					return err
				}
				bulks[rt] = b
			}
			taken, err := b.Add(m)
			if err == nil && !taken {
				if err = flushBulk(rt); err != nil {
					return err
				}
				err = im.applyOne(ctx, tx, rt, m)
			}
			if err != nil {
				if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
					im.rejectMsg(m, e)
					continue
				}
				return fmt.Errorf("%s: %w", m.Source, err)
			}
		}
		for _, rt := range routes {
			if err := flushBulk(rt); err != nil {
				return err
			}
		}
		if err := im.s.storeRejects(ctx, tx, im.rep.BatchID, im.rejbuf); err != nil {
			return err
		}
		return im.storeWarnings(ctx, tx)
	})
}

// newDepartments creates the departments and wards the batch names that
// their institutions do not know yet (org.EnsureHISDepartments: marked
// "from HIS" for review), so no stay is stored without its department.
func (im *run) newDepartments(ctx context.Context, routes []*route) error {
	want := map[*route][]org.HISDepartment{}
	for i, m := range im.batch {
		rt := routes[i]
		if rt == nil {
			continue
		}
		e := m.Encounter
		for _, d := range []org.HISDepartment{{Code: e.WardCode, Name: e.WardName, Kind: org.DeptWard},
			{Code: e.DepartmentCode, Name: e.DepartmentName, Kind: org.DeptClinical}} {
			code := strings.TrimSpace(d.Code)
			if code == "" || rt.depts[code] != 0 {
				continue
			}
			rt.depts[code] = -1 // asked for once per batch
			want[rt] = append(want[rt], d)
		}
	}
	for rt, ds := range want {
		ids, err := im.s.org.EnsureHISDepartments(ctx, rt.inst.ID, ds)
		if err != nil {
			return storeErr(err)
		}
		for _, d := range ds {
			code := strings.TrimSpace(d.Code)
			rt.depts[code] = ids[code] // 0 when the code could not be one
		}
	}
	return nil
}

// applyOne stores a message Bulk declined: a re-sent, updated or cancelled
// stay, or a known patient's new stay.
func (im *run) applyOne(ctx context.Context, tx store.Querier, rt *route, m intake.Message) error {
	ch, err := im.s.patients.Apply(ctx, tx, rt.inst.ID, rt.depts, rt.loc, m)
	if err != nil {
		return err
	}
	res, err := rt.planner.Apply(ctx, tx, ch)
	if err != nil {
		return err
	}
	im.count(ch, res)
	return nil
}

// storeWarnings writes the pending warnings: field, reason and the masked
// value only.
func (im *run) storeWarnings(ctx context.Context, tx store.Querier) error {
	for _, w := range im.warnbuf {
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_warnings (batch_id, line, source, field, reason, masked) VALUES ($1,$2,$3,$4,$5,$6)`,
			im.rep.BatchID, w.Line, w.Source, w.Field, w.Reason, w.Value); err != nil {
			return fmt.Errorf("importer: store warning: %w", err)
		}
	}
	return nil
}

func (im *run) count(ch *patient.Change, res followup.Result) {
	if ch.Encounter.Visit() {
		im.rep.Visits++
	}
	switch {
	case ch.Created:
		im.rep.New++
	case ch.Encounter.Status == patient.Cancelled && ch.Updated || ch.PrevStatus == patient.Discharged && ch.Encounter.Status == patient.Admitted:
		im.rep.Cancelled++
	case ch.Updated:
		im.rep.Updated++
	default:
		im.rep.Unchanged++
	}
	im.rep.TasksCreated += res.Created
	im.rep.TasksCancelled += res.Cancelled
	im.rep.TasksReplanned += res.Replanned
	if res.Skipped {
		im.rep.Skipped++
	}
}

// rejectMsg turns a message the services refused into a reject; it is
// stored with the next flush.
func (im *run) rejectMsg(m intake.Message, e *errs.Error) {
	field := ""
	for f := range e.Fields {
		field = f
	}
	rj := intake.Reject{Line: m.Line, Source: clip(m.Source, 200), Field: field, Reason: clip(e.Msg, 500),
		Raw: clip(fmt.Sprintf("visit=%s mrn=%s", m.Encounter.VisitNumber, m.Patient.MRN), 2000)}
	im.rep.Messages--
	im.rep.Rejected++
	if len(im.rep.Rejects) < im.opt.KeepRejects {
		im.rep.Rejects = append(im.rep.Rejects, rj)
	}
	im.rejbuf = append(im.rejbuf, rj)
}

func (im *run) finish(ctx context.Context, perr error) error {
	status := "done"
	if perr != nil {
		status = "failed"
	}
	r := im.rep
	return im.s.db.Write(ctx, func(tx *sql.Tx) error {
		// rejects found in the last flush
		if err := im.s.storeRejects(ctx, tx, r.BatchID, im.rejbuf); err != nil {
			return err
		}
		im.rejbuf = im.rejbuf[:0]
		if err := im.storeWarnings(ctx, tx); err != nil {
			return err
		}
		im.warnbuf = im.warnbuf[:0]
		inst := int64(0)
		if len(im.routes) == 1 {
			for _, rt := range im.routes {
				if rt != nil {
					inst = rt.inst.ID
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_batches SET institution_id=$1, finished_at=$2, messages=$3, encounters_new=$4,
			encounters_upd=$5, cancelled=$6, tasks_created=$7, rejects=$8, skipped=$9, status=$10, visits=$12, warnings=$13 WHERE id=$11`,
			inst, store.Micros(im.s.now()), r.Messages, r.New, r.Updated, r.Cancelled, r.TasksCreated, r.Rejected, r.Skipped, status, r.BatchID,
			r.Visits, r.Warned); err != nil {
			return fmt.Errorf("importer: finish batch: %w", err)
		}
		e := audit.Event(im.p, "import.run", "import_batch", fmt.Sprint(r.BatchID), inst)
		e.Success = perr == nil
		e.Detail = fmt.Sprintf("file=%s format=%s messages=%d new=%d updated=%d cancelled=%d tasks=%d rejects=%d skipped=%d visits=%d warnings=%d",
			r.Filename, r.Format, r.Messages, r.New, r.Updated, r.Cancelled, r.TasksCreated, r.Rejected, r.Skipped, r.Visits, r.Warned)
		return im.s.audit.Append(ctx, tx, e)
	})
}

// parseXLSX spools the workbook to a temporary file: a zip archive needs
// random access, and an upload is a stream.
func parseXLSX(r io.Reader, name string, sink intake.Sink) error {
	f, err := os.CreateTemp("", "suifang-import-*.xlsx")
	if err != nil {
		return storeErr(fmt.Errorf("importer: spool workbook: %w", err))
	}
	defer os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, r)
	if err != nil {
		return storeErr(fmt.Errorf("importer: spool workbook: %w", err))
	}
	_, err = intake.ParseXLSX(f, n, name, sink)
	return err
}

// clip cuts s to at most n bytes on a character boundary and makes it valid
// UTF-8: PostgreSQL refuses broken text, which would fail the whole import.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// lostZeros refuses a department code a spreadsheet program stripped of
// its leading zeros (0301 saved as 301): unknown itself, it is a known
// code without them. Matching it silently would hide that the file's
// other identifiers (ID numbers, MRNs) went through the same damage.
func lostZeros(depts deptMap, code string) *errs.Error {
	if code == "" || code[0] == '0' {
		return nil
	}
	if _, ok := depts[code]; ok {
		return nil
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return nil
		}
	}
	known := ""
	for k := range depts {
		if len(k) > len(code) && strings.TrimLeft(k, "0") == code && (known == "" || k < known) {
			known = k
		}
	}
	if known == "" {
		return nil
	}
	return errs.Field("科室代码", "dept_code_lost_zeros", fmt.Sprintf(
		"科室代码 %s 不存在，而已有科室代码 %s：前导零可能被 Excel/WPS 等电子表格程序去掉了。请从 HIS 重新导出，"+
			"把科室代码、病案号、身份证号等列设为“文本”格式后再保存，或改用 .xlsx 导入模板 / "+
			"department code %s is unknown but %s exists: a spreadsheet program probably dropped the leading zeros. "+
			"Export again from the HIS and format the code, MRN and ID columns as text, or use the .xlsx template",
		code, known, code, known))
}
