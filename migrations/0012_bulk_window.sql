-- Bulk jobs start their executions through a window (LIMITS.BULK_MAX_IN_FLIGHT): an execution counts
-- against it from its start until it ends or waits (a delay, a schedule, a pause), so a job of a flow that
-- waits for days does not hold the window. `items_waiting` counts the items waiting now; their
-- execution_status is then the execution's own (`scheduled` or `paused`).
ALTER TABLE bulk_jobs ADD COLUMN items_waiting INTEGER NOT NULL DEFAULT 0;
-- The per-minute reconciliation looks for jobs that stopped moving in a status that needs a message. On the
-- status alone: updated_at changes with every item that ends, and an index on it would be written each time.
CREATE INDEX bulk_jobs_status ON bulk_jobs (status);
