-- Foundation: API keys, flows (+ their trigger index and encrypted trigger secrets), records.
-- Every row carries org_id and every query filters on it.

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,           -- first characters of the key, shown in listings
  key_hash     TEXT NOT NULL UNIQUE,    -- SHA-256 hex of the whole key; the key itself is never stored
  scopes       TEXT NOT NULL,           -- JSON array of scope strings
  created_at   TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at   TEXT
);
CREATE INDEX api_keys_org ON api_keys (org_id, created_at);

CREATE TABLE flows (
  id                   TEXT PRIMARY KEY,
  org_id               TEXT NOT NULL,
  flow_name            TEXT NOT NULL,
  enabled              INTEGER NOT NULL DEFAULT 1,
  entity_schema        TEXT,
  doc                  TEXT NOT NULL,   -- the flow document as JSON (server-set fields live in columns)
  version              INTEGER NOT NULL DEFAULT 1,
  runs                 INTEGER NOT NULL DEFAULT 0,
  success_count        INTEGER NOT NULL DEFAULT 0,
  failure_count        INTEGER NOT NULL DEFAULT 0,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  last_run_at          TEXT,
  disable_details      TEXT,            -- JSON or NULL
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL,
  created_by           TEXT NOT NULL,
  last_updated_by      TEXT NOT NULL
);
CREATE INDEX flows_org ON flows (org_id, created_at);
CREATE INDEX flows_org_schema ON flows (org_id, entity_schema);

-- One row per trigger of a flow: lets the trigger matcher find candidate flows by
-- (org, trigger type, source key) without scanning all flows.
CREATE TABLE flow_triggers (
  org_id       TEXT NOT NULL,
  flow_id      TEXT NOT NULL,
  trigger_id   TEXT NOT NULL,
  trigger_type TEXT NOT NULL,
  source_key   TEXT NOT NULL DEFAULT '', -- e.g. the entity schema, the webhook path, the source id
  enabled      INTEGER NOT NULL,
  PRIMARY KEY (flow_id, trigger_id)
);
CREATE INDEX flow_triggers_match ON flow_triggers (org_id, trigger_type, source_key, enabled);

-- Secrets of triggers (webhook signing secrets), encrypted with AES-GCM; never returned by the API.
CREATE TABLE flow_secrets (
  org_id     TEXT NOT NULL,
  flow_id    TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  key_id     TEXT NOT NULL,
  ciphertext TEXT NOT NULL,             -- base64(iv || ciphertext+tag)
  created_at TEXT NOT NULL,
  PRIMARY KEY (flow_id, trigger_id)
);

CREATE TABLE records (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL,
  schema     TEXT NOT NULL,
  title      TEXT,
  tags       TEXT NOT NULL DEFAULT '[]', -- JSON array
  data       TEXT NOT NULL,              -- JSON object of the record's attributes (without _ fields)
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  created_by TEXT
);
CREATE INDEX records_org_schema ON records (org_id, schema, created_at);
