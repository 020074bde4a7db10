import { advance } from "../engine/execution/advance";
import { createExecutionState } from "../engine/execution/create";
import type { ExecutionState } from "../engine/execution/types";
import { EMPTY_DETAIL } from "../engine/execution/views";
import type { Env } from "../env";
import type { ControlResult, ExecutionSnapshot } from "../contracts/execution-object";
import { cancelWaitingRow, getAdmission, type AdmissionRow } from "../store/admission";
import { bulkItemStatements } from "../store/bulk-jobs";
import { finishBatch } from "../store/flow-stats";
import { startAdmitted } from "./admission";
import { onBulkItemFinished } from "./bulk-jobs";
import { executionClient } from "./object-clients";

/**
 * Executions that have no object yet because they wait for a slot of their flow's concurrency_limit
 * (services/admission.ts), or never will because they were cancelled while waiting: reading them and
 * cancelling them. Their state is derived from the creation input kept in the admission queue.
 */

/** The state of an execution known only to the queue: as created, or as cancelled while it waited. */
function queuedState(row: AdmissionRow): ExecutionState {
  const created = createExecutionState(row.input, row.enqueued_at);
  if (row.state !== "cancelled") return created;
  return advance(created, { type: "cancelled", reason: row.cancel_reason ?? "Cancelled" }, row.ended_at ?? row.enqueued_at).state;
}

/** The snapshot of an execution that has no object (yet): its state, no outputs or attempts. */
const objectless = (state: ExecutionState): ExecutionSnapshot => ({ state, detail: EMPTY_DETAIL });

/** The snapshot of an execution from its object or, while it waits for a slot (or was cancelled waiting), from the queue. */
export async function readExecution(env: Env, orgId: string, executionId: string): Promise<ExecutionSnapshot | null> {
  const snap = await executionClient(env, executionId).snapshot(orgId);
  if (snap) return snap;
  const row = await getAdmission(env.DB, orgId, executionId);
  return row ? objectless(queuedState(row)) : null;
}

/** Writes what the object would on a cancel: summary, flow statistics and bulk item, in one batch (idempotent). */
export async function settleCancelled(env: Env, row: AdmissionRow): Promise<ExecutionState> {
  const state = queuedState(row);
  const db = env.DB;
  const bulk = bulkItemStatements(db, state);
  const results = await db.batch([...finishBatch(db, state), ...bulk]);
  if (bulk.length) await onBulkItemFinished(env, state, results[results.length - 1].results[0]);
  return state;
}

/**
 * Cancels an execution wherever it is: a waiting one leaves the queue (it never runs), a running one is
 * cancelled by its object (whose finish frees its slot).
 */
export async function cancelExecution(env: Env, orgId: string, executionId: string, reason: string): Promise<ControlResult> {
  const waiting = await cancelWaitingRow(env.DB, orgId, executionId, reason, Date.now());
  if (waiting) return { ok: true, snapshot: objectless(await settleCancelled(env, waiting)) };
  const stub = executionClient(env, executionId);
  const res = await stub.cancel(orgId, reason);
  if (res.ok || res.status !== 404) return res;
  const row = await getAdmission(env.DB, orgId, executionId);
  if (row?.state === "cancelled") return { ok: false, status: 409, message: "The execution already ended (cancelled)" };
  if (row?.state !== "admitted") return res;
  // Admitted, its start not yet made (a starter died, or is starting it right now): start it, then cancel.
  await startAdmitted(env, row);
  return stub.cancel(orgId, reason);
}
