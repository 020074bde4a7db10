import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import { listScheduledAgents, type ScheduledAgentRow } from "../store/agents";
import { agentScheduleClient } from "./object-clients";

/** Agent schedule objects checked at the same time. */
const PARALLEL = 10;

export interface AgentReconcileReport {
  checked: number;
  rearmed: string[];
  failed: string[];
}

/**
 * The per-minute reconciliation of agent schedules, like reconcileSchedules for flows: every agent with a
 * schedule must have an object holding that schedule and pause state, and an active one a live alarm (a sync
 * that failed on create, schedule, pause or resume is repaired here). A batch of SCHEDULE_RECONCILE_BATCH from a
 * random agent id, wrapping around. Deleted agents are not listed: their objects clear themselves at their next alarm.
 */
export async function reconcileAgentSchedules(env: Env, start: string = crypto.randomUUID()): Promise<AgentReconcileReport> {
  const report: AgentReconcileReport = { checked: 0, rearmed: [], failed: [] };
  const head = await listScheduledAgents(env.DB, { gte: start }, LIMITS.SCHEDULE_RECONCILE_BATCH);
  const rest =
    head.length < LIMITS.SCHEDULE_RECONCILE_BATCH && start !== ""
      ? await listScheduledAgents(env.DB, { lt: start }, LIMITS.SCHEDULE_RECONCILE_BATCH - head.length)
      : [];
  const rows = [...head, ...rest];
  for (let i = 0; i < rows.length; i += PARALLEL) {
    await Promise.all(rows.slice(i, i + PARALLEL).map((row) => checkOne(env, row, report)));
  }
  return report;
}

async function checkOne(env: Env, row: ScheduledAgentRow, report: AgentReconcileReport): Promise<void> {
  report.checked++;
  try {
    const fixed = await agentScheduleClient(env, row.id).ensureAgentArmed({
      org_id: row.org_id,
      agent_id: row.id,
      config: row.schedule_config,
      paused: row.status === "paused",
    });
    if (fixed) report.rearmed.push(row.id);
  } catch (err) {
    console.error(`schedule reconcile of agent ${row.id} failed`, err instanceof Error ? err.message : String(err));
    report.failed.push(row.id);
  }
}
