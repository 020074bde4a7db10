import type { FlowSnapshot } from "../engine/execution/types";
import { getExecutionRow, summaryRow, type ExecutionRow } from "../store/executions";
import type { Env } from "../env";
import { notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { sha256Hex } from "../lib/crypto";
import { LIMITS } from "../lib/limits";
import type { Principal } from "../lib/principal";
import type { AutomationFlow } from "../schemas/flow";
import { cachedFlow } from "../store/flow-cache";
import { claimIdempotencyKey, findIdempotentExecution } from "../store/executions";
import { getRecordStatement, recordFromResult } from "../store/records";
import { createAdmitted, decideAdmission, type StartResult } from "./admission";
import { executionClient } from "./object-clients";
import { toSnapshot } from "./records";

/**
 * A request to start an execution: the one argument shape of every way a run starts (the API, manual and
 * single-action runs, events, bulk jobs, schedules, trigger-workflow, agents, MCP, the dialects).
 */
export interface StartExecutionRequest {
  orgId: string;
  /** The flow, or its id (read through the per-isolate flow cache; unknown in the org: 404). */
  flow: AutomationFlow | string;
  triggerEvent: Record<string, unknown>;
  entityId?: string;
  /** The entity snapshot; when absent and `entityId` is set, it is read from the records store. */
  entity?: Record<string, unknown> | null;
  workflowContext?: Record<string, unknown>;
  /** The chain depth; by default the one `workflowContext._execution_chain` carries, else 0. */
  depth?: number;
  user?: { id?: string; email?: string };
  variables?: Record<string, unknown>;
  /**
   * How a repeated start finds the execution the first one made (at most one of the three):
   * `dedupeKey` (an event id, a bulk item, a parent action, an agent's fire) always maps to the same
   * derived execution id; `idempotencyKey` (an API caller's `Idempotency-Key`, per `idempotencyScope`)
   * maps to the execution it started within LIMITS.IDEMPOTENCY_WINDOW_MS; `executionId` is the id itself.
   */
  dedupeKey?: string;
  idempotencyKey?: string;
  idempotencyScope?: string;
  executionId?: string;
}

/** An id derived from a key: a UUID (version 8, RFC 9562 custom) made of the key's SHA-256. */
export async function deterministicId(...parts: string[]): Promise<string> {
  const hex = (await sha256Hex(parts.join("\u0000"))).slice(0, 32).split("");
  hex[12] = "8";
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The part of a flow an execution keeps: later edits of the flow do not change a running execution. */
export function toFlowSnapshot(flow: AutomationFlow): FlowSnapshot {
  return {
    id: flow.id,
    flow_name: flow.flow_name,
    version: flow.version ?? 1,
    actions: flow.actions,
    conditions: flow.conditions ?? [],
    schedules: flow.schedules ?? [],
    loops: flow.loops ?? [],
    retry_policy: flow.retry_policy,
    error_handling: flow.error_handling,
  };
}

/** Who starts a run on behalf of an API caller, as the execution records it. */
export const startedBy = (p: Principal) => ({ id: p.userId, email: p.email });

/** The depth a workflow context's `_execution_chain` carries (trigger-workflow children and API callers set it). */
function chainDepth(workflowContext: Record<string, unknown> | undefined): number {
  const chain = workflowContext?._execution_chain;
  const depth = typeof chain === "object" && chain !== null && "depth" in chain ? chain.depth : undefined;
  return typeof depth === "number" ? depth : 0;
}

/** The execution id of a start: given, derived from its dedupe key, the one its Idempotency-Key claimed, or new. */
async function executionIdOf(env: Env, req: StartExecutionRequest, flowId: string): Promise<string> {
  if (req.executionId) return req.executionId;
  if (req.dedupeKey) return deterministicId(req.orgId, flowId, req.dedupeKey);
  if (!req.idempotencyKey) return newId();
  const now = Date.now();
  const scope = req.idempotencyScope ?? "executions";
  const notBefore = now - LIMITS.IDEMPOTENCY_WINDOW_MS;
  const existing = await findIdempotentExecution(env.DB, req.orgId, scope, req.idempotencyKey, notBefore);
  return existing ?? claimIdempotencyKey(env.DB, req.orgId, scope, req.idempotencyKey, newId(), now, notBefore);
}

/**
 * THE way an execution starts: the flow is resolved, admission decides once (services/admission.ts:
 * refused with AdmissionRefused — 409 FLOW_DISABLED or CHAIN_TOO_DEEP, before anything is read or an
 * Idempotency-Key claimed —, created `hot`, run, or queued under the flow's concurrency_limit), and the
 * execution is created once, as decided. Returns at once; the object works in its own invocation.
 */
export async function startExecution(env: Env, req: StartExecutionRequest): Promise<StartResult> {
  const flow = typeof req.flow === "string" ? await cachedFlow(env, req.orgId, req.flow) : req.flow;
  if (!flow) throw notFound("Flow");
  const depth = req.depth ?? chainDepth(req.workflowContext);
  // The record the start names is read in admission's batch: the start path's reads are one round trip.
  const readRecord = req.entity === undefined && !!req.entityId;
  const { admission, alongside } = await decideAdmission(
    env,
    { orgId: req.orgId, flow, depth, triggerEvent: req.triggerEvent },
    readRecord ? [getRecordStatement(env.DB, req.orgId, req.entityId!)] : [],
  );
  let entity = req.entity;
  if (readRecord) {
    const row = recordFromResult(alongside[0]);
    entity = row ? toSnapshot(row) : null;
  }
  const id = await executionIdOf(env, req, flow.id);
  return createAdmitted(
    env,
    {
      id,
      org_id: req.orgId,
      flow: toFlowSnapshot(flow),
      entity_id: req.entityId ?? (typeof entity?._id === "string" ? entity._id : ""),
      entity: entity ?? null,
      trigger_event: req.triggerEvent,
      workflow_context: req.workflowContext,
      depth,
      user: req.user,
      variables: req.variables,
    },
    admission,
  );
}

/**
 * The org's index row of an execution, or null (unknown, or another org's). A run started inline defers
 * its first row (ExecutionObject.start): while it is not in D1 yet, its object answers, and the row is
 * read from its state, as it will be written.
 */
export async function findExecutionRow(env: Env, orgId: string, id: string): Promise<ExecutionRow | null> {
  const row = await getExecutionRow(env.DB, orgId, id);
  if (row) return row;
  const snap = await executionClient(env, id).snapshot(orgId);
  return snap && snap.state.org_id === orgId ? summaryRow(snap.state) : null;
}
