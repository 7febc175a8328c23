-- Chains become keyed (HMAC-SHA-256 under the chain key, kept outside the
-- database). Rows written so far keep their plain SHA-256 hashes: the last
-- id of each chain at this point is the cut-over, and every later row must
-- carry an HMAC, so an edited row cannot be hidden by recomputing the rest.
CREATE TABLE chain_cutover (
    chain      TEXT    PRIMARY KEY,
    plain_upto INTEGER  NOT NULL
);
INSERT INTO chain_cutover (chain, plain_upto) SELECT 'audit_log', COALESCE(MAX(id), 0) FROM audit_log;
INSERT INTO chain_cutover (chain, plain_upto) SELECT 'followup_records', COALESCE(MAX(id), 0) FROM followup_records;
INSERT INTO chain_cutover (chain, plain_upto) SELECT 'notice_events', COALESCE(MAX(id), 0) FROM notice_events;
INSERT INTO chain_cutover (chain, plain_upto) SELECT 'complaint_events', COALESCE(MAX(id), 0) FROM complaint_events;
INSERT INTO chain_cutover (chain, plain_upto) SELECT 'abnormal_events', COALESCE(MAX(id), 0) FROM abnormal_events;

-- Each event records a digest of its subject row's state after the event,
-- so editing a complaint, notice or report row directly shows in verify.
ALTER TABLE notice_events ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE complaint_events ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE abnormal_events ADD COLUMN state TEXT NOT NULL DEFAULT '';

-- Checkpoints: every chain's head (last id, hash, row count), signed with
-- the chain key. Each is also an audit entry; this table lets verify find
-- the latest even when the newest audit entries were cut off.
CREATE TABLE chain_checkpoints (
    id       INTEGER PRIMARY KEY,
    at       INTEGER  NOT NULL,
    audit_id INTEGER  NOT NULL,
    body     TEXT    NOT NULL,
    sig      TEXT    NOT NULL
);

-- A fingerprint of the chain key the chains are written with (an HMAC of a
-- fixed text, not the key): start refuses a different key, which would
-- otherwise surface only as every new row "altered" in verify.
CREATE TABLE chain_key_check (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT    NOT NULL
);
