-- Complaint intake: a blind index of the complainant's contact (duplicate
-- detection matches it without opening the sealed value), the primary a
-- duplicate was merged into, and the follow-up record a complaint was
-- raised from.
ALTER TABLE complaints ADD COLUMN contact_idx TEXT NOT NULL DEFAULT '';
ALTER TABLE complaints ADD COLUMN merged_into INTEGER NOT NULL DEFAULT 0;
ALTER TABLE complaints ADD COLUMN source_record_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX complaints_contact ON complaints(institution_id, contact_idx) WHERE contact_idx <> '';
CREATE INDEX complaints_merged ON complaints(merged_into) WHERE merged_into > 0;
CREATE INDEX complaints_record ON complaints(source_record_id) WHERE source_record_id > 0;
