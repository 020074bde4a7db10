-- Bulk reruns (docs/reruns.md): the failed (or other ended) executions of a flow rerun as a job with approval,
-- like bulk jobs. The job keeps its selection filter, the rerun it applies, and the preview's totals computed
-- before anything is sent; each selected execution is a row of bulk_rerun_items.
CREATE TABLE bulk_reruns (
  id               TEXT PRIMARY KEY,
  org_id           TEXT NOT NULL,
  flow_id          TEXT NOT NULL,
  status           TEXT NOT NULL,            -- approval running finished cancelled failed
  created_by       TEXT NOT NULL,
  task_token_hash  TEXT NOT NULL,            -- SHA-256 of the task token; the token itself is only returned at creation
  filter           TEXT NOT NULL,            -- JSON: status, created_after, created_before, error_code, action_id
  retry_strategy   TEXT NOT NULL,
  from_action_id   TEXT,                     -- rerun from this action; NULL: each execution's failed action
  reuse_outputs    TEXT NOT NULL DEFAULT '[]', -- JSON list of action ids
  preview          TEXT NOT NULL,            -- JSON: totals of the previews (executions, effects per target)
  page_size        INTEGER NOT NULL,
  items_total      INTEGER NOT NULL,
  error            TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  approved_at      TEXT,
  finished_at      TEXT
);
CREATE INDEX bulk_reruns_org_created ON bulk_reruns (org_id, created_at);
CREATE INDEX bulk_reruns_status ON bulk_reruns (status);

CREATE TABLE bulk_rerun_items (
  job_id        TEXT NOT NULL,
  seq           INTEGER NOT NULL,              -- position in the job: pages of retriggers
  org_id        TEXT NOT NULL,
  execution_id  TEXT NOT NULL,
  action_id     TEXT NOT NULL,                 -- the action the execution is rerun from
  status        TEXT NOT NULL,                 -- pending starting retriggered refused failed cancelled
  effects       INTEGER NOT NULL DEFAULT 0,    -- effects its preview said the rerun would send
  error         TEXT,
  updated_at    TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
