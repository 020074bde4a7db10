-- URL tokens of webhook triggers (`POST /v1/webhooks/{flow_id}/{path}.{token}`, Coherence's unsigned webhooks): the
-- token authenticates the call, so only its SHA-256 is kept, like an API key's. Rows are rewritten with their flow
-- (store/flows.ts). Tokens stored by the earlier layout (inside the trigger's `path` in flows.doc) are moved here,
-- hashed, when the flow is first read (store/webhook-tokens.ts upgradeLegacyTokens): SQL has no SHA-256 to do it here.
CREATE TABLE webhook_tokens (
  org_id     TEXT NOT NULL,
  flow_id    TEXT NOT NULL,
  trigger_id TEXT NOT NULL,               -- the webhook trigger
  token_hash TEXT NOT NULL,               -- hex SHA-256 of the token
  created_at TEXT NOT NULL,
  PRIMARY KEY (flow_id, trigger_id)
);
CREATE INDEX webhook_tokens_org ON webhook_tokens (org_id, flow_id);
