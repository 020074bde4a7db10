-- Where each paged sweep of the per-minute reconciliation stopped, so the next run goes on from there and
-- no row starves behind the first batch (src/services/reconcile.ts). Global bookkeeping: no org_id.
-- A sweep pages in (updated_at, id) order through the executions_status_updated index; an absent row, or
-- a null position, means "start from the beginning" (the sweep wraps around when it reaches the end).
CREATE TABLE reconcile_cursors (
  name          TEXT PRIMARY KEY, -- the sweep: 'executions.running', 'executions.scheduled'
  after_updated TEXT,             -- the last row checked: its updated_at ...
  after_id      TEXT,             -- ... and id
  updated_at    TEXT NOT NULL
);
