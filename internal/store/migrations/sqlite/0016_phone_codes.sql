-- One-time codes that prove a member of the public holds the mobile number
-- they typed (package notify, verify.go). The browser keeps a random token;
-- only its SHA-256 is stored, and the code only as SHA-256 of token and
-- code, so a copy of the database cannot recover either. The number is
-- sealed; phone_idx is its keyed blind index.
CREATE TABLE phone_codes (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    token_hash     TEXT    NOT NULL UNIQUE,
    ref            TEXT    NOT NULL,
    phone_enc      TEXT    NOT NULL,
    phone_idx      TEXT    NOT NULL,
    code_hash      TEXT    NOT NULL DEFAULT '',
    expires_at     INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    sends          INTEGER NOT NULL DEFAULT 0,
    verified_at    INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX phone_codes_ref ON phone_codes(ref);

-- Every SMS sent at a stranger's request, for the caps per number and per
-- client address (both keyed blind indexes). Rows older than a day are
-- deleted as new ones come.
CREATE TABLE public_sms (
    id         INTEGER PRIMARY KEY,
    phone_idx  TEXT    NOT NULL,
    client_idx TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX public_sms_phone ON public_sms(phone_idx, at);
CREATE INDEX public_sms_client ON public_sms(client_idx, at);
CREATE INDEX public_sms_at ON public_sms(at);
