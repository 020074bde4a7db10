-- Deliveries of signed webhooks whose scheme signs no timestamp (GitHub): a captured call could be sent again under a
-- new delivery id and still verify. Each verified delivery is kept by a hash of its signature and body for at least
-- LIMITS.WEBHOOK_REPLAY_WINDOW_MS (24 hours); a second call with the same hash gets the first one's event id and
-- starts nothing. Rows are pruned by the scheduled reconciliation once the window has passed.
CREATE TABLE webhook_deliveries (
  flow_id     TEXT NOT NULL,
  digest      TEXT NOT NULL,              -- hex SHA-256 of the signature header, a newline and the raw body
  org_id      TEXT NOT NULL,
  event_id    TEXT NOT NULL,              -- the event the first call queued
  received_at INTEGER NOT NULL,           -- ms
  PRIMARY KEY (flow_id, digest)
);
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
