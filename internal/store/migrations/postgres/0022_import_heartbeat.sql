-- An import writes a heartbeat with every committed batch, so a batch whose
-- process was killed can be told from one still running on another instance
-- and marked 'interrupted' instead of staying 'running' for ever.
ALTER TABLE import_batches ADD COLUMN heartbeat_at BIGINT NOT NULL DEFAULT 0;
UPDATE import_batches SET heartbeat_at = CASE WHEN finished_at > 0 THEN finished_at ELSE started_at END;
