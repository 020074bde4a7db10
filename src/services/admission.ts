import { createExecutionState, type NewExecution } from "../engine/execution/create";
import { isFinal, type ExecutionState, type FlowSnapshot } from "../engine/execution/types";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { AutomationFlow } from "../schemas/flow";
import {
  getAdmissionStatement,
  markRunning,
  parseAdmissionRow,
  parseAdmissionRows,
  pendingRowStatement,
  promoteWaitingStatement,
  releaseSlotStatement,
  requestSlotStatement,
  type AdmissionRow,
} from "../store/admission";
import type { HotReason } from "./hot-flows";
import type { ExecutionSnapshot, StartOutcome } from "../objects/execution-object";

/**
 * Admission: whether, and when, a new execution may run. Every start (API, manual and single-action runs,
 * events — webhooks, record changes and cron fires among them —, bulk jobs, trigger-workflow) goes through
 * `admit`, which decides in this order:
 *   1. chain depth and enabled (`admissionRefusal`): refused, each path saying so its own way;
 *   2. the hot-flow limit: created `hot`, final, nothing runs;
 *   3. the flow's `concurrency_limit`, a hard bound: the execution takes a slot (D1 `admission_queue`)
 *      and starts, or waits `pending` in FIFO order until an execution of the flow ends and frees one.
 * A slot is held from admission until the execution reaches a final status: paused and scheduled
 * executions keep theirs. Flows without a limit never touch the queue.
 */

export type RefusalCode = "FLOW_DISABLED" | "CHAIN_TOO_DEEP";

/** A refused start: a 409 for API callers; `reason` is the short form an event's skip list shows. */
export class AdmissionRefused extends AppError {
  constructor(
    code: RefusalCode,
    message: string,
    readonly reason: string,
  ) {
    super(409, code, message);
  }
}

/** Rule 1: why an execution at chain `depth` of `flow` (when known) may not start, or null. */
export function admissionRefusal(flow: Pick<AutomationFlow, "id" | "enabled"> | null, depth: number): AdmissionRefused | null {
  if (flow && flow.enabled === false) {
    return new AdmissionRefused("FLOW_DISABLED", `Flow ${flow.id} is disabled; enable it to run it`, "flow disabled");
  }
  if (depth > LIMITS.MAX_CHAIN_DEPTH) {
    return new AdmissionRefused(
      "CHAIN_TOO_DEEP",
      `Execution chain too deep: flows triggering flows may nest at most ${LIMITS.MAX_CHAIN_DEPTH} deep`,
      `chain depth ${depth} exceeds ${LIMITS.MAX_CHAIN_DEPTH}`,
    );
  }
  return null;
}

/** The flow snapshot carries the limit it was admitted under: its finish knows, without a D1 read, whether it frees a slot. */
export type SlotSnapshot = FlowSnapshot & { concurrency_limit?: number };
const slotLimitOf = (flow: FlowSnapshot): number | undefined => (flow as SlotSnapshot).concurrency_limit;

export function executionStub(env: Env, executionId: string) {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
}

export interface StartResult {
  id: string;
  created: boolean;
  status: string;
  /** The execution as start() left it, when its object answered (saves the caller a second call). */
  snapshot?: ExecutionSnapshot;
}

async function startObject(env: Env, input: NewExecution): Promise<StartResult> {
  // Workers RPC types cannot express the execution's `unknown` payloads: re-typed here, once.
  const res = (await executionStub(env, input.id).start(input)) as unknown as StartOutcome;
  return { id: input.id, ...res };
}

/** Starts an execution that holds a slot and confirms it (`running`); idempotent, so a repair may call it again. */
export async function startAdmitted(env: Env, row: AdmissionRow): Promise<StartResult> {
  const res = await startObject(env, row.input);
  await markRunning(env.DB, row.execution_id);
  return res;
}

/**
 * THE admission decision (see above) for a new execution of `flow`, then its start: the object is created,
 * or the execution waits for a slot. Throws AdmissionRefused. Idempotent per execution id. `hot` is the
 * hot-flow verdict (services/hot-flows.ts), read by the caller in its batch of start-path reads.
 */
export async function admit(
  env: Env,
  flow: AutomationFlow,
  input: NewExecution,
  hot: HotReason | undefined,
): Promise<StartResult> {
  const refusal = admissionRefusal(flow, input.depth ?? 0);
  if (refusal) throw refusal;
  if (hot) return startObject(env, { ...input, hot });
  const limit = flow.concurrency_limit;
  if (!limit) return startObject(env, input);

  const admitted: NewExecution = { ...input, flow: { ...input.flow, concurrency_limit: limit } as SlotSnapshot };
  const db = env.DB;
  const now = Date.now();
  // One batch: the slot request, the pending index row (listed while it waits), and what became of the request.
  const [request, , read] = await db.batch([
    requestSlotStatement(db, admitted, limit, now),
    pendingRowStatement(db, createExecutionState(admitted, now)),
    getAdmissionStatement(db, input.org_id, input.id),
  ]);
  const row = parseAdmissionRow(read.results[0]);
  // No row: the execution already ended and released its slot (a late redelivery); start() changes nothing.
  if (!row) return startObject(env, admitted);
  if (row.state === "waiting") return { id: input.id, created: request.meta.changes > 0, status: "pending" };
  if (row.state === "cancelled") return { id: input.id, created: false, status: "cancelled" };
  return startAdmitted(env, row);
}

/**
 * Starts the oldest waiting executions of a flow that fit in its free slots, in admission order. Safe to
 * call any number of times: the slot count in the promoting statement is the bound.
 */
export async function admitWaiting(env: Env, orgId: string, flowId: string, fallbackLimit: number): Promise<string[]> {
  const res = await env.DB.batch([
    promoteWaitingStatement(env.DB, orgId, flowId, fallbackLimit, LIMITS.ADMISSION_PROMOTE_CAP, Date.now()),
  ]);
  return startPromoted(env, parseAdmissionRows(res[0].results));
}

async function startPromoted(env: Env, rows: AdmissionRow[]): Promise<string[]> {
  const started: string[] = [];
  for (const row of rows) {
    try {
      await startAdmitted(env, row);
      started.push(row.execution_id);
    } catch (err) {
      // Left `admitted`: the reconciliation starts it after LIMITS.ADMISSION_START_GRACE_MS.
      console.warn(`admission: could not start ${row.execution_id}: ${String(err)}`);
    }
  }
  return started;
}

/**
 * Called by ExecutionObject after its summary batch: an execution of a limited flow that reached a final
 * status frees its slot, and the next waiting executions of the flow start. Flows without a limit cost
 * nothing here. Idempotent (a replayed finish deletes nothing and finds no free slot the first call did
 * not fill) and never throws: if it fails or the process dies, the reconciliation releases and promotes.
 */
export async function releaseSlot(env: Env, state: ExecutionState): Promise<void> {
  const limit = slotLimitOf(state.flow);
  if (!limit || !isFinal(state.status)) return;
  try {
    const db = env.DB;
    const res = await db.batch([
      releaseSlotStatement(db, state.org_id, state.id),
      promoteWaitingStatement(db, state.org_id, state.flow.id, limit, LIMITS.ADMISSION_PROMOTE_CAP, Date.now()),
    ]);
    await startPromoted(env, parseAdmissionRows(res[1].results));
  } catch (err) {
    console.warn(`admission: release of ${state.id} failed (the reconciliation repairs it): ${String(err)}`);
  }
}
