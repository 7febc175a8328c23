-- The HL7 senders allowed to send over MLLP, per institution: a source
-- address range and, optionally, the sending application (MSH-3.1) and
-- facility (MSH-4.1) they must name. A message matching an entry may only
-- touch that entry's institution. Revoking deletes the entry (the audit
-- log keeps who allowed and revoked what).
CREATE TABLE mllp_senders (
    id               INTEGER PRIMARY KEY,
    institution_id   INTEGER NOT NULL REFERENCES institutions(id),
    cidr             TEXT    NOT NULL,
    sending_app      TEXT    NOT NULL DEFAULT '',
    sending_facility TEXT    NOT NULL DEFAULT '',
    note             TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    created_by       TEXT    NOT NULL DEFAULT '',
    UNIQUE (institution_id, cidr, sending_app, sending_facility)
);
