import { createExecutionState, type NewExecution } from "../engine/execution/create";
import type { QueuePlan } from "../engine/flow-control/start";
import {
  isFinal,
  type AdmissionRecord,
  type ExecutionState,
  type ExecutionStatus,
  type FlowSnapshot,
} from "../engine/execution/types";
import type { Env } from "../env";
import { LIMITS } from "../lib/limits";
import {
  getAdmissionStatement,
  markRunning,
  parseAdmissionRow,
  parseAdmissionRows,
  pendingRowStatement,
  promoteWaitingStatement,
  releaseSlotStatement,
  requestStatements,
  type AdmissionRow,
} from "../store/admission";
import { armFlowControl } from "./flow-control-alarm";
import { executionClient } from "./object-clients";
import { startObject, type StartResult } from "./admission-start";

/**
 * The admission queue's side of a start (docs/flow-control.md): a start of a flow with concurrency bounds,
 * a throttle, a rate limit or a singleton is decided in one D1 batch (store/admission.ts requestStatements:
 * skipped, or waiting until its throttle time and a slot of each of its keys), and every start whose turn
 * came — this one or others — is started. A row is held from admission until its execution is final:
 * paused and scheduled executions keep their slots. Its finish releases it and promotes the next.
 */

/** The flow snapshot says the execution holds a row of the queue (its finish releases it, without a D1 read). */
const holdsRow = (flow: FlowSnapshot): boolean => flow.queued === true || !!flow.concurrency_limit;

/** The first key a rule rendered (the one the admission record names), or null without keys. */
export function primaryKey(keys: Record<string, string>): string | null {
  for (const rule of ["concurrency", "concurrency_2", "singleton", "throttle", "rate_limit", "debounce", "batch"]) {
    if (keys[rule] !== undefined) return keys[rule] === "" ? null : keys[rule];
  }
  return null;
}

const boundsOf = (row: AdmissionRow): string =>
  [
    row.k1 !== null ? `concurrency ${row.k1 === "" ? "(flow)" : JSON.stringify(row.k1)}` : null,
    row.k2 !== null ? `concurrency ${row.k2 === "" ? "(flow)" : JSON.stringify(row.k2)}` : null,
    row.k3 !== null ? `singleton ${row.k3 === "" ? "(flow)" : JSON.stringify(row.k3)}` : null,
  ]
    .filter(Boolean)
    .join(", ");

/**
 * The admission record of a start the queue lets go: how long it waited and for what (its throttle time, a
 * slot), on top of what came before (a debounce or batch group's wait).
 */
export function admittedRecord(row: AdmissionRow, now: number): AdmissionRecord {
  const before = row.input.admission;
  const admittedAt = row.admitted_at ?? now;
  const waited = Math.max(0, admittedAt - row.enqueued_at);
  const holds: string[] = [];
  if (row.not_before > row.enqueued_at) holds.push(`throttled ${row.not_before - row.enqueued_at} ms`);
  if (admittedAt > Math.max(row.enqueued_at, row.not_before)) holds.push(`waited for a slot (${boundsOf(row)})`);
  const collected = before?.decision === "debounced" || before?.decision === "batched";
  const reason = [before?.reason, ...holds].filter((s) => !!s).join("; ");
  return {
    decision: collected ? before.decision : waited > 0 ? "waited" : "admitted",
    reason: reason || "admitted at once",
    key: before?.key ?? null,
    waited_ms: (before?.waited_ms ?? 0) + waited,
    ...(before?.keys ? { keys: before.keys } : {}),
  };
}

/** The admission record of a start still in the line (GET answers from its row): what it waits for, so far. */
export function waitingRecord(row: AdmissionRow, now: number): AdmissionRecord {
  const before = row.input.admission;
  const waitsFor =
    row.state === "cancelled"
      ? "cancelled while waiting"
      : row.not_before > now
        ? `waiting for its throttle time (${new Date(row.not_before).toISOString()})`
        : `waiting for a slot (${boundsOf(row)})`;
  const collected = before?.decision === "debounced" || before?.decision === "batched";
  return {
    decision: collected ? before.decision : "waited",
    reason: [before?.reason, waitsFor].filter((s) => !!s).join("; "),
    key: before?.key ?? null,
    waited_ms: (before?.waited_ms ?? 0) + Math.max(0, (row.ended_at ?? now) - row.enqueued_at),
    ...(before?.keys ? { keys: before.keys } : {}),
  };
}

/** The input of a start the queue skipped (rate_limit, singleton skip): created final, `skipped`, with the reason. */
function skippedInput(row: AdmissionRow): NewExecution {
  const reason = row.reason ?? "skipped by flow control";
  const before = row.input.admission;
  return {
    ...row.input,
    skipped: { message: `Skipped by flow control: ${reason}`, payload: { code: "flow_control" } },
    admission: {
      decision: "skipped",
      reason,
      key: before?.key ?? null,
      waited_ms: 0,
      ...(before?.keys ? { keys: before.keys } : {}),
    },
  };
}

/** Starts an execution whose row holds its slots and confirms it (`running`); idempotent, so a repair may call it again. */
export async function startAdmitted(env: Env, row: AdmissionRow): Promise<StartResult> {
  const res = await startObject(env, { ...row.input, admission: admittedRecord(row, Date.now()) });
  if (!res.created && isFinal(res.status as ExecutionStatus)) {
    // Its execution ended before (a late redelivery took a slot for it again): the slot goes back at once.
    await env.DB.batch([releaseSlotStatement(env.DB, row.org_id, row.execution_id)]);
    await admitWaiting(env, row.org_id, row.flow_id);
    return res;
  }
  await markRunning(env.DB, row.execution_id);
  return res;
}

/** Starts the promoted rows, in admission order; a failure leaves its row `admitted` (the reconciliation starts it). */
async function startPromoted(env: Env, rows: AdmissionRow[]): Promise<Map<string, StartResult>> {
  const started = new Map<string, StartResult>();
  for (const row of rows) {
    try {
      started.set(row.execution_id, await startAdmitted(env, row));
    } catch (err) {
      console.warn(`admission: could not start ${row.execution_id}: ${String(err)}`);
    }
  }
  return started;
}

/** Arms the flow's alarm; a failure is left to the reconciliation (it finds throttled starts and groups overdue). */
async function arm(env: Env, orgId: string, flowId: string, at: number): Promise<void> {
  await armFlowControl(env, orgId, flowId, at).catch((err: unknown) =>
    console.warn(`admission: could not arm the flow-control alarm of ${flowId}: ${String(err)}`),
  );
}

/**
 * A start through the queue: one batch decides it (store/admission.ts) and writes its pending index row,
 * then every start whose turn came is started. A waiting throttled start arms the flow's alarm for its time;
 * a `cancel_previous` singleton asks the holders of its key to cancel (and the alarm settles the waiting
 * ones it cancelled). Idempotent per execution id: a repeated start finds its row and answers from it.
 */
export async function enqueueStart(
  env: Env,
  input: NewExecution,
  plan: QueuePlan,
  keys: Record<string, string>,
  now: number,
): Promise<StartResult> {
  const before = input.admission;
  const queued: NewExecution = {
    ...input,
    flow: { ...input.flow, queued: true },
    admission: {
      decision: before?.decision ?? "admitted",
      reason: before?.reason ?? "",
      key: before?.key ?? primaryKey(keys),
      waited_ms: before?.waited_ms ?? 0,
      keys: { ...before?.keys, ...keys },
    },
  };
  const db = env.DB;
  const rate = (r: QueuePlan["throttle"]) =>
    r && { key: r.key, interval_ms: r.gcra.interval_ms, tolerance_ms: r.gcra.tolerance_ms };
  const request = requestStatements(db, {
    input: queued,
    now,
    concurrency: plan.concurrency,
    singleton: plan.singleton,
    throttle: rate(plan.throttle),
    rate_limit: rate(plan.rate_limit),
    priority: plan.priority,
  });
  const n = request.statements.length;
  const results = await db.batch([
    ...request.statements,
    pendingRowStatement(db, createExecutionState(queued, now)),
    promoteWaitingStatement(db, input.org_id, input.flow.id, LIMITS.ADMISSION_PROMOTE_CAP, now),
    getAdmissionStatement(db, input.org_id, input.id),
  ]);
  const inserted = results[0].meta.changes > 0;
  const row = parseAdmissionRow(results[n + 2].results[0]);

  if (request.cancelRequested !== undefined) {
    const holders = results[request.cancelRequested].results as { execution_id: string }[];
    await Promise.all(holders.map((h) => cancelHolder(env, input.org_id, h.execution_id, plan.singleton?.key ?? "")));
  }
  if (request.cancelled !== undefined && results[request.cancelled].results.length > 0)
    await arm(env, input.org_id, input.flow.id, now);

  const started = await startPromoted(env, parseAdmissionRows(results[n + 1].results));
  const mine = started.get(input.id);
  if (mine) return mine;
  // No row: the execution already ended and released its slot (a late redelivery); start() changes nothing.
  if (!row) return startObject(env, queued);
  switch (row.state) {
    case "skipped":
      return startObject(env, skippedInput(row));
    case "cancelled":
      return { id: input.id, created: false, status: "cancelled" };
    case "waiting":
    case "deciding":
      if (row.not_before > now) await arm(env, input.org_id, input.flow.id, row.not_before);
      return { id: input.id, created: inserted, status: "pending" };
    default:
      // Admitted by an earlier call (its start may have died) or running (a redelivery): starting again is harmless.
      return startAdmitted(env, row);
  }
}

/** A singleton `cancel_previous`: the holder is cancelled by its object; a failure is retried by the reconciliation. */
export async function cancelHolder(env: Env, orgId: string, executionId: string, key: string): Promise<void> {
  const reason = `Cancelled by a newer start of the same singleton key (${key === "" ? "the flow" : JSON.stringify(key)})`;
  try {
    await executionClient(env, executionId).cancel(orgId, reason);
  } catch (err) {
    console.warn(`admission: could not cancel ${executionId} for its singleton key: ${String(err)}`);
  }
}

/**
 * Starts the waiting starts of a flow whose turn came (a slot free, a throttle time passed), by priority,
 * then admission order. Safe to call any number of times: the counts in the promoting statement are the bound.
 */
export async function admitWaiting(env: Env, orgId: string, flowId: string, now = Date.now()): Promise<string[]> {
  const res = await env.DB.batch([promoteWaitingStatement(env.DB, orgId, flowId, LIMITS.ADMISSION_PROMOTE_CAP, now)]);
  return [...(await startPromoted(env, parseAdmissionRows(res[0].results))).keys()];
}

/**
 * Called by ExecutionObject after its summary batch: an execution that holds a row of the queue and reached
 * a final status frees its slots, and the next waiting starts of the flow start. Executions of flows without
 * flow control cost nothing here. Idempotent (a replayed finish deletes nothing and finds no free slot the
 * first call did not fill) and never throws: if it fails or the process dies, the reconciliation repairs it.
 */
export async function releaseSlot(env: Env, state: ExecutionState): Promise<void> {
  if (!holdsRow(state.flow) || !isFinal(state.status)) return;
  try {
    const db = env.DB;
    const res = await db.batch([
      releaseSlotStatement(db, state.org_id, state.id),
      promoteWaitingStatement(db, state.org_id, state.flow.id, LIMITS.ADMISSION_PROMOTE_CAP, Date.now()),
    ]);
    await startPromoted(env, parseAdmissionRows(res[1].results));
  } catch (err) {
    console.warn(`admission: release of ${state.id} failed (the reconciliation repairs it): ${String(err)}`);
  }
}
