-- Complaints (投诉): registered by whoever received them, owned by a named
-- person, measured against SLA milestones in working days and service
-- hours, escalated once per passed milestone, with an append-only
-- hash-chained history.

CREATE TABLE complaints (
    id                  INTEGER PRIMARY KEY,
    institution_id      INTEGER NOT NULL REFERENCES institutions(id),
    number              TEXT    NOT NULL UNIQUE,
    tracking_code       TEXT    NOT NULL UNIQUE,
    channel             TEXT    NOT NULL CHECK (channel IN ('counter','phone','email','website','suggestion_box','wechat','followup_call')),
    complainant_name    TEXT    NOT NULL,
    complainant_role    TEXT    NOT NULL CHECK (complainant_role IN ('patient','relative','other')),
    complainant_contact TEXT    NOT NULL DEFAULT '',
    patient_id          INTEGER NOT NULL DEFAULT 0,
    encounter_id        INTEGER NOT NULL DEFAULT 0,
    occurred_on         TEXT    NOT NULL DEFAULT '',
    location            TEXT    NOT NULL DEFAULT '',
    people              TEXT    NOT NULL DEFAULT '',
    content             TEXT    NOT NULL,
    asks                TEXT    NOT NULL DEFAULT '',
    category            TEXT    NOT NULL,
    severity            TEXT    NOT NULL CHECK (severity IN ('general','serious','major')),
    complexity          TEXT    NOT NULL CHECK (complexity IN ('simple','complex')),
    department_id       INTEGER NOT NULL REFERENCES departments(id),
    owner_id            INTEGER NOT NULL CHECK (owner_id > 0),
    status              TEXT    NOT NULL,
    received_at         INTEGER NOT NULL,
    paused              INTEGER NOT NULL DEFAULT 0,
    accepted_at         INTEGER NOT NULL DEFAULT 0,
    assessed_at         INTEGER NOT NULL DEFAULT 0,
    plan_at             INTEGER NOT NULL DEFAULT 0,
    feedback_at         INTEGER NOT NULL DEFAULT 0,
    closed_at           INTEGER NOT NULL DEFAULT 0,
    rectified_at        INTEGER NOT NULL DEFAULT 0,
    archived_at         INTEGER NOT NULL DEFAULT 0,
    plan                TEXT    NOT NULL DEFAULT '',
    compensation        TEXT    NOT NULL DEFAULT '',
    return_reason       TEXT    NOT NULL DEFAULT '',
    feedback_how        TEXT    NOT NULL DEFAULT '',
    feedback            TEXT    NOT NULL DEFAULT '',
    satisfaction        TEXT    NOT NULL DEFAULT '',
    notice_id           INTEGER NOT NULL DEFAULT 0,
    escalation          INTEGER NOT NULL DEFAULT 0,
    accountability      INTEGER NOT NULL DEFAULT 0,
    next_due            INTEGER NOT NULL DEFAULT 0,
    created_by          INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX complaints_list ON complaints(institution_id, status, received_at);
CREATE INDEX complaints_owner ON complaints(owner_id, status);
CREATE INDEX complaints_patient ON complaints(patient_id);
-- The escalation worker reads only complaints with a deadline due.
CREATE INDEX complaints_due ON complaints(next_due) WHERE next_due > 0;

-- Every department involved; the responsible one is among them.
CREATE TABLE complaint_departments (
    complaint_id  INTEGER NOT NULL REFERENCES complaints(id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    PRIMARY KEY (complaint_id, department_id)
);
CREATE INDEX complaint_departments_dept ON complaint_departments(department_id, complaint_id);

-- Waiting on the complainant or a third party stops the clocks.
CREATE TABLE complaint_pauses (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints(id),
    reason       TEXT    NOT NULL CHECK (reason IN ('complainant','third_party')),
    from_at      INTEGER NOT NULL,
    to_at        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX complaint_pauses_complaint ON complaint_pauses(complaint_id, id);

-- One row per passed milestone: the primary key makes the escalation
-- happen once however many instances run the worker.
CREATE TABLE complaint_escalations (
    complaint_id   INTEGER NOT NULL REFERENCES complaints(id),
    milestone      TEXT    NOT NULL,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    level          INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    PRIMARY KEY (complaint_id, milestone)
);

-- Each institution's SLA policies; without any, the built-in defaults.
CREATE TABLE complaint_policies (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    name           TEXT    NOT NULL,
    category       TEXT    NOT NULL DEFAULT '',
    severity       TEXT    NOT NULL DEFAULT '',
    complexity     TEXT    NOT NULL DEFAULT '',
    targets        TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (institution_id, name)
);

-- Who did what to a complaint: append-only, hash-chained per institution.
CREATE TABLE complaint_events (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    complaint_id   INTEGER NOT NULL REFERENCES complaints(id),
    at             INTEGER NOT NULL,
    user_id        INTEGER NOT NULL DEFAULT 0,
    actor          TEXT    NOT NULL DEFAULT '',
    action         TEXT    NOT NULL,
    from_status    TEXT    NOT NULL DEFAULT '',
    to_status      TEXT    NOT NULL DEFAULT '',
    detail         TEXT    NOT NULL DEFAULT '',
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);
CREATE INDEX complaint_events_chain ON complaint_events(institution_id, id);
CREATE INDEX complaint_events_complaint ON complaint_events(complaint_id, id);
CREATE TRIGGER complaint_events_no_update BEFORE UPDATE ON complaint_events
BEGIN SELECT RAISE(ABORT, 'complaint_events is append-only'); END;
CREATE TRIGGER complaint_events_no_delete BEFORE DELETE ON complaint_events
BEGIN SELECT RAISE(ABORT, 'complaint_events is append-only'); END;
