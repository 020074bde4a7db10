import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import {
  flowsWithWaiting,
  listCancelRequested,
  listUnconfirmedAdmissions,
  listUnsettledCancels,
  pruneCancelledAdmissions,
  releaseOrphanSlots,
} from "../store/admission";
import { pruneEventHistory, pruneExpiredWaits, pruneOrphanWaitPaths } from "../store/event-waits";
import { flowsWithDueWork, pruneGroups, pruneRateState } from "../store/flow-control";
import { admitWaiting, cancelHolder, startAdmitted } from "./admission-queue";
import { runFlowControl } from "./flow-control";
import { settleCancelled } from "./queued-executions";
import { runStep, type ReconcileError } from "./reconcile-step";

export interface AdmissionRepair {
  /** Admitted executions whose start was never confirmed, started again. */
  restarted: string[];
  /** Slots held by executions already final, released. */
  released: number;
  /** Waiting executions started because their flow had a free slot. */
  promoted: string[];
  /** Cancels of waiting executions whose index row was not written yet, written. */
  cancels_settled: string[];
  /** Holders a singleton `cancel_previous` asked to cancel that still hold their slot, asked again. */
  cancels_requested: string[];
  /** Flows whose flow-control alarm was overdue (debounce, batch, throttle), run here. */
  flow_control: string[];
  /** Rows past their retention deleted: cancelled and skipped starts, done groups, rate state, event keys, expired waits. */
  pruned: number;
  /** Steps or items that failed; the others ran all the same. */
  errors: ReconcileError[];
}

/**
 * The per-minute repair of the admission queue and flow control (called by reconcile-all.ts): whatever a
 * process that died mid-way left behind — a slot taken but its object never started, a finish that never
 * released its slot, a release that never promoted, a cancel that never wrote its summary, a singleton
 * cancel never made, a flow-control alarm lost — is finished here. Each step (and each item) is
 * idempotent and runs even when another failed; failures are in `errors`.
 */
export async function reconcileAdmissions(env: Env, now: number): Promise<AdmissionRepair> {
  const report: AdmissionRepair = {
    restarted: [],
    released: 0,
    promoted: [],
    cancels_settled: [],
    cancels_requested: [],
    flow_control: [],
    pruned: 0,
    errors: [],
  };
  const batch = LIMITS.ADMISSION_RECONCILE_BATCH;
  const grace = LIMITS.FLOW_CONTROL_FLUSH_GRACE_MS;
  const step = (name: string, fn: () => Promise<void>, id?: string) => runStep(report.errors, name, fn, id);
  await step("restart", async () => {
    for (const row of await listUnconfirmedAdmissions(env.DB, now - LIMITS.ADMISSION_START_GRACE_MS, batch)) {
      await step(
        "restart",
        async () => {
          await startAdmitted(env, row);
          report.restarted.push(row.execution_id);
        },
        row.execution_id,
      );
    }
  });
  await step("release", async () => {
    report.released = (await releaseOrphanSlots(env.DB, batch)).length;
  });
  // After the release: the flows it freed are among those with waiting starts.
  await step("promote", async () => {
    for (const f of await flowsWithWaiting(env.DB, now, batch)) {
      await step(
        "promote",
        async () => void report.promoted.push(...(await admitWaiting(env, f.org_id, f.flow_id, now))),
        f.flow_id,
      );
    }
  });
  await step("cancels", async () => {
    for (const row of await listUnsettledCancels(env.DB, batch)) {
      await step(
        "cancels",
        async () => {
          await settleCancelled(env, row);
          report.cancels_settled.push(row.execution_id);
        },
        row.execution_id,
      );
    }
  });
  await step("cancel_requests", async () => {
    for (const row of await listCancelRequested(env.DB, now - grace, batch)) {
      await cancelHolder(env, row.org_id, row.execution_id, row.k3 ?? "");
      report.cancels_requested.push(row.execution_id);
    }
  });
  await step("flow_control", async () => {
    for (const f of await flowsWithDueWork(env.DB, now, grace, batch)) {
      await step(
        "flow_control",
        async () => {
          await runFlowControl(env, f.org_id, f.flow_id, now);
          report.flow_control.push(f.flow_id);
        },
        f.flow_id,
      );
    }
  });
  await step("prune", async () => {
    const days = Number(env.EXECUTION_RETENTION_DAYS) || LIMITS.EXECUTION_RETENTION_DAYS_DEFAULT;
    const db = env.DB;
    const n = LIMITS.PRUNE_BATCH;
    report.pruned += await pruneCancelledAdmissions(db, now - days * 86_400_000, n);
    report.pruned += await pruneGroups(db, now - LIMITS.FLOW_CONTROL_MEMBER_RETENTION_MS, n);
    // A tat in the past says what an absent one says (MAX(tat, now) = now): the row can go.
    report.pruned += await pruneRateState(db, now - 60_000, n);
    report.pruned += await pruneEventHistory(db, now - LIMITS.MAX_WAIT_LOOKBACK_MS, n);
    report.pruned += await pruneExpiredWaits(db, now - 86_400_000, n);
    report.pruned += await pruneOrphanWaitPaths(db, n);
  });
  return report;
}
