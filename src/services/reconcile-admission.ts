import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import {
  flowsWithRoom,
  listUnconfirmedAdmissions,
  listUnsettledCancels,
  pruneCancelledAdmissions,
  releaseOrphanSlots,
} from "../store/admission";
import { admitWaiting, startAdmitted } from "./admission";
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
  /** Cancelled-while-waiting rows past the retention, deleted. */
  pruned: number;
  /** Steps or items that failed; the others ran all the same. */
  errors: ReconcileError[];
}

/**
 * The per-minute repair of the admission queue (called by reconcile-all.ts): whatever a process that died
 * mid-way left behind — a slot taken but its object never started, a finish that never released its
 * slot, a release that never promoted, a cancel that never wrote its summary — is finished here. Each
 * step (and each item) is idempotent and runs even when another failed; failures are in `errors`.
 */
export async function reconcileAdmissions(env: Env, now: number): Promise<AdmissionRepair> {
  const report: AdmissionRepair = { restarted: [], released: 0, promoted: [], cancels_settled: [], pruned: 0, errors: [] };
  const batch = LIMITS.ADMISSION_RECONCILE_BATCH;
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
  // After the release: the flows it freed are among those with room.
  await step("promote", async () => {
    for (const f of await flowsWithRoom(env.DB, batch)) {
      await step(
        "promote",
        async () => {
          report.promoted.push(...(await admitWaiting(env, f.org_id, f.flow_id, 1)));
        },
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
  await step("prune", async () => {
    const days = Number(env.EXECUTION_RETENTION_DAYS) || LIMITS.EXECUTION_RETENTION_DAYS_DEFAULT;
    report.pruned = await pruneCancelledAdmissions(env.DB, now - days * 86_400_000, LIMITS.PRUNE_BATCH);
  });
  return report;
}
