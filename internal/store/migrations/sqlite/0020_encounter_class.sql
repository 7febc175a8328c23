-- Encounter class: only inpatient stays are discharges with a follow-up
-- plan; outpatient, emergency, pre-admit and other visits (HL7 PV1-2, FHIR
-- Encounter.class) are stored and counted but planned for by nobody yet.
ALTER TABLE encounters ADD COLUMN class TEXT NOT NULL DEFAULT 'inpatient';

-- What an import stored as visits, and the warnings it raised: values it
-- dropped from usable rows (an unusable phone number). A warning keeps the
-- field, the reason and a masked value, never the raw row.
ALTER TABLE import_batches ADD COLUMN visits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_batches ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0;

CREATE TABLE import_warnings (
    batch_id INTEGER NOT NULL REFERENCES import_batches(id) ON DELETE CASCADE,
    line     INTEGER NOT NULL,
    source   TEXT    NOT NULL,
    field    TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    masked   TEXT    NOT NULL
);
CREATE INDEX import_warnings_batch ON import_warnings(batch_id, line);
