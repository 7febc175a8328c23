package patient

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"suifang/internal/intake"
	"suifang/internal/store"
)

// Bulk stores many first-time discharges in a few multi-row statements.
// A go-live backlog or a nightly HIS export is almost entirely new patients
// with new stays; for those, Apply's look-ups always miss and its one-row
// INSERTs cost more in statement overhead than in work. Bulk takes exactly
// those messages (a new MRN and a new visit number, not a cancellation)
// and leaves everything else to Apply, so the rules live in one place.
//
// Use per import batch and institution: Lookup the batch's keys, offer each
// message to Add in order; when Add declines, Flush first (so Apply sees
// every earlier row) and then Apply the message.
type Bulk struct {
	s       *Service
	inst    int64
	depts   Departments
	loc     *time.Location
	mrns    map[string]bool // MRNs the database or this batch already has
	visits  map[string]bool // visit numbers likewise
	pending []*Change
	msgs    []intake.Message // pending[i] came from msgs[i], validated
}

// NewBulk starts a bulk writer for institution inst.
func (s *Service) NewBulk(inst int64, depts Departments, loc *time.Location) *Bulk {
	return &Bulk{s: s, inst: inst, depts: depts, loc: loc, mrns: map[string]bool{}, visits: map[string]bool{}}
}

// lookupChunk keeps IN lists well below both engines' parameter limits.
const lookupChunk = 500

// Lookup records which MRNs and visit numbers of msgs the database holds.
func (b *Bulk) Lookup(ctx context.Context, q store.Querier, msgs []intake.Message) error {
	var mrns, visits []any
	for _, m := range msgs {
		mrns = append(mrns, strings.TrimSpace(m.Patient.MRN))
		visits = append(visits, strings.TrimSpace(m.Encounter.VisitNumber))
	}
	if err := b.lookup(ctx, q, `SELECT mrn FROM patients WHERE institution_id = `, ` AND mrn IN `, mrns, b.mrns); err != nil {
		return err
	}
	return b.lookup(ctx, q, `SELECT visit_number FROM encounters WHERE institution_id = `, ` AND visit_number IN `, visits, b.visits)
}

// lookup runs head + inst + mid + an IN list of keys, in chunks.
func (b *Bulk) lookup(ctx context.Context, q store.Querier, head, mid string, keys []any, into map[string]bool) error {
	return store.Chunks(len(keys), lookupChunk, func(lo, hi int) error {
		args := append([]any{b.inst}, keys[lo:hi]...)
		rows, err := q.QueryContext(ctx, head+b.s.db.Param(1)+mid+b.s.db.In(hi-lo, 2), args...)
		if err != nil {
			return fmt.Errorf("patient: bulk look-up: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return fmt.Errorf("patient: bulk look-up: %w", err)
			}
			into[k] = true
		}
		return rows.Err()
	})
}

// Add validates m and keeps it for Flush when it is a new patient's new
// stay. It returns false (and no error) when m needs Apply instead, and a
// validation error when m must be rejected; either way nothing is written.
func (b *Bulk) Add(m intake.Message) (bool, error) {
	if err := validate(&m); err != nil {
		return false, err
	}
	mrn, visit := m.Patient.MRN, m.Encounter.VisitNumber
	fresh := !b.mrns[mrn] && !b.visits[visit] && m.Event != intake.CancelAdmit && m.Event != intake.CancelDischarge
	// Whatever happens to m, a later message with the same keys must see
	// its rows, so it goes through Apply after a Flush.
	b.mrns[mrn], b.visits[visit] = true, true
	if !fresh {
		return false, nil
	}
	in := m.Patient
	pat := &Patient{InstitutionID: b.inst, MRN: mrn, Name: in.Name, Sex: in.Sex, BirthDate: in.BirthDate,
		NationalID: in.NationalID, Phones: in.Phones, Address: strings.TrimSpace(in.Address), Employer: strings.TrimSpace(in.Employer),
		Deceased: m.Outcome() == intake.Died || in.Deceased}
	b.pending = append(b.pending, &Change{Patient: pat, Encounter: encounterFrom(b.inst, 0, b.depts, b.loc, m), Created: true})
	b.msgs = append(b.msgs, m)
	return true, nil
}

// Pending is how many messages wait for Flush.
func (b *Bulk) Pending() int { return len(b.pending) }

// Row counts per statement: 13 patient and 23 encounter columns stay far
// below SQLite's 32,766 parameters.
const (
	patientRows   = 200
	phoneRows     = 300
	encounterRows = 200
)

// Flush writes the pending patients, their phone indexes and their stays
// in tx and returns one Change per message it stored, in MRN order.
//
// Another instance may store the same new patient or stay between Lookup
// and Flush (two imports of one file, an HIS retrying through a load
// balancer). Its row wins: the INSERTs skip conflicting keys instead of
// failing the transaction, and the messages whose patient or stay was
// taken come back in lost, for the caller to Apply one by one (as a
// re-sent message: unchanged or updated). Rows go in MRN order so that
// two writers of overlapping batches wait for each other instead of
// deadlocking.
func (b *Bulk) Flush(ctx context.Context, tx store.Querier) (stored []*Change, lost []intake.Message, err error) {
	out, msgs := b.pending, b.msgs
	b.pending, b.msgs = nil, nil
	if len(out) == 0 {
		return nil, nil, nil
	}
	// idx[i] is the message of out[i] once out is in MRN order.
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return out[idx[i]].Patient.MRN < out[idx[j]].Patient.MRN })
	sorted := make([]*Change, len(out))
	for i, k := range idx {
		sorted[i] = out[k]
	}
	out = sorted
	now := store.Micros(b.s.now())
	byMRN := make(map[string]*Patient, len(out))
	err = store.Chunks(len(out), patientRows, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*13)
		for _, ch := range out[lo:hi] {
			p := ch.Patient
			sealed, err := b.s.seal(b.inst, p)
			if err != nil {
				return err
			}
			args = append(args, b.inst, p.MRN, p.Name, string(p.Sex), dateText(p.BirthDate), sealed.nid, sealed.nidx,
				sealed.phones, sealed.addr, p.Employer, p.Deceased, now, now)
			byMRN[p.MRN] = p
		}
		// RETURNING names the MRN because neither engine promises the
		// order of returned rows; a conflicting MRN returns no row.
		rows, err := tx.QueryContext(ctx, `INSERT INTO patients (institution_id, mrn, name, sex, birth_date, national_id_enc,
			national_id_idx, phones_enc, address_enc, employer, deceased, created_at, updated_at) VALUES `+b.s.db.Values(hi-lo, 13)+`
			ON CONFLICT (institution_id, mrn) DO NOTHING RETURNING id, mrn`, args...)
		if err != nil {
			return fmt.Errorf("patient: bulk insert: %w", err)
		}
		return scanIDs(rows, func(id int64, key string) { byMRN[key].ID = id })
	})
	if err != nil {
		return nil, nil, err
	}
	out, idx, lost = keep(out, idx, msgs, lost, func(ch *Change) bool { return ch.Patient.ID != 0 })
	var phones []any
	for _, ch := range out {
		for i, ph := range ch.Patient.Phones {
			phones = append(phones, ch.Patient.ID, i, b.s.index.Index("phone", ph))
		}
	}
	err = store.Chunks(len(phones)/3, phoneRows, func(lo, hi int) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO patient_phones (patient_id, pos, phone_idx) VALUES `+b.s.db.Values(hi-lo, 3), phones[lo*3:hi*3]...)
		if err != nil {
			return fmt.Errorf("patient: bulk phone index: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	byVisit := make(map[string]*Encounter, len(out))
	err = store.Chunks(len(out), encounterRows, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*23)
		for _, ch := range out[lo:hi] {
			e := ch.Encounter
			e.PatientID = ch.Patient.ID
			args = append(append(args, encounterArgs(e, now)...), now)
			byVisit[e.VisitNumber] = e
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO encounters (`+encounterInsertCols+`) VALUES `+b.s.db.Values(hi-lo, 23)+
			` ON CONFLICT (institution_id, visit_number) DO NOTHING RETURNING id, visit_number`, args...)
		if err != nil {
			return fmt.Errorf("patient: bulk insert encounters: %w", err)
		}
		return scanIDs(rows, func(id int64, key string) { byVisit[key].ID = id })
	})
	if err != nil {
		return nil, nil, err
	}
	// A stay number taken meanwhile by another patient's stay: Apply
	// finds it and refuses the message as it would any such clash.
	out, _, lost = keep(out, idx, msgs, lost, func(ch *Change) bool { return ch.Encounter.ID != 0 })
	return out, lost, nil
}

// keep drops the changes that are not ok (idx[i] is the message of
// chs[i]) and appends their messages to lost. When all are ok, as nearly
// always, it returns its arguments unchanged.
func keep(chs []*Change, idx []int, msgs, lost []intake.Message, ok func(*Change) bool) ([]*Change, []int, []intake.Message) {
	n := 0
	for _, ch := range chs {
		if ok(ch) {
			n++
		}
	}
	if n == len(chs) {
		return chs, idx, lost
	}
	kc, ki := make([]*Change, 0, n), make([]int, 0, n)
	for i, ch := range chs {
		if ok(ch) {
			kc, ki = append(kc, ch), append(ki, idx[i])
		} else {
			lost = append(lost, msgs[idx[i]])
		}
	}
	return kc, ki, lost
}

func scanIDs(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}, set func(id int64, key string)) error {
	defer rows.Close()
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return fmt.Errorf("patient: bulk ids: %w", err)
		}
		set(id, key)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("patient: bulk ids: %w", err)
	}
	return nil
}
