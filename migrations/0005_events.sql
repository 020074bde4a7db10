-- Queue bookkeeping. `queue_failures` keeps the last error of each message that failed (so a message
-- that ends in a dead-letter queue is recorded with why); `dead_letters` lists those messages.
CREATE TABLE queue_failures (
  queue      TEXT NOT NULL,
  message_key TEXT NOT NULL,            -- the event id (or the message id when the body has none)
  org_id     TEXT,
  attempts   INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (queue, message_key)
);

CREATE TABLE dead_letters (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  queue       TEXT NOT NULL,
  message_key TEXT NOT NULL,
  org_id      TEXT,
  body        TEXT NOT NULL,
  reason      TEXT NOT NULL,
  attempts    INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  UNIQUE (queue, message_key)
);
CREATE INDEX dead_letters_org ON dead_letters (org_id, created_at);
