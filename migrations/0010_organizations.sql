-- Organizations: ids stay opaque strings and need no registration (credentials name their org). A row
-- here registers an org or records its deletion: a deleted org's API keys are revoked, its flows are
-- disabled, and every API key or JWT naming it is refused with 401. Deleted ids are never reused.
CREATE TABLE organizations (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'active', -- active | deleted
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  deleted_at TEXT,
  deleted_by TEXT
);
