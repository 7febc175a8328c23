-- Abnormal reports (异常上报): suspected insurance fraud, a brewing medical
-- dispute or another patient-safety event, raised by any staff member from
-- a follow-up record, a complaint or by hand, told to leadership at once and
-- handled in a flow of its own with an append-only, hash-chained history.

CREATE TABLE abnormal_reports (
    id              INTEGER PRIMARY KEY,
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    number          TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('insurance_fraud','dispute','safety')),
    severity        TEXT    NOT NULL CHECK (severity IN ('normal','urgent')),
    status          TEXT    NOT NULL CHECK (status IN ('reported','acknowledged','investigating','concluded','closed')),
    summary         TEXT    NOT NULL,
    patient_id      INTEGER NOT NULL DEFAULT 0,
    encounter_id    INTEGER NOT NULL DEFAULT 0,
    source_kind     TEXT    NOT NULL CHECK (source_kind IN ('manual','record','complaint')),
    source_id       INTEGER NOT NULL DEFAULT 0,
    source_ref      TEXT    NOT NULL DEFAULT '',
    reporter_id     INTEGER NOT NULL DEFAULT 0,
    reporter_name   TEXT    NOT NULL DEFAULT '',
    -- Whoever acknowledged it owns it; only a fresh report has no owner.
    owner_id        INTEGER NOT NULL DEFAULT 0,
    finding         TEXT    NOT NULL DEFAULT '' CHECK (finding IN ('','confirmed','unfounded','referred')),
    referred_to     TEXT    NOT NULL DEFAULT '',
    conclusion      TEXT    NOT NULL DEFAULT '',
    actions         TEXT    NOT NULL DEFAULT '',
    reported_at     INTEGER NOT NULL,
    acknowledged_at INTEGER NOT NULL DEFAULT 0,
    concluded_at    INTEGER NOT NULL DEFAULT 0,
    closed_at       INTEGER NOT NULL DEFAULT 0,
    -- When an unacknowledged report alerts leadership again (0: never or done).
    realert_due     INTEGER NOT NULL DEFAULT 0,
    realerted_at    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (status = 'reported' OR owner_id > 0)
);
CREATE INDEX abnormal_reports_list ON abnormal_reports(institution_id, status, reported_at);
CREATE INDEX abnormal_reports_reporter ON abnormal_reports(reporter_id, reported_at);
CREATE INDEX abnormal_reports_source ON abnormal_reports(source_kind, source_id);
-- The re-alert worker reads only reports with a re-alert due.
CREATE INDEX abnormal_reports_realert ON abnormal_reports(realert_due) WHERE realert_due > 0;

-- Who did what to a report: append-only, hash-chained per institution.
CREATE TABLE abnormal_events (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    abnormal_id    INTEGER NOT NULL REFERENCES abnormal_reports(id),
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
CREATE INDEX abnormal_events_chain ON abnormal_events(institution_id, id);
CREATE INDEX abnormal_events_report ON abnormal_events(abnormal_id, id);
CREATE TRIGGER abnormal_events_no_update BEFORE UPDATE ON abnormal_events
BEGIN SELECT RAISE(ABORT, 'abnormal_events is append-only'); END;
CREATE TRIGGER abnormal_events_no_delete BEFORE DELETE ON abnormal_events
BEGIN SELECT RAISE(ABORT, 'abnormal_events is append-only'); END;
