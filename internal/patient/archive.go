package patient

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/calendar"
	"suifang/internal/errs"
	"suifang/internal/pii"
	"suifang/internal/store"
)

// Query is a patient search in one institution. Text is matched as a name
// (substring), an MRN (prefix), a visit number (exact), and exactly as a
// phone number or national ID through the blind indexes: the staff member
// types one box, as at a hospital front desk.
type Query struct {
	InstitutionID int64
	Text          string
	Limit         int // 1–100, default 20
	Offset        int
}

// Hit is one patient of a search result, masked, with the latest stay the
// caller may see.
type Hit struct {
	Masked
	LastVisit     string
	LastDischarge calendar.Date
	LastDept      string
	LastWard      string
	Stays         int // stays the caller may see
}

// SearchResult is one page of hits and the number of all matches.
type SearchResult struct {
	Hits  []Hit
	Total int
}

// MaxQueryLen bounds the search text.
const MaxQueryLen = 64

// scopeCond is the SQL condition (on patients aliased pa) that keeps the
// patients p may see in inst: everyone for institution-wide grants,
// otherwise patients with a stay in one of p's departments or wards.
// It appends its arguments to args.
func scopeCond(p *access.Principal, inst int64, args *[]any) (string, error) {
	if p.SeesInstitution(inst) {
		return "1 = 1", nil
	}
	var ids []string
	for _, g := range p.Grants {
		if g.InstitutionID == inst && g.DepartmentID != 0 {
			*args = append(*args, g.DepartmentID)
			ids = append(ids, fmt.Sprintf("$%d", len(*args)))
		}
	}
	if len(ids) == 0 {
		return "", errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	in := strings.Join(ids, ",")
	return `EXISTS (SELECT 1 FROM encounters se WHERE se.patient_id = pa.id AND (se.department_id IN (` + in +
		`) OR se.ward_id IN (` + in + `)))`, nil
}

// likeEscape makes s a literal LIKE pattern part (escape character \).
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// phoneDigits keeps what a dialled number is made of, so "138 0013-8000"
// finds 13800138000.
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || r == '+' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Search finds patients of one institution the caller may see. The result
// is masked; a search is not audited (it shows nothing unmasked), a reveal is.
func (s *Service) Search(ctx context.Context, p *access.Principal, q Query) (*SearchResult, error) {
	// An outside agency reaches patients through its worklist, never by
	// searching the hospital's archive.
	if err := p.RequireStaff(); err != nil {
		return nil, err
	}
	if !p.TouchesInstitution(q.InstitutionID) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this institution is outside your data scope")
	}
	text := strings.TrimSpace(q.Text)
	if text == "" {
		return nil, errs.Field("q", "missing_query", "type a name, MRN, visit number, phone number or ID number")
	}
	if utf8.RuneCountInString(text) > MaxQueryLen || !utf8.ValidString(text) || strings.ContainsFunc(text, unicode.IsControl) {
		return nil, errs.Field("q", "bad_query", "the search text is too long or contains control characters")
	}
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 20
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	args := []any{q.InstitutionID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	scope, err := scopeCond(p, q.InstitutionID, &args)
	if err != nil {
		return nil, err
	}
	// One box, several meanings. Each meaning is an indexed lookup (blind
	// indexes, the MRN range, the visit number) except the name substring,
	// which scans the institution's patients and so runs only when the text
	// could be a name (it has a character a phone or ID number lacks).
	phones := []string{s.index.Index("phone", text)}
	if d := phoneDigits(text); d != "" && d != text {
		phones = append(phones, s.index.Index("phone", d))
	}
	var ph []string
	for _, v := range phones {
		ph = append(ph, arg(v))
	}
	ids := `SELECT id FROM patients WHERE institution_id = $1 AND national_id_idx = ` + arg(s.index.Index("national_id", strings.ToUpper(text))) +
		` UNION SELECT patient_id FROM patient_phones WHERE phone_idx IN (` + strings.Join(ph, ",") + `)` +
		// MRNs are codes: a range on the unique index is the prefix match.
		` UNION SELECT id FROM patients WHERE institution_id = $1 AND mrn >= ` + arg(text) + ` AND mrn < ` + arg(text+"~") +
		` UNION SELECT patient_id FROM encounters WHERE institution_id = $1 AND visit_number = ` + arg(text)
	if mayBeName(text) {
		ids += ` UNION SELECT id FROM patients WHERE institution_id = $1 AND name LIKE ` + arg("%"+likeEscape(text)+"%") + ` ESCAPE '\'`
	}
	// Newest patients first: names have no portable order across the two
	// engines' collations, and a recent discharge is what staff look for.
	// The matches drive the join (CROSS JOIN keeps SQLite from scanning
	// every patient and probing the match list instead).
	where := ` FROM (` + ids + `) m CROSS JOIN patients pa WHERE pa.id = m.id AND pa.institution_id = $1 AND ` + scope
	res := &SearchResult{}
	err = s.db.Read(ctx, func(tx *sql.Tx) error {
		// One pass over the matches gives the count and the page: the name
		// substring is a scan, so it runs once, not once more for a COUNT.
		idRows, err := tx.QueryContext(ctx, `SELECT pa.id`+where+` ORDER BY pa.id DESC`, args...)
		if err != nil {
			return fmt.Errorf("patient: search: %w", err)
		}
		var page []any
		var marks []string
		for idRows.Next() {
			var id int64
			if err := idRows.Scan(&id); err != nil {
				idRows.Close()
				return fmt.Errorf("patient: search: %w", err)
			}
			if res.Total >= q.Offset && len(page) < q.Limit {
				page = append(page, id)
				marks = append(marks, fmt.Sprintf("$%d", len(page)))
			}
			res.Total++
		}
		idRows.Close()
		if err := idRows.Err(); err != nil {
			return fmt.Errorf("patient: search: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+prefixed(patientCols)+` FROM patients pa WHERE pa.id IN (`+
			strings.Join(marks, ",")+`) ORDER BY pa.id DESC`, page...)
		if err != nil {
			return fmt.Errorf("patient: search: %w", err)
		}
		var pats []*Patient
		for rows.Next() {
			pat, err := s.scanPatient(rows)
			if err != nil {
				rows.Close()
				return err
			}
			pats = append(pats, pat)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("patient: search: %w", err)
		}
		for _, pat := range pats {
			h := Hit{Masked: pat.Mask()}
			encs, err := s.encounters(ctx, tx, p, pat)
			if err != nil {
				return err
			}
			h.Stays = len(encs)
			if len(encs) > 0 {
				e := encs[0]
				h.LastVisit, h.LastDischarge, h.LastDept, h.LastWard = e.VisitNumber, e.DischargeDate, e.DeptName, e.WardName
			}
			res.Hits = append(res.Hits, h)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// mayBeName reports whether text has a character no phone, ID or visit
// number typed as digits would have: then it may be (part of) a name.
func mayBeName(text string) bool {
	if _, err := pii.ValidateNationalID(strings.ToUpper(text)); err == nil {
		return false // an ID number ending in X
	}
	return strings.ContainsFunc(text, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == ' ' || r == '(' || r == ')')
	})
}

// prefixed qualifies a column list with the pa alias.
func prefixed(cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = "pa." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// encounters lists the stays of pat that p may see, newest first.
func (s *Service) encounters(ctx context.Context, q store.Querier, p *access.Principal, pat *Patient) ([]*Encounter, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+encounterCols+` FROM encounters WHERE patient_id = $1
		ORDER BY admitted_at DESC, id DESC`, pat.ID)
	if err != nil {
		return nil, fmt.Errorf("patient: encounters: %w", err)
	}
	defer rows.Close()
	var out []*Encounter
	for rows.Next() {
		e, err := scanEncounter(rows)
		if err != nil {
			return nil, fmt.Errorf("patient: encounters: %w", err)
		}
		// Minimum access: a ward nurse sees the stays of her ward, not the
		// patient's other stays elsewhere in the hospital.
		if p.SeesDepartment(e.InstitutionID, e.DepartmentID) || p.SeesDepartment(e.InstitutionID, e.WardID) {
			out = append(out, e)
		}
	}
	return out, rows.Err()
}

// View is a patient's archive page: masked demographics and the stays the
// caller may see.
type View struct {
	Masked
	InstitutionID int64
	DNCReason     string
	Employer      string
	Age           int // today, -1 unknown
	Encounters    []*Encounter
}

// View returns patient id for p, masked, with the stays in p's scope.
// Opening it is not audited because nothing is unmasked; Reveal is.
func (s *Service) View(ctx context.Context, p *access.Principal, id int64, today calendar.Date) (*View, error) {
	pat, err := s.Get(ctx, nil, id)
	if err != nil {
		return nil, err
	}
	if err := s.requirePatientScope(ctx, p, pat); err != nil {
		return nil, err
	}
	encs, err := s.encounters(ctx, s.db.R(), p, pat)
	if err != nil {
		return nil, err
	}
	return &View{Masked: pat.Mask(), InstitutionID: pat.InstitutionID, DNCReason: pat.DNCReason, Employer: pat.Employer,
		Age: pat.Age(today), Encounters: encs}, nil
}

// CheckScope returns patient id when p's scope covers one of its stays
// (other rooms check before they change anything about a patient).
func (s *Service) CheckScope(ctx context.Context, q store.Querier, p *access.Principal, id int64) (*Patient, error) {
	pat, err := s.Get(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if err := s.requirePatientScope(ctx, p, pat); err != nil {
		return nil, err
	}
	return pat, nil
}

// reason checks the reason given for a flag change.
func reasonOf(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" || utf8.RuneCountInString(r) > 500 {
		return "", errs.Field("reason", "missing_reason", "give the reason (at most 500 characters)")
	}
	return r, nil
}

// ClearDoNotContact lifts a do-not-contact flag in tx (the patient asked to
// be followed up again). Tasks it closed stay closed: they are history, and
// the next discharge is planned as usual. Audited with the reason.
func (s *Service) ClearDoNotContact(ctx context.Context, tx *sql.Tx, p *access.Principal, patientID int64, reason string) error {
	reason, err := reasonOf(reason)
	if err != nil {
		return err
	}
	var inst int64
	var dnc bool
	if err := tx.QueryRowContext(ctx, `SELECT institution_id, do_not_contact FROM patients WHERE id = $1`, patientID).Scan(&inst, &dnc); err != nil {
		if err == sql.ErrNoRows {
			return errs.New(errs.NotFound, "patient_not_found", "no such patient")
		}
		return fmt.Errorf("patient: clear do-not-contact: %w", err)
	}
	if !dnc {
		return errs.New(errs.Conflict, "not_do_not_contact", "this patient is not marked do-not-contact")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE patients SET do_not_contact = $1, dnc_reason = $2, updated_at = $3 WHERE id = $4`,
		false, "", store.Micros(s.now()), patientID); err != nil {
		return fmt.Errorf("patient: clear do-not-contact: %w", err)
	}
	e := audit.Event(p, "patient.do_not_contact_cleared", "patient", fmt.Sprint(patientID), inst)
	e.Detail = reason
	return s.audit.Append(ctx, tx, e)
}
