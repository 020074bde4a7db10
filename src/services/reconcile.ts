import type { Env } from "../env";
import { isoNow } from "../lib/time";
import { LIMITS } from "../lib/limits";
import { listStaleExecutions, markExecutionLost, pruneExecutions, pruneIdempotencyKeys } from "../store/executions";
import { executionStub } from "./executions";
import { pruneInbox } from "../store/event-inbox";

/** How long a settled event stays in the inbox: far longer than a message can be retried. */
export const INBOX_RETENTION_MS = 7 * 86_400_000;

/** An unfinished execution whose summary has not changed for this long is checked for a live alarm. */
export const STALE_EXECUTION_MS = 10 * 60_000;
/** Most executions checked per scheduled run (keeps the handler short). */
export const RECONCILE_BATCH = 100;

/**
 * Runs a prune statement until it deletes less than a batch, at most PRUNE_MAX_BATCHES times: a busy
 * engine finishes more than one batch a minute, and a prune that fell behind catches up over a few runs.
 */
async function pruneAll(prune: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < LIMITS.PRUNE_MAX_BATCHES; i++) {
    const n = await prune(LIMITS.PRUNE_BATCH);
    total += n;
    if (n < LIMITS.PRUNE_BATCH) break;
  }
  return total;
}

export interface ReconcileReport {
  checked: number;
  rearmed: string[];
  lost: string[];
  /** Finished executions deleted from D1. */
  pruned: number;
  /** Idempotency keys past their 24 hours and settled events past INBOX_RETENTION_MS. */
  pruned_keys: number;
  pruned_events: number;
}

/**
 * The per-minute reconciliation of executions: re-arms unfinished executions that lost their alarm,
 * marks as failed index rows whose object never received the execution, and prunes finished
 * executions older than the retention setting from D1 (objects prune their own storage).
 */
export async function reconcileExecutions(env: Env, now: number): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, rearmed: [], lost: [], pruned: 0, pruned_keys: 0, pruned_events: 0 };
  const stale = await listStaleExecutions(env.DB, isoNow(now - STALE_EXECUTION_MS), RECONCILE_BATCH);
  for (const row of stale) {
    report.checked++;
    const found = await executionStub(env, row.id).ensureAlarm();
    if (found === "rearmed") report.rearmed.push(row.id);
    if (found === "missing") {
      await markExecutionLost(env.DB, row.id, isoNow(now));
      report.lost.push(row.id);
    }
  }
  const days = Number(env.EXECUTION_RETENTION_DAYS) || 30;
  report.pruned = await pruneAll((n) => pruneExecutions(env.DB, isoNow(now - days * 86_400_000), n));
  report.pruned_keys = await pruneAll((n) => pruneIdempotencyKeys(env.DB, now - LIMITS.IDEMPOTENCY_WINDOW_MS, n));
  // Settled events are only needed while a late copy of their message may still be delivered.
  report.pruned_events = await pruneAll((n) => pruneInbox(env.DB, isoNow(now - INBOX_RETENTION_MS), n));
  return report;
}
