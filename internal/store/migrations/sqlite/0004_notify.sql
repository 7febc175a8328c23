-- The outbox: every outgoing message is a row written in the caller's
-- transaction and delivered by a worker. Recipient and body are sealed
-- (AES-256-GCM, package pii); lists show the masked recipient only.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    channel         TEXT    NOT NULL,
    template_key    TEXT    NOT NULL,
    template_code   TEXT    NOT NULL DEFAULT '',
    recipient_enc   TEXT    NOT NULL,
    recipient_mask  TEXT    NOT NULL,
    body_enc        TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    ref             TEXT    NOT NULL DEFAULT '',
    patient         INTEGER NOT NULL DEFAULT 0,
    user_id         INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL CHECK (status IN ('pending','sent','dead','cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL DEFAULT 0,
    locked_by       TEXT    NOT NULL DEFAULT '',
    last_error      TEXT    NOT NULL DEFAULT '',
    provider        TEXT    NOT NULL DEFAULT '',
    read_at         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL,
    UNIQUE (institution_id, idempotency_key)
);
-- The worker's claim reads only due pending rows.
CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_list ON outbox(institution_id, status, id);
CREATE INDEX outbox_ref ON outbox(institution_id, ref) WHERE status = 'pending';
CREATE INDEX outbox_inbox ON outbox(user_id, id) WHERE channel = 'inapp';

CREATE TABLE outbox_attempts (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES outbox(id),
    at         INTEGER NOT NULL,
    ok         INTEGER NOT NULL,
    provider   TEXT    NOT NULL,
    instance   TEXT    NOT NULL,
    error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_msg ON outbox_attempts(message_id, id);

-- Institution overrides of the built-in templates (package notify).
CREATE TABLE notify_templates (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    template_key   TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    subject        TEXT    NOT NULL DEFAULT '',
    body           TEXT    NOT NULL,
    sms_code       TEXT    NOT NULL DEFAULT '',
    updated_by     INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    UNIQUE (institution_id, template_key, channel)
);
