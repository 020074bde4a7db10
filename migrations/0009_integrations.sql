-- Integrations: provider connections (credentials encrypted at rest), in-app notifications, and the
-- audit log of tool calls and unified executes. Every row carries org_id and every query filters on it.

CREATE TABLE connections (
  id            TEXT PRIMARY KEY,
  org_id        TEXT NOT NULL,
  platform      TEXT NOT NULL,           -- provider id (slack, hubspot, ...)
  name          TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active', -- active | error | expired
  error_message TEXT,
  public_config TEXT NOT NULL,           -- JSON: the config with every secret field masked (what the API returns)
  key_id        TEXT NOT NULL,           -- id of the key that sealed `ciphertext` (rotation: old ids still decrypt)
  ciphertext    TEXT NOT NULL,           -- AES-GCM blob of the whole config as JSON (lib/secrets.ts format)
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  last_tested_at TEXT,
  last_used_at  TEXT
);
CREATE INDEX connections_org ON connections (org_id, created_at);
CREATE INDEX connections_org_platform ON connections (org_id, platform);

CREATE TABLE notifications (
  id          TEXT PRIMARY KEY,          -- derived from the action's idempotency key: a retried attempt writes nothing twice
  org_id      TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  title       TEXT NOT NULL,
  message     TEXT,
  link        TEXT,
  source      TEXT NOT NULL DEFAULT '{}', -- JSON: execution_id, flow_id, action_id, or the tool call
  created_at  TEXT NOT NULL,
  read_at     TEXT
);
CREATE INDEX notifications_user ON notifications (org_id, user_id, created_at);

-- Who called which tool (or unified execute) when, how it ended and how long it took. Never arguments or secrets.
CREATE TABLE tool_audit_log (
  id            TEXT PRIMARY KEY,
  org_id        TEXT NOT NULL,
  actor         TEXT NOT NULL,           -- the principal (user:<sub>, api_key:<id>, superuser)
  user_id       TEXT NOT NULL,           -- the user acted for (execute's userId)
  via           TEXT NOT NULL,           -- tools.call | tools.stream | automation.execute
  tool          TEXT NOT NULL,
  connection_id TEXT,
  request_id    TEXT,
  started_at    TEXT NOT NULL,
  duration_ms   INTEGER NOT NULL,
  outcome       TEXT NOT NULL,           -- success | error
  http_status   INTEGER,                 -- the vendor's status, when one answered
  error_message TEXT
);
CREATE INDEX tool_audit_org ON tool_audit_log (org_id, started_at);
