package complaint

import (
	"context"
	"database/sql"
	"suifang/internal/chain"

	"suifang/internal/access"
)

// Event is one step of a complaint's history; SubjectID is the complaint.
type Event = chain.Event

// events is the complaints' hash-chained history table.
var events = chain.NewEventLog("complaint_events", "complaint_id", "complaint", "complaints",
	"status", "owner_id", "department_id", "category", "severity", "complexity", "merged_into", "patient_id", "received_at",
	"closed_at", "content")

// appendEvent links an event into the institution's chain. The caller
// holds the chain lock.
func (s *Service) appendEvent(ctx context.Context, tx *sql.Tx, p *access.Principal, c *Complaint, action, from, to, detail string) error {
	return events.Append(ctx, tx, s.audit.ChainKey(), s.now(), p, c.InstitutionID, c.ID, action, from, to, detail)
}

// Events lists a complaint's history, oldest first.
func (s *Service) Events(ctx context.Context, p *access.Principal, id int64) ([]*Event, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return events.List(ctx, s.db.R(), id)
}

// ChainResult is the verification of one institution's chain.
type ChainResult = chain.Result

// VerifyEvents recomputes every institution's complaint event chain and names
// the first broken event of each.
func (s *Service) VerifyEvents(ctx context.Context) ([]ChainResult, error) {
	return events.Verify(ctx, s.db.R(), s.audit.ChainKey())
}
