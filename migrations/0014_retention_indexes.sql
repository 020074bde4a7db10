-- The scheduled handler prunes by age; this lets it find old idempotency keys without scanning the table
-- (finished executions are found through executions_status_updated, settled events through
-- event_inbox_created).
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
