-- A retriggered execution finishes more than once; the flow statistics and the circuit breaker count it once, as its
-- latest outcome (store/flow-stats.ts): `counted_status` is the final status it was last counted as (NULL: never).
ALTER TABLE executions ADD COLUMN counted_status TEXT;
