// Reading complaints: the columns, the scope check, the page view and the
// audited reveal of the complainant's contact.

package complaint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/pii"
	"suifang/internal/store"
)

const complaintCols = `c.id, c.institution_id, c.number, c.tracking_code, c.channel, c.complainant_name, c.complainant_role,
	c.complainant_contact, c.patient_id, c.encounter_id, c.occurred_on, c.location, c.people, c.content, c.asks, c.category,
	c.severity, c.complexity, c.department_id, c.owner_id, c.status, c.received_at, c.paused, c.accepted_at, c.assessed_at,
	c.plan_at, c.feedback_at, c.closed_at, c.rectified_at, c.archived_at, c.plan, c.compensation, c.return_reason,
	c.feedback_how, c.feedback, c.satisfaction, c.notice_id, c.escalation, c.accountability, c.created_by, c.created_at,
	c.updated_at, c.merged_into, c.source_record_id, COALESCE(d.name, ''), COALESCE(u.display_name, '')`

const complaintFrom = ` FROM complaints c LEFT JOIN departments d ON d.id = c.department_id LEFT JOIN users u ON u.id = c.owner_id`

func (s *Service) scan(sc interface{ Scan(...any) error }) (*Complaint, error) {
	c := &Complaint{}
	var contact string
	var rec, acc, ass, plan, fb, closed, rect, arch, created, updated int64
	if err := sc.Scan(&c.ID, &c.InstitutionID, &c.Number, &c.TrackingCode, &c.Channel, &c.ComplainantName, &c.ComplainantRole,
		&contact, &c.PatientID, &c.EncounterID, &c.OccurredOn, &c.Location, &c.People, &c.Content, &c.Asks, &c.Category,
		&c.Severity, &c.Complexity, &c.DepartmentID, &c.OwnerID, &c.Status, &rec, &c.Paused, &acc, &ass, &plan, &fb, &closed,
		&rect, &arch, &c.Plan, &c.Compensation, &c.ReturnReason, &c.FeedbackHow, &c.Feedback, &c.Satisfaction, &c.NoticeID,
		&c.Escalation, &c.Accountability, &c.CreatedBy, &created, &updated, &c.MergedInto, &c.SourceRecordID, &c.DeptName,
		&c.OwnerName); err != nil {
		return nil, err
	}
	c.ReceivedAt, c.AcceptedAt, c.AssessedAt, c.PlanAt = store.Time(rec), store.Time(acc), store.Time(ass), store.Time(plan)
	c.FeedbackAt, c.ClosedAt, c.RectifiedAt, c.ArchivedAt = store.Time(fb), store.Time(closed), store.Time(rect), store.Time(arch)
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	if contact != "" {
		plain, err := s.keys.OpenRow(contact, adContact, c.Number)
		if err != nil {
			return nil, fmt.Errorf("complaint: open contact: %w", err)
		}
		c.ContactMasked = MaskContact(plain)
	}
	return c, nil
}

// MaskContact masks a phone number digit by digit and an e-mail address's
// local part.
func MaskContact(s string) string {
	if local, domain, ok := strings.Cut(s, "@"); ok {
		r := []rune(local)
		if len(r) > 1 {
			return string(r[:1]) + "***@" + domain
		}
		return "***@" + domain
	}
	return pii.MaskPhone(s)
}

// get reads one complaint with its departments and pauses.
func (s *Service) get(ctx context.Context, q store.Querier, id int64) (*Complaint, error) {
	c, err := s.scan(q.QueryRowContext(ctx, `SELECT `+complaintCols+complaintFrom+` WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "complaint_not_found", "no such complaint")
	}
	if err != nil {
		return nil, fmt.Errorf("complaint: read: %w", err)
	}
	if err := s.details(ctx, q, []*Complaint{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// details loads the departments and pauses of cs.
func (s *Service) details(ctx context.Context, q store.Querier, cs []*Complaint) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*Complaint, len(cs))
	ph := make([]string, 0, len(cs))
	args := make([]any, 0, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
		c.DepartmentIDs, c.Pauses, c.MemberIDs = nil, nil, nil
		args = append(args, c.ID)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	in := "(" + strings.Join(ph, ",") + ")"
	rows, err := q.QueryContext(ctx, `SELECT complaint_id, department_id FROM complaint_departments WHERE complaint_id IN `+in, args...)
	if err != nil {
		return fmt.Errorf("complaint: departments: %w", err)
	}
	for rows.Next() {
		var cid, d int64
		if err := rows.Scan(&cid, &d); err != nil {
			rows.Close()
			return fmt.Errorf("complaint: departments: %w", err)
		}
		byID[cid].DepartmentIDs = append(byID[cid].DepartmentIDs, d)
	}
	rows.Close()
	for _, c := range cs {
		// The responsible department first.
		slices.SortFunc(c.DepartmentIDs, func(a, b int64) int {
			switch {
			case a == c.DepartmentID:
				return -1
			case b == c.DepartmentID:
				return 1
			}
			return int(a - b)
		})
	}
	rows, err = q.QueryContext(ctx, `SELECT complaint_id, user_id FROM complaint_members WHERE removed_at = 0 AND complaint_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return fmt.Errorf("complaint: members: %w", err)
	}
	for rows.Next() {
		var cid, u int64
		if err := rows.Scan(&cid, &u); err != nil {
			rows.Close()
			return fmt.Errorf("complaint: members: %w", err)
		}
		byID[cid].MemberIDs = append(byID[cid].MemberIDs, u)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT complaint_id, reason, from_at, to_at FROM complaint_pauses WHERE complaint_id IN `+in+` ORDER BY id`, args...)
	if err != nil {
		return fmt.Errorf("complaint: pauses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, from, to int64
		var p Pause
		if err := rows.Scan(&cid, &p.Reason, &from, &to); err != nil {
			return fmt.Errorf("complaint: pauses: %w", err)
		}
		p.From, p.To = store.Time(from), store.Time(to)
		byID[cid].Pauses = append(byID[cid].Pauses, p)
	}
	return rows.Err()
}

// canSee reports whether p may read c: institution-wide scope, any
// involved department's scope, its owner, or a member of its
// investigation team. An outside agency sees only what it owns or was
// put on: the hospital's complaints are not its business.
func canSee(p *access.Principal, c *Complaint) bool {
	if p == nil {
		return false
	}
	if p.Agency() {
		return (p.UserID != 0 && p.UserID == c.OwnerID) || member(p, c)
	}
	if p.SeesInstitution(c.InstitutionID) || (p.UserID != 0 && p.UserID == c.OwnerID) || member(p, c) {
		return true
	}
	for _, d := range c.DepartmentIDs {
		if p.SeesDepartment(c.InstitutionID, d) {
			return true
		}
	}
	return false
}

// Get returns one complaint p may see.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (*Complaint, error) {
	c, err := s.get(ctx, s.db.R(), id)
	if err != nil {
		return nil, err
	}
	if !canSee(p, c) {
		return nil, errs.New(errs.Forbidden, "out_of_scope", "this complaint is outside your data scope")
	}
	return c, nil
}

// RevealContact returns the complainant's full contact to someone who may
// see the complaint, and audits it.
func (s *Service) RevealContact(ctx context.Context, p *access.Principal, id int64) (string, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return "", err
	}
	var sealed string
	if err := s.db.R().QueryRowContext(ctx, `SELECT complainant_contact FROM complaints WHERE id = $1`, id).Scan(&sealed); err != nil {
		return "", fmt.Errorf("complaint: contact: %w", err)
	}
	plain, err := s.keys.OpenRow(sealed, adContact, c.Number)
	if err != nil {
		return "", fmt.Errorf("complaint: open contact: %w", err)
	}
	var refused error
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		e := audit.Event(p, "complaint.reveal_contact", "complaint", c.Number, c.InstitutionID)
		if s.revealCap != nil {
			var err error
			if refused, err = s.revealCap(ctx, tx, p, c.InstitutionID); err != nil {
				return err
			}
			if refused != nil {
				e.Success, e.Detail = false, "refused=reveal_limit"
			}
		}
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	if refused != nil {
		return "", refused
	}
	return plain, nil
}

// View is a complaint with its clocks, as the page and the API show it.
type View struct {
	*Complaint
	Policy *SLAPolicy
	Clocks []Clock
	Colour string // the worst clock
}

// view computes c's clocks now.
func (s *Service) view(ctx context.Context, c *Complaint) (*View, error) {
	pol, err := s.cals.Policy(ctx, c.InstitutionID)
	if err != nil {
		return nil, err
	}
	sla, err := s.policyFor(ctx, s.db.R(), c)
	if err != nil {
		return nil, err
	}
	v := &View{Complaint: c, Policy: sla, Clocks: Clocks(pol, sla, c, s.now())}
	v.Colour = Worst(v.Clocks)
	return v, nil
}

// Page returns complaint id with its clocks.
func (s *Service) Page(ctx context.Context, p *access.Principal, id int64) (*View, error) {
	c, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, c)
}
