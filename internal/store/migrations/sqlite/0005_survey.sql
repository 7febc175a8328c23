-- Surveys: questionnaires (versioned; a published version never changes),
-- per-institution survey settings, invitations with signed expiring links,
-- responses and their answers (one row per item, for results by item).

CREATE TABLE survey_settings (
    institution_id    INTEGER PRIMARY KEY REFERENCES institutions(id),
    service_phone     TEXT    NOT NULL DEFAULT '',
    link_days         INTEGER NOT NULL DEFAULT 14,
    remind_after_days INTEGER NOT NULL DEFAULT 3,
    max_reminders     INTEGER NOT NULL DEFAULT 2,
    invite_key        TEXT    NOT NULL DEFAULT 'inpatient_satisfaction',
    updated_at        INTEGER NOT NULL
);

CREATE TABLE questionnaires (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    qkey           TEXT    NOT NULL,
    purpose        TEXT    NOT NULL DEFAULT 'other',
    shared         INTEGER NOT NULL DEFAULT 0,
    copied_from    INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (institution_id, qkey)
);

CREATE TABLE questionnaire_versions (
    id               INTEGER PRIMARY KEY,
    questionnaire_id INTEGER NOT NULL REFERENCES questionnaires(id),
    version          INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('draft','published','retired')),
    title            TEXT    NOT NULL,
    body_json        TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    published_at     INTEGER NOT NULL DEFAULT 0,
    published_by     TEXT    NOT NULL DEFAULT '',
    UNIQUE (questionnaire_id, version)
);
-- A published version is immutable: only its status may move on (retired).
CREATE TRIGGER questionnaire_versions_frozen BEFORE UPDATE ON questionnaire_versions
WHEN OLD.status <> 'draft' AND (NEW.body_json <> OLD.body_json OR NEW.title <> OLD.title OR NEW.version <> OLD.version
    OR NEW.questionnaire_id <> OLD.questionnaire_id OR NEW.status = 'draft')
BEGIN SELECT RAISE(ABORT, 'a published questionnaire version is immutable'); END;

CREATE TABLE survey_invitations (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    token          TEXT    NOT NULL UNIQUE,
    idem_key       TEXT    NOT NULL UNIQUE,
    version_id     INTEGER NOT NULL REFERENCES questionnaire_versions(id),
    patient_id     INTEGER NOT NULL REFERENCES patients(id),
    encounter_id   INTEGER NOT NULL DEFAULT 0,
    task_id        INTEGER NOT NULL DEFAULT 0,
    notice_ref     TEXT    NOT NULL DEFAULT '',
    channel        TEXT    NOT NULL,
    department_id  INTEGER NOT NULL DEFAULT 0,
    ward_id        INTEGER NOT NULL DEFAULT 0,
    doctor         TEXT    NOT NULL DEFAULT '',
    month          TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('sent','opened','answered','refused','stopped')),
    stop_reason    TEXT    NOT NULL DEFAULT '',
    reminders      INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    next_remind_at INTEGER NOT NULL DEFAULT 0,
    answered_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX survey_invitations_remind ON survey_invitations(status, next_remind_at);
CREATE INDEX survey_invitations_task ON survey_invitations(task_id);
CREATE INDEX survey_invitations_results ON survey_invitations(version_id, month, department_id);

CREATE TABLE survey_responses (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    invitation_id  INTEGER NOT NULL UNIQUE REFERENCES survey_invitations(id),
    version_id     INTEGER NOT NULL REFERENCES questionnaire_versions(id),
    questionnaire_id INTEGER NOT NULL,
    patient_id     INTEGER NOT NULL,
    channel        TEXT    NOT NULL,
    department_id  INTEGER NOT NULL DEFAULT 0,
    ward_id        INTEGER NOT NULL DEFAULT 0,
    doctor         TEXT    NOT NULL DEFAULT '',
    month          TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('partial','complete')),
    section        INTEGER NOT NULL DEFAULT 0,
    points         INTEGER NOT NULL DEFAULT 0,
    max_points     INTEGER NOT NULL DEFAULT 0,
    satisfaction   TEXT    NOT NULL DEFAULT '',
    nps            INTEGER NOT NULL DEFAULT -1,
    record_number  TEXT    NOT NULL DEFAULT '',
    started_at     INTEGER NOT NULL,
    completed_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX survey_responses_results ON survey_responses(questionnaire_id, status, month, department_id);

CREATE TABLE survey_answers (
    response_id INTEGER NOT NULL REFERENCES survey_responses(id) ON DELETE CASCADE,
    link_id     TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    points      INTEGER NOT NULL DEFAULT 0,
    max_points  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (response_id, link_id)
);
