-- Notices and rectification (抄告单 / 整改): a notice goes to the responsible
-- department with an owner and a deadline in working days, moves through
-- issued → accepted → rectifying → submitted → verified/returned → closed,
-- escalates when overdue, and keeps an append-only hash-chained history.

CREATE TABLE notices (
    id              INTEGER PRIMARY KEY,
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    number          TEXT    NOT NULL UNIQUE,
    source_kind     TEXT    NOT NULL CHECK (source_kind IN ('survey_answer','followup_record','agent_flag','manual','complaint')),
    source_ref      TEXT    NOT NULL DEFAULT '',
    patient_id      INTEGER NOT NULL DEFAULT 0,
    encounter_id    INTEGER NOT NULL DEFAULT 0,
    topic           TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    department_id   INTEGER NOT NULL REFERENCES departments(id),
    owner_id        INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('issued','accepted','rectifying','submitted','verified','returned','closed')),
    issued_on       TEXT    NOT NULL,
    deadline        TEXT    NOT NULL,
    created_by      INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    submitted_at    INTEGER NOT NULL DEFAULT 0,
    closed_at       INTEGER NOT NULL DEFAULT 0,
    root_cause      TEXT    NOT NULL DEFAULT '',
    action_taken    TEXT    NOT NULL DEFAULT '',
    return_reason   TEXT    NOT NULL DEFAULT '',
    escalation      INTEGER NOT NULL DEFAULT 0,
    send_recovery   INTEGER NOT NULL DEFAULT 0,
    recovery_result TEXT    NOT NULL DEFAULT '',
    recovery_score  INTEGER NOT NULL DEFAULT -1,
    recovery_at     INTEGER NOT NULL DEFAULT 0
);
-- One notice per source object (a record, an answer, a complaint), so a
-- retried business change never raises two.
CREATE UNIQUE INDEX notices_source ON notices(institution_id, source_kind, source_ref) WHERE source_ref <> '';
CREATE INDEX notices_list ON notices(institution_id, status, deadline);
CREATE INDEX notices_dept ON notices(institution_id, department_id, status);
CREATE INDEX notices_owner ON notices(owner_id, status);

-- Who did what to a notice: append-only, hash-chained per institution.
CREATE TABLE notice_events (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    notice_id      INTEGER NOT NULL REFERENCES notices(id),
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
CREATE INDEX notice_events_chain ON notice_events(institution_id, id);
CREATE INDEX notice_events_notice ON notice_events(notice_id, id);
CREATE TRIGGER notice_events_no_update BEFORE UPDATE ON notice_events
BEGIN SELECT RAISE(ABORT, 'notice_events is append-only'); END;
CREATE TRIGGER notice_events_no_delete BEFORE DELETE ON notice_events
BEGIN SELECT RAISE(ABORT, 'notice_events is append-only'); END;

-- Evidence of the rectification, kept in the database (at most 10 MB each).
CREATE TABLE notice_attachments (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    notice_id      INTEGER NOT NULL REFERENCES notices(id),
    filename       TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    data           BLOB    NOT NULL,
    user_id        INTEGER NOT NULL DEFAULT 0,
    actor          TEXT    NOT NULL DEFAULT '',
    at             INTEGER NOT NULL
);
CREATE INDEX notice_attachments_notice ON notice_attachments(notice_id, id);

-- Which department a topic goes to: the encounter's ward or department, a
-- fixed department, or a department named for the topic (后勤, 营养 …).
CREATE TABLE notice_routes (
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    topic          TEXT    NOT NULL,
    mode           TEXT    NOT NULL CHECK (mode IN ('ward','department','fixed','named')),
    department_id  INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (institution_id, topic)
);

CREATE TABLE notice_settings (
    institution_id INTEGER PRIMARY KEY REFERENCES institutions(id),
    deadline_days  INTEGER NOT NULL DEFAULT 15,
    escalate_days  INTEGER NOT NULL DEFAULT 3,
    updated_at     INTEGER NOT NULL
);
