import type { LedgerTotals, TargetTotal } from "./ledger";

/**
 * The bulk rerun state machine, pure (docs/reruns.md). The store applies its transitions with
 * compare-and-set updates.
 *
 *   approval → running → finished;   approval | running → cancelled (CANCEL);   a job that cannot go on → failed
 *
 * Items: pending → starting (a retrigger is being sent) → retriggered | failed (the execution refused it);
 * refused at creation (the preview refused it: nothing will be sent); pending → cancelled.
 */

export const BULK_RERUN_STATUSES = ["approval", "running", "finished", "cancelled", "failed"] as const;
export type BulkRerunStatus = (typeof BULK_RERUN_STATUSES)[number];
export const isFinalRerunJob = (s: BulkRerunStatus): boolean => s === "finished" || s === "cancelled" || s === "failed";

export const RERUN_ITEM_STATUSES = ["pending", "starting", "retriggered", "refused", "failed", "cancelled"] as const;
export type RerunItemStatus = (typeof RERUN_ITEM_STATUSES)[number];

export type RerunPatchDecision = { ok: true; next: BulkRerunStatus } | { ok: false; message: string };

/** What a PATCH does to a job in `status` (the token was checked before). Refusals change nothing. */
export function decideRerunPatch(status: BulkRerunStatus, action: "APPROVE" | "CANCEL"): RerunPatchDecision {
  if (isFinalRerunJob(status)) return { ok: false, message: `The job is already ${status}` };
  if (action === "CANCEL") return { ok: true, next: "cancelled" };
  if (status !== "approval") return { ok: false, message: `The job was already approved (it is ${status})` };
  return { ok: true, next: "running" };
}

/** The preview of a bulk rerun: how many executions, how many would be refused, and what would be sent where. */
export interface BulkRerunPreview {
  executions: number;
  /** Executions whose rerun the preview refused (e.g. cancelled since): they are not retriggered. */
  refused: number;
  effects: number;
  repeated_idempotency_keys: number;
  by_target: TargetTotal[];
}

/** Adds one execution's preview totals (or its refusal) to the job's. */
export function addPreview(into: BulkRerunPreview, totals: LedgerTotals | null): BulkRerunPreview {
  into.executions++;
  if (!totals) {
    into.refused++;
    return into;
  }
  into.effects += totals.effects;
  into.repeated_idempotency_keys += totals.repeated_idempotency_keys;
  for (const t of totals.by_target) {
    const found = into.by_target.find((x) => x.kind === t.kind && x.target === t.target);
    if (found) {
      found.count += t.count;
      found.repeated += t.repeated;
    } else into.by_target.push({ kind: t.kind, target: t.target, count: t.count, repeated: t.repeated });
  }
  return into;
}

export const emptyPreview = (): BulkRerunPreview => ({
  executions: 0,
  refused: 0,
  effects: 0,
  repeated_idempotency_keys: 0,
  by_target: [],
});

/** The action an execution is rerun from: the one asked for, or its first failed action (none: it cannot be rerun). */
export function rerunTarget(actions: { id: string; execution_status: string }[], fromActionId?: string | null): string | null {
  if (fromActionId) return actions.some((a) => a.id === fromActionId) ? fromActionId : null;
  return actions.find((a) => a.execution_status === "failed")?.id ?? null;
}
