-- Follow-up core: patients and encounters (PII sealed with AES-256-GCM and
-- a keyed blind index for exact lookup), plan rules, tasks, contact
-- attempts, hash-chained follow-up records, department cases, imports.

CREATE TABLE patients (
    id              INTEGER PRIMARY KEY,
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    mrn             TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    sex             TEXT    NOT NULL DEFAULT 'U',
    birth_date      TEXT    NOT NULL DEFAULT '',
    national_id_enc TEXT    NOT NULL DEFAULT '',
    national_id_idx TEXT    NOT NULL DEFAULT '',
    phones_enc      TEXT    NOT NULL DEFAULT '',
    address_enc     TEXT    NOT NULL DEFAULT '',
    employer        TEXT    NOT NULL DEFAULT '',
    do_not_contact  INTEGER NOT NULL DEFAULT 0,
    dnc_reason      TEXT    NOT NULL DEFAULT '',
    deceased        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (institution_id, mrn)
);
CREATE INDEX patients_national_id ON patients(institution_id, national_id_idx);

-- One row per phone number so each is searchable by its blind index.
CREATE TABLE patient_phones (
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    pos        INTEGER NOT NULL,
    phone_idx  TEXT    NOT NULL,
    PRIMARY KEY (patient_id, pos)
);
CREATE INDEX patient_phones_idx ON patient_phones(phone_idx);

CREATE TABLE encounters (
    id                INTEGER PRIMARY KEY,
    institution_id    INTEGER NOT NULL REFERENCES institutions(id),
    patient_id        INTEGER NOT NULL REFERENCES patients(id),
    visit_number      TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('admitted','discharged','cancelled')),
    department_id     INTEGER NOT NULL DEFAULT 0,
    ward_id           INTEGER NOT NULL DEFAULT 0,
    dept_code         TEXT    NOT NULL DEFAULT '',
    dept_name         TEXT    NOT NULL DEFAULT '',
    ward_code         TEXT    NOT NULL DEFAULT '',
    ward_name         TEXT    NOT NULL DEFAULT '',
    attending_doctor  TEXT    NOT NULL DEFAULT '',
    responsible_nurse TEXT    NOT NULL DEFAULT '',
    admitted_at       INTEGER NOT NULL DEFAULT 0,
    discharged_at     INTEGER NOT NULL DEFAULT 0,
    discharge_date    TEXT    NOT NULL DEFAULT '',
    diagnoses         TEXT    NOT NULL DEFAULT '[]',
    primary_icd       TEXT    NOT NULL DEFAULT '',
    surgery           INTEGER NOT NULL DEFAULT 0,
    outcome           TEXT    NOT NULL DEFAULT '',
    source            TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (institution_id, visit_number)
);
CREATE INDEX encounters_patient ON encounters(patient_id);
CREATE INDEX encounters_discharge ON encounters(institution_id, discharge_date);

CREATE TABLE plan_rules (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    name           TEXT    NOT NULL,
    priority       INTEGER NOT NULL,
    is_default     INTEGER NOT NULL DEFAULT 0,
    active         INTEGER NOT NULL DEFAULT 1,
    match_json     TEXT    NOT NULL,
    steps_json     TEXT    NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX plan_rules_inst ON plan_rules(institution_id, priority);

CREATE TABLE followup_tasks (
    id               INTEGER PRIMARY KEY,
    institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    encounter_id     INTEGER NOT NULL REFERENCES encounters(id),
    patient_id       INTEGER NOT NULL REFERENCES patients(id),
    rule_id          INTEGER NOT NULL DEFAULT 0,
    rule_version     INTEGER NOT NULL DEFAULT 0,
    step_key         TEXT    NOT NULL,
    level            INTEGER NOT NULL,
    purpose          TEXT    NOT NULL,
    assignee_role    TEXT    NOT NULL,
    department_id    INTEGER NOT NULL DEFAULT 0,
    assignee_id      INTEGER NOT NULL DEFAULT 0,
    channel          TEXT    NOT NULL,
    satisfaction     INTEGER NOT NULL DEFAULT 0,
    first_contact    INTEGER NOT NULL DEFAULT 0,
    earliest_date    TEXT    NOT NULL,
    due_date         TEXT    NOT NULL,
    next_date        TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('open','done','unreachable','cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    claimed_by       INTEGER NOT NULL DEFAULT 0,
    claimed_at       INTEGER NOT NULL DEFAULT 0,
    close_reason     TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    closed_at        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (encounter_id, step_key)
);
-- Covers the worklist's tab counts and filters, so counting a tab reads the
-- index only, never the table.
CREATE INDEX followup_tasks_worklist ON followup_tasks(institution_id, status, due_date, next_date, department_id,
    assignee_role, level, channel, claimed_by, assignee_id);
CREATE INDEX followup_tasks_assignee ON followup_tasks(assignee_id, status, next_date);
CREATE INDEX followup_tasks_patient ON followup_tasks(patient_id);

CREATE TABLE contact_attempts (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    task_id        INTEGER NOT NULL REFERENCES followup_tasks(id),
    patient_id     INTEGER NOT NULL REFERENCES patients(id),
    user_id        INTEGER NOT NULL DEFAULT 0,
    at             INTEGER NOT NULL,
    channel        TEXT    NOT NULL,
    outcome        TEXT    NOT NULL,
    note           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX contact_attempts_task ON contact_attempts(task_id);
CREATE INDEX contact_attempts_patient ON contact_attempts(patient_id, at);

-- Completed follow-ups: append-only, numbered, hash-chained per institution.
CREATE TABLE followup_records (
    id                  INTEGER PRIMARY KEY,
    institution_id      INTEGER NOT NULL REFERENCES institutions(id),
    number              TEXT    NOT NULL UNIQUE,
    task_id             INTEGER NOT NULL,
    encounter_id        INTEGER NOT NULL,
    patient_id          INTEGER NOT NULL,
    user_id             INTEGER NOT NULL DEFAULT 0,
    actor               TEXT    NOT NULL DEFAULT '',
    at                  INTEGER NOT NULL,
    channel             TEXT    NOT NULL,
    treatment_effect    TEXT    NOT NULL,
    satisfaction        TEXT    NOT NULL,
    medication_guidance TEXT    NOT NULL,
    revisit_advice      TEXT    NOT NULL,
    nps                 INTEGER NOT NULL DEFAULT -1,
    opinions            TEXT    NOT NULL DEFAULT '',
    opinion_problem     INTEGER NOT NULL DEFAULT 0,
    revisit_needed      INTEGER NOT NULL DEFAULT 0,
    recording_consent   INTEGER NOT NULL DEFAULT 0,
    recording_ref       TEXT    NOT NULL DEFAULT '',
    amends_id           INTEGER NOT NULL DEFAULT 0,
    amend_reason        TEXT    NOT NULL DEFAULT '',
    prev_hash           TEXT    NOT NULL,
    hash                TEXT    NOT NULL
);
CREATE INDEX followup_records_chain ON followup_records(institution_id, id);
CREATE INDEX followup_records_number ON followup_records(institution_id, number);
CREATE INDEX followup_records_task ON followup_records(task_id);
CREATE TRIGGER followup_records_no_update BEFORE UPDATE ON followup_records
BEGIN SELECT RAISE(ABORT, 'followup_records is append-only'); END;

-- Dissatisfied patients and problem opinions go to the department.
CREATE TABLE followup_cases (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    department_id  INTEGER NOT NULL DEFAULT 0,
    record_id      INTEGER NOT NULL,
    patient_id     INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    summary        TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'open',
    created_at     INTEGER NOT NULL
);
CREATE INDEX followup_cases_dept ON followup_cases(institution_id, department_id, status);

CREATE TABLE import_batches (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL DEFAULT 0,
    user_id        INTEGER NOT NULL DEFAULT 0,
    filename       TEXT    NOT NULL,
    format         TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL DEFAULT 0,
    messages       INTEGER NOT NULL DEFAULT 0,
    encounters_new INTEGER NOT NULL DEFAULT 0,
    encounters_upd INTEGER NOT NULL DEFAULT 0,
    cancelled      INTEGER NOT NULL DEFAULT 0,
    tasks_created  INTEGER NOT NULL DEFAULT 0,
    rejects        INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    status         TEXT    NOT NULL DEFAULT 'running'
);

CREATE TABLE import_rejects (
    batch_id INTEGER NOT NULL REFERENCES import_batches(id) ON DELETE CASCADE,
    line     INTEGER NOT NULL,
    source   TEXT    NOT NULL,
    field    TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    raw      TEXT    NOT NULL
);
CREATE INDEX import_rejects_batch ON import_rejects(batch_id, line);
