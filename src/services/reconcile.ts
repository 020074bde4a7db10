import type { Env } from "../env";
import { isoNow } from "../lib/time";
import { listStaleExecutions, markExecutionLost, pruneExecutions } from "../store/executions";
import { executionStub } from "./executions";
import { pruneInbox } from "../store/event-inbox";

/** How long a settled event stays in the inbox: far longer than a message can be retried. */
export const INBOX_RETENTION_MS = 7 * 86_400_000;

/** An unfinished execution whose summary has not changed for this long is checked for a live alarm. */
export const STALE_EXECUTION_MS = 10 * 60_000;
/** Most executions checked, and most rows pruned, per scheduled run (keeps the handler short). */
export const RECONCILE_BATCH = 100;

export interface ReconcileReport {
  checked: number;
  rearmed: string[];
  lost: string[];
  pruned: number;
}

/**
 * The per-minute reconciliation of executions: re-arms unfinished executions that lost their alarm,
 * marks as failed index rows whose object never received the execution, and prunes finished
 * executions older than the retention setting from D1 (objects prune their own storage).
 */
export async function reconcileExecutions(env: Env, now: number): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, rearmed: [], lost: [], pruned: 0 };
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
  report.pruned = await pruneExecutions(env.DB, isoNow(now - days * 86_400_000), RECONCILE_BATCH);
  // Settled events are only needed while a late copy of their message may still be delivered.
  await pruneInbox(env.DB, isoNow(now - INBOX_RETENTION_MS), RECONCILE_BATCH);
  return report;
}
