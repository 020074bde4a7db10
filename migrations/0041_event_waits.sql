-- wait_for_event (docs/flow-control.md, src/store/event-waits.ts). Waits are found by an index on
-- (event name, match key) — `<event_path>=<value>`, or '' for a wait on every event of the name — never
-- by scanning waiting executions.

-- One row per spec of a waiting action, from its start until it matches, times out or is cancelled.
CREATE TABLE event_waits (
  execution_id TEXT NOT NULL,
  action_id    TEXT NOT NULL,
  spec_index   INTEGER NOT NULL,
  org_id       TEXT NOT NULL,
  event_name   TEXT NOT NULL,
  event_path   TEXT NOT NULL, -- '' for an uncorrelated spec
  match_key    TEXT NOT NULL,
  since        INTEGER NOT NULL, -- ms: events accepted before it do not count (the wait's lookback)
  expires_at   INTEGER NOT NULL, -- ms: the wait's timeout
  PRIMARY KEY (execution_id, action_id, spec_index)
);
CREATE INDEX event_waits_match ON event_waits (org_id, event_name, match_key);
CREATE INDEX event_waits_path ON event_waits (org_id, event_name, event_path);
CREATE INDEX event_waits_expires ON event_waits (expires_at);

-- The (event name, path) pairs some wait correlates on: kept from the flows' wait_for_event actions on
-- every flow write (and by each registered wait), so an event's match keys are computed for those paths only.
CREATE TABLE event_wait_paths (
  org_id     TEXT NOT NULL,
  event_name TEXT NOT NULL,
  event_path TEXT NOT NULL, -- '' for an uncorrelated spec
  flow_id    TEXT NOT NULL,
  PRIMARY KEY (org_id, event_name, event_path, flow_id)
);
CREATE INDEX event_wait_paths_flow ON event_wait_paths (org_id, flow_id);

-- The match keys of recent events whose name some wait names, for `lookback`: the event's body is in
-- event_inbox (kept LIMITS.INBOX_RETENTION_MS, the longest lookback).
CREATE TABLE event_history (
  org_id     TEXT NOT NULL,
  event_name TEXT NOT NULL,
  match_key  TEXT NOT NULL,
  event_id   TEXT NOT NULL,
  at         INTEGER NOT NULL, -- ms: when the event was accepted
  PRIMARY KEY (org_id, event_id, match_key)
);
CREATE INDEX event_history_match ON event_history (org_id, event_name, match_key, at);
CREATE INDEX event_history_at ON event_history (at);
