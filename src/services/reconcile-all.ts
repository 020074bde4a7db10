import type { Env } from "../env";
import { reconcileExecutions, type ReconcileReport } from "./reconcile";
import { reconcileAdmissions, type AdmissionRepair } from "./reconcile-admission";
import { reconcileAgentSchedules, type AgentReconcileReport } from "./reconcile-agents";
import { reconcileBulkJobs, type BulkReconcileReport } from "./reconcile-bulk-jobs";
import { reconcileEvents, type EventReconcileReport } from "./reconcile-events";
import { reconcileSchedules, type ScheduleReconcileReport } from "./reconcile-schedules";
import { runStep, type ReconcileError } from "./reconcile-step";

/** What one run of the scheduled handler did; a part is absent when its step failed (see `errors`). */
export interface ReconciliationReport {
  executions?: ReconcileReport;
  admissions?: AdmissionRepair;
  events?: EventReconcileReport;
  schedules?: ScheduleReconcileReport;
  agent_schedules?: AgentReconcileReport;
  bulk_jobs?: BulkReconcileReport;
  /** Steps that failed as a whole; failures inside a step are in that step's own report. */
  errors: ReconcileError[];
}

/**
 * The scheduled handler's work, every minute: executions (lost alarms, lost executions, retention),
 * the admission queue (slots of `concurrency_limit`, waiting executions), events never processed, cron
 * schedules, stalled bulk jobs. Each runs even when another failed, and what each fixed (or failed on)
 * is logged.
 */
export async function reconcileAll(env: Env, now: number): Promise<ReconciliationReport> {
  const report: ReconciliationReport = { errors: [] };
  await runStep(report.errors, "executions", async () => {
    const r = (report.executions = await reconcileExecutions(env, now));
    if (
      r.rearmed.length ||
      r.lost.length ||
      r.pruned ||
      r.pruned_keys ||
      r.pruned_events ||
      r.pruned_deliveries ||
      r.errors.length
    )
      console.log("reconcile", JSON.stringify(r));
  });
  await runStep(report.errors, "admissions", async () => {
    const r = (report.admissions = await reconcileAdmissions(env, now));
    if (r.restarted.length || r.released || r.promoted.length || r.cancels_settled.length || r.pruned || r.errors.length)
      console.log("reconcile-admissions", JSON.stringify(r));
  });
  await runStep(report.errors, "events", async () => {
    const r = (report.events = await reconcileEvents(env, now));
    if (r.resent || r.dead.length) console.log("reconcile-events", JSON.stringify(r));
  });
  await runStep(report.errors, "schedules", async () => {
    const r = (report.schedules = await reconcileSchedules(env));
    if (r.rearmed.length || r.failed.length) console.log("reconcile-schedules", JSON.stringify(r));
  });
  await runStep(report.errors, "agent_schedules", async () => {
    const r = (report.agent_schedules = await reconcileAgentSchedules(env));
    if (r.rearmed.length || r.failed.length) console.log("reconcile-agent-schedules", JSON.stringify(r));
  });
  await runStep(report.errors, "bulk_jobs", async () => {
    const r = (report.bulk_jobs = await reconcileBulkJobs(env, now));
    if (r.resent.length || r.errors.length) console.log("reconcile-bulk-jobs", JSON.stringify(r));
  });
  return report;
}
