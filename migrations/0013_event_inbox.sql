-- The event inbox: every trigger event (webhook delivery, API submission, record operation, cron fire,
-- trigger-event action) is written here before it is queued, so an event whose message is lost (a queue
-- that loses in-flight messages, a producer that dies between the write and the send) is sent again by
-- the per-minute reconciliation until the consumer marks it `done`. It replaces `stored_events` (which
-- held only the events too large for a message): the body of every event is here, and a message too
-- large to travel inline, or sent again, carries a reference to it.
--   state: queued (sent, not yet processed) | done (its executions exist) | dead (gave up; see dead_letters)
--   sends: how many times its message was sent; next_send_at: when the reconciliation sends it again
--   (each wait twice the one before)
CREATE TABLE event_inbox (
  org_id     TEXT NOT NULL,
  id         TEXT NOT NULL,
  body       TEXT NOT NULL,
  state      TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'dead')),
  sends      INTEGER NOT NULL DEFAULT 1,
  next_send_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
-- What the reconciliation scans: only the queued events, oldest first (done rows leave the index).
CREATE INDEX event_inbox_queued ON event_inbox (next_send_at) WHERE state = 'queued';
CREATE INDEX event_inbox_created ON event_inbox (created_at);
-- Large events stored before this migration may still have messages in flight.
INSERT INTO event_inbox (org_id, id, body, state, sends, next_send_at, created_at, updated_at)
  SELECT org_id, id, body, 'queued', 1, created_at, created_at, created_at FROM stored_events;
DROP TABLE stored_events;
