package api

import (
	"fmt"

	"suifang/internal/followup"
)

func channelEnum() []string { return followup.Channels() }

// coreSchemas are the OpenAPI schemas of the encounter, task and record routes.
func coreSchemas() obj {
	id := obj{"type": "integer", "format": "int64"}
	str := obj{"type": "string"}
	boolean := obj{"type": "boolean"}
	count := obj{"type": "integer", "minimum": 0}
	capped := obj{"type": "integer", "minimum": 0, "maximum": followup.CountCap + 1,
		"description": fmt.Sprintf("tasks in the tab; counting stops at %d, so %d means more than %d", followup.CountCap+1, followup.CountCap+1, followup.CountCap)}
	date := obj{"type": "string", "format": "date"}
	nullDate := obj{"type": []string{"string", "null"}, "format": "date"}
	nullTime := obj{"type": []string{"string", "null"}, "format": "date-time"}
	nullID := obj{"type": []string{"integer", "null"}, "format": "int64"}
	nullStr := obj{"type": []string{"string", "null"}}
	encStatus := obj{"type": "string", "enum": []string{"admitted", "discharged", "cancelled"}}
	taskStatus := obj{"type": "string", "enum": followup.Statuses()}
	channel := obj{"type": "string", "enum": channelEnum()}
	outcomes := []string{"cured", "improved", "not_cured", "died", "other"}
	array := func(items any) obj { return obj{"type": "array", "items": items} }
	object := func(required []string, props obj) obj {
		o := obj{"type": "object", "properties": props}
		if len(required) > 0 {
			o["required"] = required
		}
		return o
	}
	// Request bodies are decoded strictly: an unknown field is a 400.
	input := func(required []string, props obj) obj {
		o := object(required, props)
		o["additionalProperties"] = false
		return o
	}
	return obj{
		"PatientIn": input([]string{"mrn"}, obj{
			"mrn":         obj{"type": "string", "maxLength": 64, "description": "medical record number (病案号), unique in the institution"},
			"national_id": obj{"type": "string", "description": "身份证号 (GB 11643); stored encrypted"},
			"name":        obj{"type": "string", "maxLength": 64, "description": "required except for cancellations"},
			"sex":         obj{"type": "string", "enum": []string{"M", "F", "U"}},
			"birth_date":  date,
			"phones":      array(obj{"type": "string", "maxLength": 32}),
			"address":     str,
			"employer":    str,
			"deceased":    obj{"type": "boolean", "description": "the patient has died: no follow-up calls"},
		}),
		"Diagnosis": input([]string{"code"}, obj{
			"code": obj{"type": "string", "description": "ICD-10 code, e.g. I21.0"},
			"name": str,
		}),
		"EncounterIn": input([]string{"visit_number"}, obj{
			"visit_number":      obj{"type": "string", "maxLength": 64, "description": "住院流水号: the idempotency key"},
			"department_code":   obj{"type": "string", "description": "HIS department code; matched to the institution's departments"},
			"department_name":   str,
			"ward_code":         str,
			"ward_name":         str,
			"attending_doctor":  str,
			"responsible_nurse": str,
			"admitted_at":       obj{"type": "string", "format": "date-time"},
			"discharged_at":     obj{"type": "string", "format": "date-time", "description": "required for a discharge"},
			"diagnoses":         array(ref("schemas", "Diagnosis")),
			"surgery":           boolean,
			"procedures":        obj{"type": "array", "items": str, "maxItems": 20, "description": "operation names (手术名称); any marks surgery"},
			"outcome":           obj{"type": "string", "enum": outcomes},
			"class": obj{"type": "string", "enum": []string{"inpatient", "outpatient", "emergency", "preadmit", "other"},
				"description": "encounter class (default inpatient); only inpatient stays get a discharge follow-up plan"},
		}),
		"EncounterMessage": input([]string{"event", "patient", "encounter"}, obj{
			"event":     obj{"type": "string", "enum": []string{"admit", "discharge", "update", "cancel_admit", "cancel_discharge"}},
			"patient":   ref("schemas", "PatientIn"),
			"encounter": ref("schemas", "EncounterIn"),
		}),
		"EncounterRequest": obj{"oneOf": []obj{
			ref("schemas", "EncounterMessage"),
			{"type": "array", "items": ref("schemas", "EncounterMessage"), "minItems": 1, "maxItems": maxBulk},
		}},
		"ImportWarning": object([]string{"field", "reason", "value"}, obj{
			"field":  str,
			"reason": str,
			"value":  obj{"type": "string", "description": "the dropped value, masked"},
		}),
		"EncounterResult": object([]string{"visit_number", "status", "created", "change", "tasks_created", "tasks_cancelled", "class", "warnings"}, obj{
			"visit_number":    str,
			"status":          encStatus,
			"created":         obj{"type": "boolean", "description": "the encounter is new"},
			"change":          obj{"type": "string", "enum": []string{"created", "updated", "unchanged", "cancelled"}},
			"tasks_created":   count,
			"tasks_cancelled": count,
			"class": obj{"type": "string", "enum": []string{"inpatient", "outpatient", "emergency", "preadmit", "other"},
				"description": "only inpatient stays are discharges with a follow-up plan; other classes are visits"},
			"warnings": obj{"type": "array", "items": ref("schemas", "ImportWarning"),
				"description": "values dropped from the stored message (an unusable phone number), apart from rejects"},
		}),
		"ItemError": object([]string{"code", "detail"}, obj{
			"code":   str,
			"detail": str,
			"errors": obj{"type": "object", "additionalProperties": str, "description": "JSON path → code"},
		}),
		"BulkItem": object([]string{"index", "http_status", "visit_number"}, obj{
			"index":        obj{"type": "integer", "minimum": 0, "description": "position in the request array"},
			"http_status":  obj{"type": "integer", "description": "the status this item would have had alone"},
			"visit_number": str,
			"result":       ref("schemas", "EncounterResult"),
			"error":        ref("schemas", "ItemError"),
		}),
		"EncounterBulkResult": object([]string{"results", "accepted", "rejected"}, obj{
			"results":  array(ref("schemas", "BulkItem")),
			"accepted": count,
			"rejected": count,
		}),
		"EncounterResponse": obj{"oneOf": []obj{ref("schemas", "EncounterResult"), ref("schemas", "EncounterBulkResult")}},
		"CancelRequest": input([]string{"kind"}, obj{
			"kind": obj{"type": "string", "enum": []string{"discharge", "admission"},
				"description": "discharge: the patient is back in hospital; admission: the stay never happened"},
		}),
		"MaskedPatient": object([]string{"mrn", "name", "sex", "birth_date", "phones", "do_not_contact", "deceased"}, obj{
			"mrn":            str,
			"name":           obj{"type": "string", "description": "masked, e.g. 李*国"},
			"sex":            obj{"type": "string", "enum": []string{"M", "F", "U"}},
			"birth_date":     nullDate,
			"phones":         array(obj{"type": "string", "description": "masked, e.g. 138****8000"}),
			"do_not_contact": boolean,
			"deceased":       boolean,
		}),
		"Task": object([]string{"id", "visit_number", "patient_mrn", "patient_name", "step", "level", "purpose", "role",
			"department_id", "channel", "earliest_date", "due_date", "next_date", "status", "attempts", "close_reason"}, obj{
			"id":            id,
			"visit_number":  str,
			"patient_mrn":   str,
			"patient_name":  obj{"type": "string", "description": "masked"},
			"step":          obj{"type": "string", "description": "the plan step: L1, FIRST, L2, L3, …"},
			"level":         obj{"type": "integer"},
			"purpose":       str,
			"role":          obj{"type": "string", "enum": []string{"nurse", "doctor", "agent", "third_party"}},
			"department_id": nullID,
			"channel":       channel,
			"earliest_date": date,
			"due_date":      date,
			"next_date":     obj{"type": "string", "format": "date", "description": "when it is next to be worked (after a retry)"},
			"status":        taskStatus,
			"attempts":      count,
			"close_reason":  nullStr,
		}),
		"Encounter": object([]string{"visit_number", "status", "patient", "department_id", "department_code", "department_name",
			"ward_id", "ward_code", "ward_name", "attending_doctor", "responsible_nurse", "admitted_at", "discharged_at",
			"discharge_date", "diagnoses", "surgery", "procedures", "outcome", "tasks"}, obj{
			"visit_number":      str,
			"status":            encStatus,
			"patient":           ref("schemas", "MaskedPatient"),
			"department_id":     nullID,
			"department_code":   str,
			"department_name":   str,
			"ward_id":           nullID,
			"ward_code":         str,
			"ward_name":         str,
			"attending_doctor":  str,
			"responsible_nurse": str,
			"admitted_at":       nullTime,
			"discharged_at":     nullTime,
			"discharge_date":    obj{"type": []string{"string", "null"}, "format": "date", "description": "local date in the institution's zone"},
			"diagnoses":         array(ref("schemas", "Diagnosis")),
			"surgery":           boolean,
			"procedures":        array(str),
			"outcome":           obj{"type": []string{"string", "null"}, "enum": []any{"cured", "improved", "not_cured", "died", "other", nil}},
			"tasks":             array(ref("schemas", "Task")),
		}),
		"TabCounts": object([]string{"today", "overdue", "upcoming", "mine", "done"}, obj{
			"today": capped, "overdue": capped, "upcoming": capped, "mine": capped, "done": capped,
		}),
		"TaskPage": object([]string{"items", "next_cursor", "today", "tab", "total", "counts"}, obj{
			"items":       array(ref("schemas", "Task")),
			"next_cursor": obj{"type": []string{"string", "null"}, "description": "pass as ?cursor= for the next page; null on the last page"},
			"today":       obj{"type": "string", "format": "date", "description": "the institution's local date the tabs are computed for"},
			"tab":         str,
			"total":       capped,
			"counts":      ref("schemas", "TabCounts"),
		}),
		"AttemptRequest": input([]string{"outcome"}, obj{
			"outcome": obj{"type": "string", "enum": followup.Outcomes()},
			"channel": obj{"type": "string", "enum": channelEnum(), "default": "phone"},
			"note":    obj{"type": "string", "maxLength": 2000},
		}),
		"AttemptResult": object([]string{"status", "next_date", "attempts", "other_tasks_closed"}, obj{
			"status":             taskStatus,
			"next_date":          obj{"type": []string{"string", "null"}, "format": "date", "description": "when the open task comes back; null once closed"},
			"attempts":           count,
			"other_tasks_closed": obj{"type": "integer", "minimum": 0, "description": "the patient's other open tasks closed (refused, deceased)"},
		}),
		"RecordRequest": input([]string{"treatment_effect", "satisfaction", "medication_guidance", "revisit_advice"}, obj{
			"channel":             obj{"type": "string", "enum": channelEnum(), "default": "phone"},
			"treatment_effect":    obj{"type": "string", "enum": followup.Effects()},
			"satisfaction":        obj{"type": "string", "enum": []string{followup.Satisfied, followup.Basically, followup.Dissatisfied}},
			"medication_guidance": obj{"type": "string", "minLength": 1, "maxLength": 2000},
			"revisit_advice":      obj{"type": "string", "minLength": 1, "maxLength": 2000},
			"nps":                 obj{"type": []string{"integer", "null"}, "minimum": 0, "maximum": 10, "description": "leave out when not asked"},
			"opinions":            obj{"type": "string", "maxLength": 4000},
			"opinion_problem":     obj{"type": "boolean", "description": "the opinion needs the department's attention (opens a case; needs opinions)"},
			"revisit_needed":      boolean,
			"recording_consent":   boolean,
			"recording_ref":       obj{"type": "string", "description": "kept only with recording_consent"},
		}),
		"RecordCreated": object([]string{"id", "number", "hash", "at", "case_opened"}, obj{
			"id":     id,
			"number": obj{"type": "string", "examples": []string{"SF-H1-20260901-0001"}},
			"hash":   obj{"type": "string", "description": "SHA-256 link of the institution's record chain"},
			"at":     obj{"type": "string", "format": "date-time"},
			"case_opened": obj{"type": "boolean",
				"description": "the record handed its department a case (不满意 or a problem opinion); always false for a correction"},
		}),
		"RecordFields": object([]string{"channel", "treatment_effect", "satisfaction", "medication_guidance", "revisit_advice",
			"nps", "opinions", "opinion_problem", "revisit_needed", "recording_consent", "recording_ref"}, obj{
			"channel":             channel,
			"treatment_effect":    str,
			"satisfaction":        str,
			"medication_guidance": str,
			"revisit_advice":      str,
			"nps":                 obj{"type": []string{"integer", "null"}},
			"opinions":            str,
			"opinion_problem":     boolean,
			"revisit_needed":      boolean,
			"recording_consent":   boolean,
			"recording_ref":       str,
		}),
		"Record": object([]string{"id", "number", "task_id", "at", "actor", "fields", "amends_id", "amend_reason", "prev_hash", "hash"}, obj{
			"id":           id,
			"number":       str,
			"task_id":      id,
			"at":           obj{"type": "string", "format": "date-time"},
			"actor":        obj{"type": "string", "description": "who recorded it (token:NAME for API tokens)"},
			"fields":       ref("schemas", "RecordFields"),
			"amends_id":    obj{"type": []string{"integer", "null"}, "format": "int64", "description": "the record this one corrects"},
			"amend_reason": nullStr,
			"prev_hash":    str,
			"hash":         str,
		}),
		"RecordList": object([]string{"items"}, obj{
			"items": array(ref("schemas", "Record")),
		}),
	}
}
