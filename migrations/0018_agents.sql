-- Arrotech agents: a flow run on a schedule (or by hand) with its own configuration. The schedule itself lives in
-- the agent's FlowScheduleObject (idFromName('agent:' || id)); this row is the truth its alarm checks before firing.
CREATE TABLE agents (
  id               TEXT PRIMARY KEY,
  org_id           TEXT NOT NULL,
  flow_id          TEXT NOT NULL,
  name             TEXT NOT NULL,
  template_id      TEXT,
  agent_config     TEXT NOT NULL DEFAULT '{}', -- JSON object, passed to each run as variables
  schedule_config  TEXT,                       -- JSON {interval | cron, timezone?, catch_up}, null = manual only
  status           TEXT NOT NULL,              -- active | paused
  last_error       TEXT,                       -- the last fire that could not start a run (flow disabled or deleted)
  last_error_at    TEXT,
  fire_error_count INTEGER NOT NULL DEFAULT 0,
  created_by       TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX agents_org_created ON agents (org_id, created_at);

-- One row per execution an agent started: status and analytics join it to `executions`. Deleting an agent
-- deletes these rows, never the executions.
CREATE TABLE agent_runs (
  org_id       TEXT NOT NULL,
  agent_id     TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  source       TEXT NOT NULL, -- schedule | manual
  scheduled_at TEXT,          -- the schedule instant a scheduled run was for
  run_at       TEXT NOT NULL, -- when the agent started it (the scheduler's clock for scheduled runs)
  PRIMARY KEY (agent_id, execution_id)
);
CREATE INDEX agent_runs_org_agent_run_at ON agent_runs (org_id, agent_id, run_at);
