-- Foundation: institutions, departments, staff, sessions, API tokens, audit
-- log, per-institution working-day calendar. Instants are INTEGER UTC
-- microseconds; local dates are 'YYYY-MM-DD' text.

CREATE TABLE institutions (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('group','hospital','clinic')),
    parent_id   INTEGER REFERENCES institutions(id),
    timezone    TEXT    NOT NULL DEFAULT 'Asia/Shanghai',
    service_hours TEXT  NOT NULL DEFAULT '08:00-17:30',
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE departments (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    code           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('clinical','ward','office')),
    parent_id      INTEGER REFERENCES departments(id),
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (institution_id, code)
);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT    NOT NULL UNIQUE,
    display_name         TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER NOT NULL DEFAULT 0,
    active               INTEGER NOT NULL DEFAULT 1,
    home_institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    phone                TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    password_changed_at  INTEGER NOT NULL DEFAULT 0,
    last_login_at        INTEGER NOT NULL DEFAULT 0,
    last_login_ip        TEXT    NOT NULL DEFAULT '',
    -- The login before the current one, shown to the user so misuse of the
    -- account is noticed (等保2.0 asks that users see their last login).
    prev_login_at        INTEGER NOT NULL DEFAULT 0,
    prev_login_ip        TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT    NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- A scope row grants a whole institution (department_id = 0) or one department.
CREATE TABLE user_scopes (
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    department_id  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, institution_id, department_id)
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    name           TEXT    NOT NULL,
    prefix         TEXT    NOT NULL,
    token_hash     TEXT    NOT NULL UNIQUE,
    created_by     INTEGER REFERENCES users(id), -- NULL: made by the operator (CLI)
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL DEFAULT 0,
    revoked_at     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    actor_id       INTEGER NOT NULL DEFAULT 0,
    actor          TEXT    NOT NULL DEFAULT '',
    action         TEXT    NOT NULL,
    object_type    TEXT    NOT NULL DEFAULT '',
    object_id      TEXT    NOT NULL DEFAULT '',
    institution_id INTEGER NOT NULL DEFAULT 0,
    ip             TEXT    NOT NULL DEFAULT '',
    success        INTEGER NOT NULL,
    detail         TEXT    NOT NULL DEFAULT '',
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);

-- Append-only: the engine itself refuses changes; only retention may delete,
-- and never entries younger than the retention floor (checked by the service).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE calendar_years (
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    year           INTEGER NOT NULL,
    papers         TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (institution_id, year)
);

CREATE TABLE calendar_days (
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    day            TEXT    NOT NULL,
    off_day        INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    PRIMARY KEY (institution_id, day)
);
