-- Editable complaint categories per institution. An institution without
-- rows uses the seven built-in ones; the first edit copies them here. A
-- category is never deleted (complaints keep its code): deactivating it
-- only stops offering it for new complaints.
CREATE TABLE complaint_categories (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    code           TEXT    NOT NULL,
    name_zh        TEXT    NOT NULL,
    name_en        TEXT    NOT NULL DEFAULT '',
    sort           INTEGER NOT NULL DEFAULT 0,
    active         INTEGER NOT NULL DEFAULT 1,
    updated_at     INTEGER NOT NULL,
    UNIQUE (institution_id, code)
);

-- A policy or calendar change recomputes the stored next deadline of an
-- institution's open complaints, read in id order in batches.
CREATE INDEX complaints_open ON complaints(institution_id, id) WHERE status <> 'archived';
