-- Failed logins per (typed user name, client address): five from one
-- address lock that name for that address only, so an attacker cannot lock
-- a nurse out of her own workstation. Keyed by the typed name, not the user
-- id, so a name that does not exist locks the same way and the lock does
-- not reveal which names exist. Rows older than the lockout are purged.
CREATE TABLE login_failures (
    username     TEXT    NOT NULL,
    ip           TEXT    NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (username, ip)
);
CREATE INDEX login_failures_updated ON login_failures(updated_at);

-- The argon2id hashes of a user's previous passwords (never the passwords),
-- newest kept, so a change cannot go back to one of the last few.
CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, id);
