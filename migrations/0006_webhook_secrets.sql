-- Webhook signing secrets replaced by a flow update keep verifying for an overlap window, so senders can
-- switch to the new secret without dropped deliveries. A row is the retired `flow_secrets` blob, unchanged
-- (its AES-GCM associated data names org, flow and trigger, so it decrypts only for the same owner).
-- Rows are rewritten with their flow (store/flows.ts) and refused once `expires_at` has passed.
CREATE TABLE flow_secrets_retired (
  org_id     TEXT NOT NULL,
  flow_id    TEXT NOT NULL,
  trigger_id TEXT NOT NULL,             -- the webhook trigger (owner), as in flow_secrets
  key_id     TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  retired_at TEXT NOT NULL,             -- ISO-8601, when a newer secret replaced it
  expires_at TEXT NOT NULL,             -- ISO-8601, the end of the overlap
  PRIMARY KEY (flow_id, trigger_id, ciphertext)
);
CREATE INDEX flow_secrets_retired_owner ON flow_secrets_retired (org_id, flow_id, trigger_id, expires_at);
