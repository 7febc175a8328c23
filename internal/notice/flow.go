package notice

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"suifang/internal/chain"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Actions move a notice along its flow.
const (
	ActAccept   = "accept"   // the department signs for it
	ActStart    = "start"    // rectification begins (again, after a return)
	ActSubmit   = "submit"   // root cause and action handed in
	ActVerify   = "verify"   // quality confirms the rectification
	ActReturn   = "return"   // quality sends it back, with a reason
	ActClose    = "close"    // quality closes it, optionally sending a recovery survey
	ActReassign = "reassign" // another owner
)

// Actions lists the actions.
func Actions() []string {
	return []string{ActAccept, ActStart, ActSubmit, ActVerify, ActReturn, ActClose, ActReassign}
}

// flow says from which statuses an action may start and where it leads.
var flow = map[string]struct {
	from []string
	to   string
}{
	ActAccept: {[]string{Issued}, Accepted},
	ActStart:  {[]string{Accepted, Returned}, Rectifying},
	ActSubmit: {[]string{Accepted, Rectifying, Returned}, Submitted},
	ActVerify: {[]string{Submitted}, Verified},
	ActReturn: {[]string{Submitted}, Returned},
	ActClose:  {[]string{Verified}, Closed},
}

// TransitionInput is one action with what it needs.
type TransitionInput struct {
	Action       string
	RootCause    string // submit
	ActionTaken  string // submit
	Reason       string // return (required); verify and close (optional note)
	SendRecovery bool   // close
	OwnerID      int64  // reassign
}

// deptSide reports whether p acts for the notice's department: its owner,
// or clinical staff or the head of the department (an integration acts for
// the whole institution).
func deptSide(p *access.Principal, n *Notice) bool {
	if p.UserID != 0 && p.UserID == n.OwnerID {
		return true
	}
	return p.SeesDepartment(n.InstitutionID, n.DepartmentID) &&
		p.HasAny(access.DeptHead, access.Nurse, access.Doctor, access.Integration)
}

// qualitySide reports whether p verifies, returns and closes notices of
// the institution.
func qualitySide(p *access.Principal, n *Notice) bool {
	return p.HasAny(access.Quality, access.SysAdmin) && p.SeesInstitution(n.InstitutionID)
}

// Can reports whether p may take action a on n now (for showing forms).
func Can(p *access.Principal, n *Notice, a string) bool {
	if a == ActReassign {
		return n.Status != Closed && (qualitySide(p, n) || p.Has(access.DeptHead) &&
			(p.SeesDepartment(n.InstitutionID, n.DepartmentID) || p.UserID != 0 && p.UserID == n.OwnerID))
	}
	f, ok := flow[a]
	if !ok || !slices.Contains(f.from, n.Status) {
		return false
	}
	switch a {
	case ActVerify, ActReturn, ActClose:
		return qualitySide(p, n)
	}
	return deptSide(p, n)
}

const maxText = 4000

// Transition takes one action on a notice as p, in one transaction with
// its event, its audit entry and its notification.
func (s *Service) Transition(ctx context.Context, p *access.Principal, id int64, in TransitionInput) (*Notice, error) {
	in.RootCause, in.ActionTaken, in.Reason = strings.TrimSpace(in.RootCause), strings.TrimSpace(in.ActionTaken), strings.TrimSpace(in.Reason)
	if !slices.Contains(Actions(), in.Action) {
		return nil, errs.Field("action", "bad_action", "unknown action")
	}
	switch {
	case in.Action == ActSubmit && in.RootCause == "":
		return nil, errs.Field("root_cause", "missing_root_cause", "write down the root cause")
	case in.Action == ActSubmit && in.ActionTaken == "":
		return nil, errs.Field("action_taken", "missing_action_taken", "write down the rectification taken")
	case in.Action == ActReturn && in.Reason == "":
		return nil, errs.Field("reason", "missing_reason", "say why the rectification is returned")
	case utf8.RuneCountInString(in.RootCause) > maxText:
		return nil, errs.Field("root_cause", "too_long", "at most 4000 characters")
	case utf8.RuneCountInString(in.ActionTaken) > maxText:
		return nil, errs.Field("action_taken", "too_long", "at most 4000 characters")
	case utf8.RuneCountInString(in.Reason) > maxText:
		return nil, errs.Field("reason", "too_long", "at most 4000 characters")
	}
	var out *Notice
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		n, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(p, n) {
			return errs.New(errs.Forbidden, "out_of_scope", "this notice is outside your data scope")
		}
		// Under the chain lock, read again: another instance may have moved
		// the notice meanwhile.
		if err := s.db.SerializeKey(ctx, tx, chainKey(n.InstitutionID)); err != nil {
			return err
		}
		if n, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		if !Can(p, n, in.Action) {
			if f, ok := flow[in.Action]; ok && !slices.Contains(f.from, n.Status) || in.Action == ActReassign && n.Status == Closed {
				return errs.New(errs.Conflict, "bad_transition", fmt.Sprintf("the notice is %s; it cannot be %s now", n.Status, in.Action))
			}
			return errs.New(errs.Forbidden, "notice_action_forbidden", "your role may not do this to the notice")
		}
		from := n.Status
		now := store.Micros(s.now())
		detail := in.Reason
		switch in.Action {
		case ActReassign:
			if in.OwnerID == n.OwnerID {
				return errs.Field("owner_id", "same_owner", "this person already owns the notice")
			}
			ok, err := s.eligibleOwner(ctx, tx, n, in.OwnerID)
			if err != nil {
				return err
			}
			if !ok {
				return errs.Field("owner_id", "bad_owner", "the owner must be an active member of the department")
			}
			detail = fmt.Sprintf("owner %d → %d", n.OwnerID, in.OwnerID)
			if _, err := tx.ExecContext(ctx, `UPDATE notices SET owner_id = $1, updated_at = $2 WHERE id = $3`, in.OwnerID, now, n.ID); err != nil {
				return fmt.Errorf("notice: reassign: %w", err)
			}
			n.OwnerID = in.OwnerID
			if err := s.tell(ctx, tx, n, "notice.issued", "owner"+strconv.FormatInt(now, 10), n.OwnerID); err != nil {
				return err
			}
		case ActSubmit:
			detail = "root_cause=" + in.RootCause + "\naction=" + in.ActionTaken
			if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = $1, root_cause = $2, action_taken = $3, submitted_at = $4,
				updated_at = $4 WHERE id = $5`, Submitted, in.RootCause, in.ActionTaken, now, n.ID); err != nil {
				return fmt.Errorf("notice: submit: %w", err)
			}
		case ActReturn:
			if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = $1, return_reason = $2, updated_at = $3 WHERE id = $4`,
				Returned, in.Reason, now, n.ID); err != nil {
				return fmt.Errorf("notice: return: %w", err)
			}
		case ActClose:
			if in.SendRecovery {
				detail = strings.TrimSpace("recovery_survey " + detail)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = $1, closed_at = $2, updated_at = $2, send_recovery = $3 WHERE id = $4`,
				Closed, now, in.SendRecovery, n.ID); err != nil {
				return fmt.Errorf("notice: close: %w", err)
			}
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = $1, updated_at = $2 WHERE id = $3`, flow[in.Action].to, now, n.ID); err != nil {
				return fmt.Errorf("notice: %s: %w", in.Action, err)
			}
		}
		to := from
		if f, ok := flow[in.Action]; ok {
			to = f.to
		}
		if err := s.appendEvent(ctx, tx, p, n, in.Action, from, to, detail); err != nil {
			return err
		}
		if out, err = s.get(ctx, tx, n.ID); err != nil {
			return err
		}
		if in.Action == ActReturn {
			if err := s.tell(ctx, tx, out, "notice.returned", "returned"+strconv.FormatInt(now, 10), out.OwnerID); err != nil {
				return err
			}
		}
		if in.Action == ActClose && in.SendRecovery && s.OnClosed != nil {
			if err := s.OnClosed(ctx, tx, out); err != nil {
				return err
			}
		}
		e := audit.Event(p, "notice."+in.Action, "notice", n.Number, n.InstitutionID)
		e.Detail = fmt.Sprintf("%s → %s", from, to)
		return s.audit.Append(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eligibleOwner reports whether user may own notice n: an active user with
// a grant on its department (or its parent), or on the whole institution.
func (s *Service) eligibleOwner(ctx context.Context, q store.Querier, n *Notice, user int64) (bool, error) {
	ids, err := s.staff(ctx, q, n.InstitutionID, n.DepartmentID)
	if err != nil {
		return false, err
	}
	if slices.Contains(ids, user) {
		return true, nil
	}
	var c int
	err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u JOIN user_scopes sc ON sc.user_id = u.id
		WHERE u.id = $1 AND u.active = $2 AND sc.institution_id = $3 AND sc.department_id = 0`, user, true, n.InstitutionID).Scan(&c)
	if err != nil {
		return false, fmt.Errorf("notice: owner scope: %w", err)
	}
	return c > 0, nil
}

// Candidate is a person who may own a notice.
type Candidate struct {
	ID   int64
	Name string
}

// Owners lists who may own notice id (for the reassign form).
func (s *Service) Owners(ctx context.Context, p *access.Principal, id int64) ([]Candidate, error) {
	n, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	ids, err := s.staff(ctx, s.db.R(), n.InstitutionID, n.DepartmentID)
	if err != nil {
		return nil, err
	}
	var out []Candidate
	for _, uid := range ids {
		c := Candidate{ID: uid}
		if err := s.db.R().QueryRowContext(ctx, `SELECT display_name FROM users WHERE id = $1`, uid).Scan(&c.Name); err != nil {
			return nil, fmt.Errorf("notice: owner name: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// RecordRecovery stores the result of the recovery survey the patient
// answered after the notice closed; the survey room calls it in its own
// transaction (tx nil runs one).
func (s *Service) RecordRecovery(ctx context.Context, tx *sql.Tx, noticeID int64, satisfaction string, score *int) error {
	satisfaction = strings.TrimSpace(satisfaction)
	if satisfaction == "" || utf8.RuneCountInString(satisfaction) > 40 {
		return errs.Field("satisfaction", "bad_satisfaction", "give the patient's satisfaction")
	}
	sc := -1
	if score != nil {
		if *score < 0 || *score > 100 {
			return errs.Field("score", "bad_score", "the score is 0 to 100")
		}
		sc = *score
	}
	if tx == nil {
		return s.db.Write(ctx, func(tx *sql.Tx) error { return s.RecordRecovery(ctx, tx, noticeID, satisfaction, score) })
	}
	n, err := s.get(ctx, tx, noticeID)
	if err != nil {
		return err
	}
	if err := s.db.SerializeKey(ctx, tx, chainKey(n.InstitutionID)); err != nil {
		return err
	}
	if n.Status != Closed {
		return errs.New(errs.Conflict, "notice_open", "a recovery survey belongs to a closed notice")
	}
	now := store.Micros(s.now())
	if _, err := tx.ExecContext(ctx, `UPDATE notices SET recovery_result = $1, recovery_score = $2, recovery_at = $3, updated_at = $3
		WHERE id = $4`, satisfaction, sc, now, n.ID); err != nil {
		return fmt.Errorf("notice: recovery: %w", err)
	}
	return s.appendEvent(ctx, tx, nil, n, "recovery", Closed, Closed, fmt.Sprintf("satisfaction=%s score=%d", satisfaction, sc))
}

// Event is one step of a notice's history; SubjectID is the notice.
type Event = chain.Event

// events is the notices' hash-chained history table.
var events = chain.NewEventLog("notice_events", "notice_id", "notice", "notices",
	"status", "owner_id", "department_id", "deadline", "topic", "summary", "patient_id", "closed_at")

// appendEvent links an event into the institution's chain. The caller
// holds the chain lock.
func (s *Service) appendEvent(ctx context.Context, tx *sql.Tx, p *access.Principal, n *Notice, action, from, to, detail string) error {
	return events.Append(ctx, tx, s.audit.ChainKey(), s.now(), p, n.InstitutionID, n.ID, action, from, to, detail)
}

// Events lists a notice's history, oldest first.
func (s *Service) Events(ctx context.Context, p *access.Principal, id int64) ([]*Event, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return events.List(ctx, s.db.R(), id)
}

// ChainResult is the verification of one institution's chain.
type ChainResult = chain.Result

// VerifyEvents recomputes every institution's notice event chain and names
// the first broken event of each.
func (s *Service) VerifyEvents(ctx context.Context) ([]ChainResult, error) {
	return events.Verify(ctx, s.db.R(), s.audit.ChainKey())
}
