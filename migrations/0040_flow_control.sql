-- Flow control (docs/flow-control.md, src/services/admission.ts). The admission queue of 0016 becomes the
-- line of every start of a flow with concurrency bounds, a throttle, a rate limit or a singleton: each row
-- carries the rendered keys of its bounds and is counted only against rows of the same key.
--   k1, k2: keys of the flow's first and second concurrency bound (NULL: the bound does not apply);
--   l1, l2: their limits when the start was admitted (the live flow's limit wins while the flow exists);
--   k3:     the singleton key (a bound of 1);
--   priority: higher waiting starts are promoted first, FIFO (seq) within a level;
--   not_before: a throttled start waits until then (ms; 0: no throttle);
--   cancel_requested_at: a singleton `cancel_previous` start asked this holder to cancel (the
--   reconciliation finishes a cancel whose caller died);
--   reason: why a start was `skipped` (rate_limit, singleton) — a state of its own, kept like `cancelled`.
-- New state `deciding`: only inside the admission batch that inserts the row.
ALTER TABLE admission_queue ADD COLUMN k1 TEXT;
ALTER TABLE admission_queue ADD COLUMN k2 TEXT;
ALTER TABLE admission_queue ADD COLUMN k3 TEXT;
ALTER TABLE admission_queue ADD COLUMN l1 INTEGER;
ALTER TABLE admission_queue ADD COLUMN l2 INTEGER;
ALTER TABLE admission_queue ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE admission_queue ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
ALTER TABLE admission_queue ADD COLUMN cancel_requested_at INTEGER;
ALTER TABLE admission_queue ADD COLUMN reason TEXT;
-- Rows of 0016 all belong to flows with a concurrency_limit: the keyless first bound.
UPDATE admission_queue SET k1 = '', l1 = json_extract(input, '$.flow.concurrency_limit') WHERE k1 IS NULL;
CREATE INDEX admission_queue_k1 ON admission_queue (org_id, flow_id, k1, state) WHERE k1 IS NOT NULL;
CREATE INDEX admission_queue_k2 ON admission_queue (org_id, flow_id, k2, state) WHERE k2 IS NOT NULL;
CREATE INDEX admission_queue_k3 ON admission_queue (org_id, flow_id, k3, state) WHERE k3 IS NOT NULL;
-- The reconciliation's look for throttled starts whose time came (a lost alarm).
CREATE INDEX admission_queue_due ON admission_queue (not_before) WHERE state = 'waiting' AND not_before > 0;

-- Throttle and rate_limit: one theoretical arrival time (GCRA, engine/flow-control/rates.ts) per key.
CREATE TABLE flow_control_state (
  org_id     TEXT NOT NULL,
  flow_id    TEXT NOT NULL,
  kind       TEXT NOT NULL,    -- throttle | rate_limit
  key        TEXT NOT NULL,
  tat        INTEGER NOT NULL, -- ms
  updated_at INTEGER NOT NULL, -- ms
  PRIMARY KEY (org_id, flow_id, kind, key)
);
CREATE INDEX flow_control_state_tat ON flow_control_state (tat);

-- Debounce and batch: the events of a key collect in a group until it is due (or full); then one
-- execution starts with them. At most one `open` group per (flow, kind, key).
--   state: open | full (max_size reached: flushed at once) | flushing (being started; a flush that died is
--   taken again after LIMITS.FLOW_CONTROL_FLUSH_GRACE_MS) | done
--   execution_id: derived from the group id, so a flush done twice starts one execution.
CREATE TABLE flow_control_groups (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL,
  flow_id      TEXT NOT NULL,
  kind         TEXT NOT NULL, -- debounce | batch
  key          TEXT NOT NULL,
  state        TEXT NOT NULL,
  opened_at    INTEGER NOT NULL,
  last_at      INTEGER NOT NULL,
  due_at       INTEGER NOT NULL,
  size         INTEGER NOT NULL DEFAULT 0,
  keep         TEXT NOT NULL,  -- all: the execution gets every event (trigger_events) | last: only the newest
  execution_id TEXT,
  flushed_at   INTEGER
);
CREATE UNIQUE INDEX flow_control_groups_open ON flow_control_groups (org_id, flow_id, kind, key) WHERE state = 'open';
CREATE INDEX flow_control_groups_flow ON flow_control_groups (org_id, flow_id, state, due_at);
CREATE INDEX flow_control_groups_due ON flow_control_groups (state, due_at);

-- The events of a group. member_id is the execution id the event would have started on its own (derived
-- from its event id), so a redelivered event is recognised and joins nothing twice. `input` is the start
-- it would have been (NewExecution JSON); a debounce in `last` mode keeps only the newest.
CREATE TABLE flow_control_members (
  member_id TEXT PRIMARY KEY,
  group_id  TEXT NOT NULL,
  org_id    TEXT NOT NULL,
  flow_id   TEXT NOT NULL,
  at        INTEGER NOT NULL,
  input     TEXT
);
CREATE INDEX flow_control_members_group ON flow_control_members (group_id);

-- correlation_key (a flow's template, rendered per start; inherited by trigger-workflow children).
ALTER TABLE executions ADD COLUMN correlation_key TEXT;
CREATE INDEX executions_org_correlation ON executions (org_id, correlation_key, created_at) WHERE correlation_key IS NOT NULL;
