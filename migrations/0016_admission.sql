-- Admission under a flow's concurrency_limit (src/services/admission.ts). One row per execution of a
-- limited flow, from its admission until it reaches a final status: `admitted` (holds a slot, its object
-- may not be started yet), `running` (holds a slot, object started), `waiting` (no slot yet: started in
-- `seq` order when one frees) or `cancelled` (cancelled while waiting; kept so GET still answers, pruned
-- with the executions). `input` is the execution's creation input (NewExecution JSON), so a waiting or
-- interrupted start is never lost. Flows without a limit never write here.
CREATE TABLE admission_queue (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT, -- FIFO order of admission requests
  execution_id  TEXT NOT NULL UNIQUE,
  org_id        TEXT NOT NULL,
  flow_id       TEXT NOT NULL,
  state         TEXT NOT NULL,                     -- waiting | admitted | running | cancelled
  enqueued_at   INTEGER NOT NULL,                  -- ms
  admitted_at   INTEGER,                           -- ms, when it took its slot
  ended_at      INTEGER,                           -- ms, when cancelled while waiting
  cancel_reason TEXT,
  input         TEXT NOT NULL
);
CREATE INDEX admission_queue_flow ON admission_queue (org_id, flow_id, state, seq);
CREATE INDEX admission_queue_state ON admission_queue (state, admitted_at);
