-- Records: an optimistic-concurrency version (a PATCH re-reads and retries instead of losing a
-- concurrent write) and an (org, id) index for the keyset paging of bulk jobs.
ALTER TABLE records ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX records_org_id ON records (org_id, id);
