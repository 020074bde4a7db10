import type { ExecutionState } from "../engine/execution/types";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { summaryStatement } from "./executions";

/**
 * The D1 write of a finished execution, in one batch: the flow statistics (and, for a failure, the
 * circuit breaker), then the summary row, which records that the finish was counted. Order matters:
 * the counting statements skip an execution whose row already says it was counted (a replay).
 */
export function finishBatch(db: D1Database, s: ExecutionState): D1PreparedStatement[] {
  const [stats, breaker, triggers] = finishStatements(db, s);
  // Only a failure can open the breaker; success and cancellation skip its two statements.
  return [stats, ...(s.status === "failed" ? [breaker, triggers] : []), summaryStatement(db, s, true)];
}

/**
 * Statements that count a finished execution in its flow's statistics and open the circuit breaker
 * after too many consecutive failures. Run before the summary upsert (counted) in the same batch; counting
 * is idempotent per state sequence (`executions.stats_seq`), so replaying the outbox counts nothing twice.
 * An execution counts once whatever its number of finishes (a retrigger finishes it again): a later finish
 * replaces the outcome it was counted as (`executions.counted_status`) instead of adding a run, and a failure
 * already counted as one adds nothing to the consecutive failures the breaker reads.
 */
function finishStatements(db: D1Database, s: ExecutionState): D1PreparedStatement[] {
  const now = isoNow(s.finished_at ?? s.updated_at);
  // The live flow's threshold applies (an edit of error_handling takes effect for running executions too).
  const threshold = `COALESCE(json_extract(doc, '$.error_handling.disable_after_failures'), ${LIMITS.DEFAULT_DISABLE_AFTER_FAILURES})`;
  const notCounted = `NOT EXISTS (SELECT 1 FROM executions WHERE id = ? AND stats_seq >= ?)`;
  // The status this execution was counted as before (NULL: never counted).
  const before = `(SELECT counted_status FROM executions WHERE id = ?)`;
  const reason = s.last_error ? `${s.last_error.error_code}: ${s.last_error.error_reason}` : `Execution ${s.id} failed`;
  return [
    db
      .prepare(
        `UPDATE flows SET runs = runs + (CASE WHEN ${before} IS NULL THEN 1 ELSE 0 END), last_run_at = ?,
           success_count = success_count + (CASE WHEN ? = 'success' THEN 1 ELSE 0 END)
                                         - (CASE WHEN ${before} IS 'success' THEN 1 ELSE 0 END),
           failure_count = failure_count + (CASE WHEN ? = 'failed' THEN 1 ELSE 0 END)
                                         - (CASE WHEN ${before} IS 'failed' THEN 1 ELSE 0 END),
           consecutive_failures = CASE WHEN ? = 'failed' AND ${before} IS 'failed' THEN consecutive_failures
                                       WHEN ? = 'failed' THEN consecutive_failures + 1
                                       WHEN ? = 'success' THEN 0 ELSE consecutive_failures END
         WHERE org_id = ? AND id = ? AND ${notCounted}`,
      )
      .bind(s.id, now, s.status, s.id, s.status, s.id, s.status, s.id, s.status, s.status, s.org_id, s.flow.id, s.id, s.seq),
    db
      .prepare(
        `UPDATE flows SET enabled = 0,
           disable_details = json_object('disabled_at', ?, 'disabled_by', 'system', 'blame', 'system',
             'reason', 'Disabled after ' || consecutive_failures || ' consecutive failed executions', 'last_error', ?, 'execution_id', ?)
         WHERE org_id = ? AND id = ? AND enabled = 1 AND consecutive_failures >= ${threshold} AND ? = 'failed'
           AND ${before} IS NOT 'failed' AND ${notCounted}`,
      )
      .bind(now, reason, s.id, s.org_id, s.flow.id, s.status, s.id, s.id, s.seq),
    db
      .prepare(
        `UPDATE flow_triggers SET enabled = 0 WHERE org_id = ? AND flow_id = ? AND EXISTS (SELECT 1 FROM flows WHERE org_id = ? AND id = ? AND enabled = 0)`,
      )
      .bind(s.org_id, s.flow.id, s.org_id, s.flow.id),
  ];
}
