package followup

import (
	"context"
	"database/sql"

	"suifang/internal/access"
	"suifang/internal/errs"
)

// NotAsked is the treatment effect of a record whose questionnaire did not
// ask about it; only a survey response may leave it out.
const NotAsked = "not_asked"

// surveyActor is who a record completed by the patient's own survey answer
// names: nobody on the staff, so no claim is needed.
func surveyActor() *access.Principal {
	return &access.Principal{Username: "patient-survey", Name: "患者问卷", Global: true}
}

// CompleteBySurvey completes an open task with the record the patient's
// survey response produced, inside the survey's transaction. A task that
// is already closed (done by phone meanwhile) is left alone and nil is
// returned: the response is kept in the survey room either way.
func (s *Service) CompleteBySurvey(ctx context.Context, tx *sql.Tx, taskID int64, in RecordInput) (*Record, error) {
	in.bySurvey = true
	if in.TreatmentEffect == "" {
		in.TreatmentEffect = NotAsked
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	p := surveyActor()
	t, err := s.task(ctx, tx, p, taskID)
	if err != nil {
		return nil, err
	}
	if t.Status != Open {
		return nil, nil
	}
	if t.DNC {
		return nil, errs.New(errs.Conflict, "do_not_contact", "this patient asked not to be contacted")
	}
	return s.closeWithRecord(ctx, tx, p, t, in)
}
