-- Events too large for a queue message (Cloudflare Queues cap messages at 128 KB): the body is kept
-- here and the queue carries a reference. Rows are pruned by the scheduled handler after a week.
CREATE TABLE stored_events (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX stored_events_created ON stored_events (created_at);
