// Package core wires Suifang's services together on an open database: the
// one place that knows which service needs which. internal/app uses it to
// run the platform and service tests use it to get the same wiring, so a
// test never drifts from production.
package core

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"suifang/internal/audit"
	"suifang/internal/auth"
	"suifang/internal/calendar/caldb"
	"suifang/internal/followup"
	"suifang/internal/importer"
	"suifang/internal/org"
	"suifang/internal/patient"
	"suifang/internal/pii"
	"suifang/internal/store"
	"suifang/internal/survey"
)

// Options are what the services need besides the database.
type Options struct {
	Now      func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: discard
	Auth     auth.Policy
	Followup followup.Policy
	Keys     *pii.Keyring // patient-data keys (required)
	Index    *pii.Indexer // blind-index key (required)
	Dialer   followup.Dialer
	Survey   survey.Config
}

// Services are the doors to every room.
type Services struct {
	Audit    *audit.Service
	Auth     *auth.Service
	Org      *org.Service
	Calendar *caldb.Service
	Patients *patient.Service
	Followup *followup.Service
	Importer *importer.Service
	Survey   *survey.Service
}

// Build constructs the services on db (already migrated).
func Build(db *store.DB, o Options) (*Services, error) {
	if o.Keys == nil || o.Index == nil {
		return nil, errors.New("core: patient-data keys are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Services{Audit: audit.New(db, o.Now)}
	var err error
	if s.Auth, err = auth.New(db, s.Audit, o.Now, o.Auth, o.Log); err != nil {
		return nil, err
	}
	// A new institution gets the statutory calendar and the default plan
	// rules in the same transaction that creates it.
	s.Org = org.New(db, s.Audit, o.Now, func(ctx context.Context, tx *sql.Tx, id int64) error {
		if err := s.Calendar.SeedInstitution(ctx, tx, id); err != nil {
			return err
		}
		if err := s.Followup.SeedInstitution(ctx, tx, id); err != nil {
			return err
		}
		return s.Survey.SeedInstitution(ctx, tx, id)
	})
	s.Calendar = caldb.New(db, s.Audit, s.Org, o.Now)
	s.Patients = patient.New(db, s.Audit, o.Keys, o.Index, o.Now)
	s.Followup = followup.New(db, s.Audit, s.Patients, o.Now, o.Log, o.Followup, o.Dialer)
	s.Importer = importer.New(db, s.Audit, s.Org, s.Calendar, s.Patients, s.Followup, o.Now, o.Log)
	// The outbox and the notice hooks are attached with Survey.SetHooks
	// once those rooms exist.
	s.Survey = survey.New(db, s.Audit, s.Patients, s.Followup, o.Index, o.Now, o.Log, o.Survey, survey.Hooks{})
	return s, nil
}
