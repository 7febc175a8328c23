-- The investigation of a complaint: its team (medical, nursing and
-- administration members), a task per member, structured interview notes
-- and evidence files. Every change is also an event in the complaint's
-- hash-chained history.

-- A member leaves by removed_at, never by DELETE, so tasks keep their
-- assignee; one active membership per person and complaint.
CREATE TABLE complaint_members (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    complaint_id   INTEGER NOT NULL REFERENCES complaints(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    discipline     TEXT    NOT NULL CHECK (discipline IN ('medical','nursing','administration')),
    added_by       INTEGER NOT NULL DEFAULT 0,
    at             INTEGER NOT NULL,
    removed_at     INTEGER NOT NULL DEFAULT 0,
    removed_by     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX complaint_members_complaint ON complaint_members(complaint_id, id);
CREATE UNIQUE INDEX complaint_members_active ON complaint_members(complaint_id, user_id) WHERE removed_at = 0;

-- One piece of investigation work for one member, due on a local date.
CREATE TABLE complaint_tasks (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    complaint_id   INTEGER NOT NULL REFERENCES complaints(id),
    member_id      INTEGER NOT NULL REFERENCES complaint_members(id),
    assignee_id    INTEGER NOT NULL REFERENCES users(id),
    what           TEXT    NOT NULL,
    due_on         TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('open','done','cancelled')),
    result         TEXT    NOT NULL DEFAULT '',
    created_by     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    closed_by      INTEGER NOT NULL DEFAULT 0,
    closed_at      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX complaint_tasks_complaint ON complaint_tasks(complaint_id, id);
-- "My complaint tasks" reads only the open ones of one person.
CREATE INDEX complaint_tasks_assignee ON complaint_tasks(assignee_id, due_on) WHERE status = 'open';

-- Who was heard, when and where, and what they said.
CREATE TABLE complaint_interviews (
    id               INTEGER PRIMARY KEY,
    institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    complaint_id     INTEGER NOT NULL REFERENCES complaints(id),
    interviewee      TEXT    NOT NULL,
    interviewee_role TEXT    NOT NULL DEFAULT '',
    held_at          INTEGER NOT NULL,
    place            TEXT    NOT NULL DEFAULT '',
    summary          TEXT    NOT NULL,
    user_id          INTEGER NOT NULL DEFAULT 0,
    actor            TEXT    NOT NULL DEFAULT '',
    at               INTEGER NOT NULL
);
CREATE INDEX complaint_interviews_complaint ON complaint_interviews(complaint_id, id);
CREATE TRIGGER complaint_interviews_no_update BEFORE UPDATE ON complaint_interviews
BEGIN SELECT RAISE(ABORT, 'complaint_interviews is append-only'); END;

-- Evidence files live in the database, outside any web root; the type is
-- sniffed from the bytes against an allow-list.
CREATE TABLE complaint_evidence (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    complaint_id   INTEGER NOT NULL REFERENCES complaints(id),
    filename       TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    note           TEXT    NOT NULL DEFAULT '',
    data           BLOB    NOT NULL,
    user_id        INTEGER NOT NULL DEFAULT 0,
    actor          TEXT    NOT NULL DEFAULT '',
    at             INTEGER NOT NULL
);
CREATE INDEX complaint_evidence_complaint ON complaint_evidence(complaint_id, id);
