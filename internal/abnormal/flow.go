package abnormal

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"suifang/internal/access"
	"suifang/internal/audit"
	"suifang/internal/errs"
	"suifang/internal/store"
)

// Actions move a report along its flow.
const (
	ActAcknowledge = "acknowledge" // leadership or quality takes charge (owner)
	ActInvestigate = "investigate" // the investigation starts
	ActConclude    = "conclude"    // finding, conclusion, actions
	ActClose       = "close"       // the case is closed
	ActReopen      = "reopen"      // a concluded or closed case is opened again
	ActNote        = "note"        // a note at any time
)

// Actions lists the actions in flow order.
func Actions() []string {
	return []string{ActAcknowledge, ActInvestigate, ActConclude, ActClose, ActReopen, ActNote}
}

// Findings of an investigation: confirmed, unfounded, or referred to
// another body (医保办, 医务处, 公安 …).
var findings = []string{"confirmed", "unfounded", "referred"}

// Findings lists the findings in form order.
func Findings() []string { return slices.Clone(findings) }

// flow says from which statuses an action may start and where it leads
// ("" keeps the status).
var flow = map[string]struct {
	from []string
	to   string
}{
	ActAcknowledge: {[]string{Reported}, Acknowledged},
	ActInvestigate: {[]string{Acknowledged}, Investigating},
	ActConclude:    {[]string{Investigating}, Concluded},
	ActClose:       {[]string{Concluded}, Closed},
	ActReopen:      {[]string{Concluded, Closed}, Investigating},
	ActNote:        {Statuses(), ""},
}

// ActionInput is one action with what it needs.
type ActionInput struct {
	Action     string
	Note       string // investigate (the plan), reopen (reason), note, close
	Finding    string // conclude
	ReferredTo string // conclude, when referred
	Conclusion string // conclude
	Actions    string // conclude: what was done or is to be done
}

func (in *ActionInput) normalize() error {
	for _, f := range []*string{&in.Action, &in.Note, &in.Finding, &in.ReferredTo, &in.Conclusion, &in.Actions} {
		*f = strings.TrimSpace(*f)
	}
	long := func(s string) bool { return utf8.RuneCountInString(s) > maxText }
	if !slices.Contains(Actions(), in.Action) {
		return errs.Field("action", "bad_action", "unknown action")
	}
	switch {
	case long(in.Note):
		return errs.Field("note", "too_long", "at most 4000 characters")
	case long(in.Conclusion):
		return errs.Field("conclusion", "too_long", "at most 4000 characters")
	case long(in.Actions):
		return errs.Field("actions", "too_long", "at most 4000 characters")
	case utf8.RuneCountInString(in.ReferredTo) > 200:
		return errs.Field("referred_to", "abnormal_referred_too_long", "at most 200 characters")
	}
	switch in.Action {
	case ActConclude:
		switch {
		case !slices.Contains(findings, in.Finding):
			return errs.Field("finding", "abnormal_bad_finding", "choose the finding: confirmed, unfounded or referred")
		case in.Finding == "referred" && in.ReferredTo == "":
			return errs.Field("referred_to", "abnormal_missing_referred_to", "name where the case was referred (医保办, 医务处, 公安 …)")
		case in.Conclusion == "":
			return errs.Field("conclusion", "abnormal_missing_conclusion", "write the conclusion")
		}
	case ActReopen:
		if in.Note == "" {
			return errs.Field("note", "abnormal_missing_reason", "say why the case is opened again")
		}
	case ActNote:
		if in.Note == "" {
			return errs.Field("note", "abnormal_missing_note", "write the note")
		}
	}
	return nil
}

// Can reports whether p may take action a on r now (for showing forms).
// Leadership and quality acknowledge and reopen; the owner or any of them
// carry the case; the reporter may add notes.
func Can(p *access.Principal, r *Report, a string) bool {
	f, ok := flow[a]
	if !ok || !slices.Contains(f.from, r.Status) {
		return false
	}
	h := handler(p, r.InstitutionID)
	switch a {
	case ActAcknowledge, ActReopen:
		return h
	case ActNote:
		// An API token may add what the HIS learnt later.
		return h || (p.UserID != 0 && (p.UserID == r.OwnerID || p.UserID == r.ReporterID)) ||
			p.Has(access.Integration) && p.SeesInstitution(r.InstitutionID)
	}
	return h || (p.UserID != 0 && p.UserID == r.OwnerID)
}

// Act takes one action on a report as p, in one transaction with its
// event and its audit entry.
func (s *Service) Act(ctx context.Context, p *access.Principal, id int64, in ActionInput) (*Report, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	var out *Report
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(p, r) {
			return errs.New(errs.Forbidden, "out_of_scope", "this abnormal report is outside your data scope")
		}
		// Under the chain lock, read again: another instance may have moved
		// the report meanwhile (two leaders acknowledging at once).
		if err := s.db.SerializeKey(ctx, tx, chainKey(r.InstitutionID)); err != nil {
			return err
		}
		if r, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		if !Can(p, r, in.Action) {
			if !slices.Contains(flow[in.Action].from, r.Status) {
				return errs.New(errs.Conflict, "abnormal_bad_transition", fmt.Sprintf("the report is %s; it cannot take %s now", r.Status, in.Action))
			}
			return errs.New(errs.Forbidden, "abnormal_action_forbidden", "your role may not do this to the report")
		}
		detail, err := s.apply(ctx, tx, p, r, in)
		if err != nil {
			return err
		}
		from, to := r.Status, flow[in.Action].to
		if to == "" {
			to = from
		}
		if err := s.appendEvent(ctx, tx, p, r, in.Action, from, to, detail); err != nil {
			return err
		}
		e := audit.Event(p, "abnormal."+in.Action, "abnormal_report", r.Number, r.InstitutionID)
		e.Detail = fmt.Sprintf("%s → %s", from, to)
		if err := s.audit.Append(ctx, tx, e); err != nil {
			return err
		}
		out, err = s.get(ctx, tx, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// apply makes the action's change and returns the event's detail.
func (s *Service) apply(ctx context.Context, tx *sql.Tx, p *access.Principal, r *Report, in ActionInput) (string, error) {
	now := store.Micros(s.now())
	set := func(q string, args ...any) error {
		args = append(args, now, r.ID)
		n := len(args)
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE abnormal_reports SET %s, updated_at = $%d WHERE id = $%d`, q, n-1, n), args...); err != nil {
			return fmt.Errorf("abnormal: %s: %w", in.Action, err)
		}
		return nil
	}
	to := flow[in.Action].to
	switch in.Action {
	case ActAcknowledge:
		// The one who takes charge owns it; the re-alert is no longer due.
		return fmt.Sprintf("owner=%d\n%s", p.UserID, in.Note), set(`status = $1, owner_id = $2, acknowledged_at = $3, realert_due = 0`,
			to, p.UserID, now)
	case ActInvestigate:
		return in.Note, set(`status = $1`, to)
	case ActConclude:
		detail := "finding=" + in.Finding
		if in.Finding == "referred" {
			detail += " referred_to=" + in.ReferredTo
		} else {
			in.ReferredTo = ""
		}
		detail += "\n" + in.Conclusion
		if in.Actions != "" {
			detail += "\nactions=" + in.Actions
		}
		return detail, set(`status = $1, finding = $2, referred_to = $3, conclusion = $4, actions = $5, concluded_at = $6`,
			to, in.Finding, in.ReferredTo, in.Conclusion, in.Actions, now)
	case ActClose:
		return in.Note, set(`status = $1, closed_at = $2`, to, now)
	case ActReopen:
		// The earlier finding stays in the history; the case is open again.
		return in.Note, set(`status = $1, finding = '', referred_to = '', conclusion = '', actions = '', concluded_at = 0, closed_at = 0`, to)
	case ActNote:
		return in.Note, nil
	}
	return "", fmt.Errorf("abnormal: unhandled action %s", in.Action)
}
