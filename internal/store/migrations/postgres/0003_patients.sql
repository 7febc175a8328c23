-- Patient archive pages and the record browser: a patient's records, the
-- corrections of a record, and records by time within an institution.

CREATE INDEX followup_records_patient ON followup_records(patient_id);
CREATE INDEX followup_records_amends ON followup_records(amends_id);
CREATE INDEX followup_records_at ON followup_records(institution_id, at);
