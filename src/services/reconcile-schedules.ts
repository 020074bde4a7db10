import { scheduleTriggersOf } from "../engine/cron";
import type { Env } from "../env";
import { listScheduledFlows, type ScheduledFlowRow } from "../store/schedules";
import { LIMITS } from "../lib/limits";
import { scheduleClient } from "./object-clients";

/** Schedule objects checked at the same time. */
const PARALLEL = 10;

export interface ScheduleReconcileReport {
  checked: number;
  rearmed: string[];
  failed: string[];
}

/**
 * The per-minute reconciliation of cron schedules: every enabled flow with a schedule trigger must have
 * a schedule object holding the flow's trigger set and a live alarm. A different set is replaced, a lost
 * alarm re-armed. With more flows than one batch, the batch starts at `start` (a random flow id by
 * default) and wraps around, so every flow is checked regularly without a stored cursor. Disabled and
 * deleted flows are not listed: their objects clear themselves at their next alarm.
 */
export async function reconcileSchedules(env: Env, start: string = crypto.randomUUID()): Promise<ScheduleReconcileReport> {
  const report: ScheduleReconcileReport = { checked: 0, rearmed: [], failed: [] };
  const head = await listScheduledFlows(env.DB, { gte: start }, LIMITS.SCHEDULE_RECONCILE_BATCH);
  const rest =
    head.length < LIMITS.SCHEDULE_RECONCILE_BATCH && start !== ""
      ? await listScheduledFlows(env.DB, { lt: start }, LIMITS.SCHEDULE_RECONCILE_BATCH - head.length)
      : [];
  const rows = [...head, ...rest];
  for (let i = 0; i < rows.length; i += PARALLEL) {
    await Promise.all(rows.slice(i, i + PARALLEL).map((row) => checkOne(env, row, report)));
  }
  return report;
}

async function checkOne(env: Env, row: ScheduledFlowRow, report: ScheduleReconcileReport): Promise<void> {
  report.checked++;
  let triggers;
  try {
    triggers = scheduleTriggersOf({ triggers: JSON.parse(row.triggers) as { id: string; type: string }[] });
  } catch {
    report.failed.push(row.flow_id);
    return;
  }
  try {
    const fixed = await scheduleClient(env, row.flow_id).ensureArmed({ org_id: row.org_id, flow_id: row.flow_id, triggers });
    if (fixed) report.rearmed.push(row.flow_id);
  } catch (err) {
    console.error(`schedule reconcile of flow ${row.flow_id} failed`, err instanceof Error ? err.message : String(err));
    report.failed.push(row.flow_id);
  }
}
