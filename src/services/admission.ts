import { createExecutionState, type NewExecution } from "../engine/execution/create";
import { isFinal, type ExecutionState } from "../engine/execution/types";
import type { ExecutionSnapshot } from "../contracts/execution-object";
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
import { hotFlowQuery, type HotReason } from "./hot-flows";
import { executionClient } from "./object-clients";

/**
 * Admission: whether, and how, a new execution may run. Every start (services/executions.ts
 * `startExecution`, called by the API, manual and single-action runs, events — webhooks, record changes,
 * cron fires —, bulk jobs, trigger-workflow, agents, MCP and the dialects) asks `decideAdmission` once,
 * then creates the execution as it says (`createAdmitted`). The rules, in order:
 *   1. refusals (`admissionRefusal`): a disabled flow, a chain too deep — thrown before anything is read,
 *      written or claimed; each path says no its own way;
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

/**
 * Rule 1: why an execution at chain `depth` of `flow` (when known) may not start, or null. Asked by
 * decideAdmission; also by checks that are not starts: a bulk job's creation (its flow must be
 * startable), and an event too deep to start anything (skipped before its flows are read).
 */
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

/** What admission is asked about: a new execution of `flow` in `orgId`, at chain `depth`, for `triggerEvent`. */
export interface AdmissionRequest {
  orgId: string;
  flow: AutomationFlow;
  depth: number;
  triggerEvent: Record<string, unknown>;
}

/** What admission lets a start do: run now, be created `hot` (final, runs nothing), or queue for a slot. */
export type Admission = { kind: "run" } | { kind: "hot"; reason: HotReason } | { kind: "queue"; limit: number };

/**
 * THE admission decision (rules above) for one start. Throws AdmissionRefused before any I/O. The reads
 * its rules need go in one D1 batch, together with the caller's `alongside` statements (the start path's
 * record read), whose results come back in `alongside`: a start costs one round trip of reads.
 *
 * A new rule (flow control: concurrency per key, throttle, debounce) is one more step here: a refusal
 * before the batch, a statement in it, and a verdict after it that returns one more Admission kind for
 * createAdmitted to carry out.
 */
export async function decideAdmission(
  env: Env,
  req: AdmissionRequest,
  alongside: D1PreparedStatement[] = [],
): Promise<{ admission: Admission; alongside: D1Result[] }> {
  const refusal = admissionRefusal(req.flow, req.depth);
  if (refusal) throw refusal;
  const hotQuery = hotFlowQuery(env, req.orgId, req.flow, req.triggerEvent);
  const statements = hotQuery ? [...alongside, hotQuery.statement] : alongside;
  const results = statements.length > 0 ? await env.DB.batch(statements) : [];
  const hot = hotQuery ? hotQuery.verdict(results[alongside.length]) : undefined;
  const limit = req.flow.concurrency_limit;
  const admission: Admission = hot ? { kind: "hot", reason: hot } : limit ? { kind: "queue", limit } : { kind: "run" };
  return { admission, alongside: results.slice(0, alongside.length) };
}

export interface StartResult {
  id: string;
  created: boolean;
  status: string;
  /** The execution as start() left it, when its object answered (saves the caller a second call). */
  snapshot?: ExecutionSnapshot;
}

async function startObject(env: Env, input: NewExecution): Promise<StartResult> {
  return { id: input.id, ...(await executionClient(env, input.id).start(input)) };
}

/** Starts an execution that holds a slot and confirms it (`running`); idempotent, so a repair may call it again. */
export async function startAdmitted(env: Env, row: AdmissionRow): Promise<StartResult> {
  const res = await startObject(env, row.input);
  await markRunning(env.DB, row.execution_id);
  return res;
}

/**
 * Creates a new execution as admission decided: its object is started (a `hot` one final, running
 * nothing), or, under a concurrency_limit, it takes a slot and starts or waits for one. Idempotent per
 * execution id: a repeated start changes nothing and answers what the first one made.
 */
export async function createAdmitted(env: Env, input: NewExecution, admission: Admission): Promise<StartResult> {
  if (admission.kind === "hot") return startObject(env, { ...input, hot: admission.reason });
  if (admission.kind === "run") return startObject(env, input);
  return requestSlot(env, input, admission.limit);
}

/** Under a concurrency_limit: a slot is requested; the execution starts if it got one, else it waits `pending`. */
async function requestSlot(env: Env, input: NewExecution, limit: number): Promise<StartResult> {
  // The flow snapshot carries the limit it was admitted under: its finish knows, without a D1 read, that it frees a slot.
  const admitted: NewExecution = { ...input, flow: { ...input.flow, concurrency_limit: limit } };
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
  const limit = state.flow.concurrency_limit;
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
