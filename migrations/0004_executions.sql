-- Executions: the D1 index of runs. Per-action detail lives in each ExecutionObject's own storage;
-- this row is written in one batch when the execution's status changes (start, wait, pause, finish).
CREATE TABLE executions (
  id                  TEXT PRIMARY KEY,
  org_id              TEXT NOT NULL,
  flow_id             TEXT NOT NULL,
  flow_name           TEXT NOT NULL,
  flow_version        INTEGER NOT NULL,
  entity_id           TEXT NOT NULL,
  status              TEXT NOT NULL,
  current_action_id   TEXT,
  trigger_type        TEXT,
  actions_total       INTEGER NOT NULL DEFAULT 0,
  actions_executed    INTEGER NOT NULL DEFAULT 0,
  actions_failed      INTEGER NOT NULL DEFAULT 0,
  actions_skipped     INTEGER NOT NULL DEFAULT 0,
  actions_summary     TEXT NOT NULL DEFAULT '[]', -- JSON [{id, type, name, execution_status}] as of the last status change
  last_error          TEXT,                       -- JSON ErrorOutput
  parent_execution_id TEXT,
  depth               INTEGER NOT NULL DEFAULT 0,
  bulk_job_id         TEXT,
  seq                 INTEGER NOT NULL DEFAULT 0, -- the object's state sequence: older writes never overwrite newer ones
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  started_at          TEXT,
  finished_at         TEXT
);
CREATE INDEX executions_org_created ON executions (org_id, created_at);
CREATE INDEX executions_org_flow ON executions (org_id, flow_id, created_at);
CREATE INDEX executions_org_entity ON executions (org_id, entity_id, created_at);
CREATE INDEX executions_status_updated ON executions (status, updated_at);

-- Idempotency-Key header of API starts: the same key within its window returns the same execution.
CREATE TABLE idempotency_keys (
  org_id       TEXT NOT NULL,
  scope        TEXT NOT NULL,
  key          TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  created_at   INTEGER NOT NULL, -- ms
  PRIMARY KEY (org_id, scope, key)
);

-- The state sequence whose finish was counted in the flow's statistics: makes counting idempotent.
ALTER TABLE executions ADD COLUMN stats_seq INTEGER NOT NULL DEFAULT -1;
