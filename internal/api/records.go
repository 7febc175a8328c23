package api

import (
	"net/http"
	"strconv"
	"time"

	"suifang/internal/access"
	"suifang/internal/errs"
	"suifang/internal/followup"
)

// timeLayout writes record times with their microseconds, as stored.
const timeLayout = time.RFC3339Nano

// recordFieldsJSON is what the follow-up found out.
type recordFieldsJSON struct {
	Channel            string `json:"channel"`
	TreatmentEffect    string `json:"treatment_effect"`
	Satisfaction       string `json:"satisfaction"`
	MedicationGuidance string `json:"medication_guidance"`
	RevisitAdvice      string `json:"revisit_advice"`
	NPS                *int   `json:"nps"`
	Opinions           string `json:"opinions"`
	OpinionProblem     bool   `json:"opinion_problem"`
	RevisitNeeded      bool   `json:"revisit_needed"`
	RecordingConsent   bool   `json:"recording_consent"`
	RecordingRef       string `json:"recording_ref"`
}

type recordJSON struct {
	ID          int64            `json:"id"`
	Number      string           `json:"number"`
	TaskID      int64            `json:"task_id"`
	At          string           `json:"at"`
	Actor       string           `json:"actor"`
	Fields      recordFieldsJSON `json:"fields"`
	AmendsID    *int64           `json:"amends_id"`
	AmendReason *string          `json:"amend_reason"`
	PrevHash    string           `json:"prev_hash"`
	Hash        string           `json:"hash"`
}

type recordList struct {
	Items []recordJSON `json:"items"`
}

func recordOf(r *followup.Record) recordJSON {
	j := recordJSON{ID: r.ID, Number: r.Number, TaskID: r.TaskID, At: r.At.UTC().Format(timeLayout), Actor: r.Actor,
		Fields: recordFieldsJSON{Channel: r.Channel, TreatmentEffect: r.TreatmentEffect, Satisfaction: r.Satisfaction,
			MedicationGuidance: r.MedicationGuidance, RevisitAdvice: r.RevisitAdvice, Opinions: r.Opinions,
			OpinionProblem: r.OpinionProblem, RevisitNeeded: r.RevisitNeeded, RecordingConsent: r.RecordingConsent,
			RecordingRef: r.RecordingRef},
		AmendsID: optID(r.AmendsID), AmendReason: optString(r.AmendReason), PrevHash: r.PrevHash, Hash: r.Hash}
	if r.NPS >= 0 {
		n := r.NPS
		j.Fields.NPS = &n
	}
	return j
}

// listRecords lists the records (and amendments) of one task, oldest first.
func (s *server) listRecords(r *http.Request, p *access.Principal) (any, error) {
	if err := s.needCore(); err != nil {
		return nil, err
	}
	raw := r.URL.Query().Get("task_id")
	if raw == "" {
		return s.browseRecords(r, p)
	}
	if id, err := strconv.ParseInt(raw, 10, 64); err != nil || id <= 0 {
		return nil, errs.Field("task_id", "bad_task_id", "give the task whose records to list as ?task_id= (a task id)")
	}
	t, err := s.taskByID(r.Context(), p, raw)
	if err != nil {
		return nil, err
	}
	recs, err := s.d.Followup.TaskRecords(r.Context(), p, t.ID)
	if err != nil {
		return nil, notFoundTask(err)
	}
	out := recordList{Items: make([]recordJSON, 0, len(recs))}
	for _, rec := range recs {
		out.Items = append(out.Items, recordOf(rec))
	}
	return out, nil
}
