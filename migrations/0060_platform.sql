-- epilot's platform in miniature (docs/platform.md): the resources epilot's action types name by id. Files keep
-- their bytes in R2 (binding FILES, key `<org_id>/<file_id>`), their metadata here. Every row carries org_id
-- and every query filters on it. E-mail threads and messages are records (schemas `email_thread`,
-- `email_message`), not tables of their own.

CREATE TABLE files (
  id            TEXT NOT NULL,
  org_id        TEXT NOT NULL,
  filename      TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  size          INTEGER NOT NULL,
  sha256        TEXT NOT NULL,           -- hex SHA-256 of the bytes
  entity_schema TEXT,                    -- the record the file is attached to (NULL: none)
  entity_id     TEXT,
  tags          TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
  source        TEXT NOT NULL,           -- upload | document | email
  created_by    TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX files_org_entity ON files (org_id, entity_id, created_at);
CREATE INDEX files_org_created ON files (org_id, created_at, id);

CREATE TABLE webhook_targets (
  id           TEXT NOT NULL,
  org_id       TEXT NOT NULL,
  name         TEXT NOT NULL,
  url          TEXT NOT NULL,
  auth_type    TEXT NOT NULL,            -- none | basic | bearer | api_key | standard_webhooks
  auth_public  TEXT NOT NULL DEFAULT '{}', -- JSON: the auth's non-secret fields (username, header)
  headers      TEXT NOT NULL DEFAULT '{}', -- JSON: extra request headers
  key_id       TEXT,                     -- key that sealed `ciphertext` (NULL without a secret)
  ciphertext   TEXT,                     -- AES-GCM blob of the auth's secret (password, token, key or signing secret)
  created_by   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX webhook_targets_org ON webhook_targets (org_id, created_at);

CREATE TABLE email_templates (
  id          TEXT NOT NULL,
  org_id      TEXT NOT NULL,
  name        TEXT NOT NULL,
  languages   TEXT NOT NULL,             -- JSON: {"en": {"subject", "body_html"}, "de": {...}}
  created_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX email_templates_org ON email_templates (org_id, created_at);

CREATE TABLE document_templates (
  id          TEXT NOT NULL,
  org_id      TEXT NOT NULL,
  name        TEXT NOT NULL,
  format      TEXT NOT NULL,             -- markdown | html
  content     TEXT NOT NULL,             -- Liquid over Markdown or the HTML subset
  created_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX document_templates_org ON document_templates (org_id, created_at);

CREATE TABLE inboxes (
  id          TEXT NOT NULL,
  org_id      TEXT NOT NULL,
  name        TEXT NOT NULL,
  address     TEXT,                      -- the address mail to this inbox arrives at (informational; replies come from it)
  created_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX inboxes_org ON inboxes (org_id, created_at);

-- One row per side that asked: a partnership is active when both (a, b) and (b, a) exist.
CREATE TABLE partnerships (
  org_id          TEXT NOT NULL,
  partner_org_id  TEXT NOT NULL,
  created_by      TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  PRIMARY KEY (org_id, partner_org_id)
);
CREATE INDEX partnerships_partner ON partnerships (partner_org_id, org_id);

-- Records shared read-only with a partner by trigger-share-entity; the partner reads the live record.
CREATE TABLE shared_entities (
  org_id          TEXT NOT NULL,         -- the owner
  partner_org_id  TEXT NOT NULL,
  entity_id       TEXT NOT NULL,
  entity_schema   TEXT NOT NULL,
  shared_by       TEXT NOT NULL,         -- automation:<execution id>
  shared_at       TEXT NOT NULL,
  PRIMARY KEY (org_id, partner_org_id, entity_id)
);
CREATE INDEX shared_entities_partner ON shared_entities (partner_org_id, shared_at);

CREATE TABLE mapping_configs (
  id             TEXT NOT NULL,
  org_id         TEXT NOT NULL,
  name           TEXT NOT NULL,
  source_schema  TEXT NOT NULL,
  targets        TEXT NOT NULL,          -- JSON: [{id, target_schema, mapping_attributes, relation_attributes, ...}]
  version        INTEGER NOT NULL DEFAULT 1,
  created_by     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX mapping_configs_org ON mapping_configs (org_id, created_at);
