import type { NewExecution } from "../engine/execution/create";
import { flowControlOf, type FlowControlRules } from "../engine/flow-control/config";
import { planStart } from "../engine/flow-control/start";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import type { AutomationFlow } from "../schemas/flow";
import { collectStart } from "./admission-collect";
import { enqueueStart, primaryKey } from "./admission-queue";
import { hotFlowQuery, type HotReason } from "./hot-flows";
import { startObject, type StartResult } from "./admission-start";

/**
 * Admission: whether, and how, a new execution may run. Every start (services/executions.ts
 * `startExecution`, called by the API, manual and single-action runs, events — webhooks, record changes,
 * cron fires, custom events —, bulk jobs, trigger-workflow, agents, MCP and the dialects) asks
 * `decideAdmission` once, then creates the execution as it says (`createAdmitted`). The rules, in order
 * (docs/flow-control.md):
 *   1. refusals (`admissionRefusal`): a disabled flow, a chain too deep — thrown before anything is read,
 *      written or claimed; each path says no its own way;
 *   2. the hot-flow limit: created `hot`, final, nothing runs;
 *   3. the flow's flow control (`flow_control`, `concurrency_limit`), its keys rendered over the start:
 *      an event's start is collected by debounce or batch (one execution per group, later); a start goes
 *      through the admission queue when the flow has concurrency bounds, a throttle, a rate limit or a
 *      singleton — skipped (rate_limit, singleton skip) or waiting for its throttle time and a slot of each
 *      of its keys, by priority. Those verdicts need a count and a take in one step, so they are made by the
 *      statements of createAdmitted's one D1 batch (store/admission.ts), which D1 runs as a transaction.
 * Every start decided by flow control carries its decision (`admission` on the execution). Flows without
 * flow control never touch the queue.
 */

export type { StartResult };
export { releaseSlot, startAdmitted } from "./admission-queue";

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
  /** The start comes from an event: debounce and batch collect it (a direct start names one run). */
  fromEvent?: boolean;
}

/**
 * What admission lets a start do: run now, be created `hot` (final, runs nothing), or go through the flow's
 * flow control (`rules`), whose verdict createAdmitted's batch makes.
 */
export type Admission =
  { kind: "run" } | { kind: "hot"; reason: HotReason } | { kind: "controlled"; rules: FlowControlRules; collectable: boolean };

/**
 * THE admission decision (rules above) for one start. Throws AdmissionRefused before any I/O. The reads
 * its rules need go in one D1 batch, together with the caller's `alongside` statements (the start path's
 * record read), whose results come back in `alongside`: a start costs one round trip of reads.
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
  const rules = flowControlOf(req.flow);
  const admission: Admission = hot
    ? { kind: "hot", reason: hot }
    : rules
      ? { kind: "controlled", rules, collectable: req.fromEvent === true }
      : { kind: "run" };
  return { admission, alongside: results.slice(0, alongside.length) };
}

/**
 * Creates a new execution as admission decided: its object is started (a `hot` one final, running
 * nothing), or flow control's verdict is made and carried out — collected into a group, or through the
 * queue (skipped, waiting, or started). Idempotent per execution id: a repeated start changes nothing
 * and answers what the first one made.
 */
export async function createAdmitted(
  env: Env,
  input: NewExecution,
  admission: Admission,
  now = Date.now(),
): Promise<StartResult> {
  if (admission.kind === "hot") return startObject(env, { ...input, hot: admission.reason });
  if (admission.kind === "run") return startObject(env, input);
  const plan = planStart(
    admission.rules,
    { trigger_event: input.trigger_event, entity: input.entity, variables: input.variables },
    now,
    admission.collectable,
  );
  if (plan.collect) return collectStart(env, input, plan.collect, plan.keys, now);
  if (plan.queue) return enqueueStart(env, input, plan.queue, plan.keys, now);
  // Rules that need nothing of this start (priority alone; debounce or batch of a direct start): it runs.
  const record = input.admission ?? {
    decision: "admitted" as const,
    reason: "admitted at once",
    key: primaryKey(plan.keys),
    waited_ms: 0,
  };
  return startObject(env, { ...input, admission: { ...record, ...(Object.keys(plan.keys).length ? { keys: plan.keys } : {}) } });
}
