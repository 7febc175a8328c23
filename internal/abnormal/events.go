package abnormal

import (
	"context"
	"database/sql"

	"suifang/internal/access"
	"suifang/internal/chain"
)

// Event is one step of a report's history; SubjectID is the report.
type Event = chain.Event

// events is the reports' hash-chained history table.
var events = chain.NewEventLog("abnormal_events", "abnormal_id", "abnormal", "abnormal_reports",
	"status", "owner_id", "kind", "severity", "finding", "conclusion", "summary", "patient_id")

// appendEvent links an event into the institution's chain. The caller
// holds the chain lock.
func (s *Service) appendEvent(ctx context.Context, tx *sql.Tx, p *access.Principal, r *Report, action, from, to, detail string) error {
	return events.Append(ctx, tx, s.audit.ChainKey(), s.now(), p, r.InstitutionID, r.ID, action, from, to, detail)
}

// Events lists a report's history, oldest first.
func (s *Service) Events(ctx context.Context, p *access.Principal, id int64) ([]*Event, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return events.List(ctx, s.db.R(), id)
}

// ChainResult is the verification of one institution's chain.
type ChainResult = chain.Result

// VerifyEvents recomputes every institution's abnormal-report event chain
// and names the first broken event of each.
func (s *Service) VerifyEvents(ctx context.Context) ([]ChainResult, error) {
	return events.Verify(ctx, s.db.R(), s.audit.ChainKey())
}
