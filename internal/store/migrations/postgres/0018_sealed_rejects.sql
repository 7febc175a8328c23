-- A rejected import row or message holds ID numbers and phones. The full
-- text is sealed in raw_enc (bound to its batch and line); raw keeps only a
-- masked copy for display. Rows from before are sealed and masked by the
-- re-seal step ('suifang keys reseal', and serve at start): until then
-- raw_enc is '' and raw still holds the plain text.
ALTER TABLE import_rejects ADD COLUMN raw_enc TEXT NOT NULL DEFAULT '';
