import type { FlowActionDef, FlowSnapshot, RetryStrategy } from "../engine/execution/types";
import type { EffectsLedger } from "../engine/reruns/ledger";
import type { ControlResult, ExecutionSnapshot, PreviewResult, RerunOptions } from "../objects/execution-object";
import { getExecutionRow, summaryRow, type ExecutionRow } from "../store/executions";
import type { Env } from "../env";
import { newId } from "../lib/ids";
import { sha256Hex } from "../lib/crypto";
import type { AutomationFlow } from "../schemas/flow";
import { getRecordStatement, recordFromResult } from "../store/records";
import { hotFlowQuery } from "./hot-flows";
import { toSnapshot } from "./records";
import { admissionRefusal, admit, executionStub, type StartResult } from "./admission";

export interface StartExecutionRequest {
  orgId: string;
  flow: AutomationFlow;
  entityId?: string;
  /** The entity snapshot; when absent and `entityId` is set, it is read from the records store. */
  entity?: Record<string, unknown> | null;
  triggerEvent: Record<string, unknown>;
  workflowContext?: Record<string, unknown>;
  depth?: number;
  user?: { id?: string; email?: string };
  variables?: Record<string, unknown>;
  /**
   * Makes the start idempotent: the same key (an event id, a bulk item, a parent action) always maps to
   * the same execution id, and starting it again changes nothing.
   */
  dedupeKey?: string;
  /** Use this execution id (already derived by the caller). */
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
    actions: flow.actions as unknown as FlowActionDef[],
    conditions: (flow.conditions ?? []) as Record<string, unknown>[],
    schedules: (flow.schedules ?? []) as FlowSnapshot["schedules"],
    loops: (flow.loops ?? []) as FlowSnapshot["loops"],
    retry_policy: flow.retry_policy,
    error_handling: flow.error_handling,
  };
}

export { executionStub };

/**
 * The one way executions start (API, manual and single-action runs, events, bulk jobs, trigger-workflow):
 * snapshot the flow and hand it to admission (services/admission.ts), which refuses it (AdmissionRefused:
 * chain depth, disabled flow), creates it `hot`, starts its ExecutionObject, or queues it under the flow's
 * concurrency_limit. Returns at once; the object works in its alarm.
 */
export async function startExecution(env: Env, req: StartExecutionRequest): Promise<StartResult> {
  const depth = req.depth ?? 0;
  // Refused before any read: a chain too deep or a disabled flow costs nothing.
  const refusal = admissionRefusal(req.flow, depth);
  if (refusal) throw refusal;
  const id = req.executionId ?? (req.dedupeKey ? await deterministicId(req.orgId, req.flow.id, req.dedupeKey) : newId());
  // The start path's reads, the record it names and the hot-flow count, in one D1 round trip.
  let entity = req.entity;
  const readRecord = entity === undefined && !!req.entityId;
  const hotQuery = hotFlowQuery(env, req.orgId, req.flow, req.triggerEvent);
  const statements = [
    ...(readRecord ? [getRecordStatement(env.DB, req.orgId, req.entityId!)] : []),
    ...(hotQuery ? [hotQuery.statement] : []),
  ];
  const results = statements.length > 0 ? await env.DB.batch(statements) : [];
  if (readRecord) {
    const row = recordFromResult(results[0]);
    entity = row ? (toSnapshot(row) as unknown as Record<string, unknown>) : null;
  }
  const hot = hotQuery ? hotQuery.verdict(results[results.length - 1]) : undefined;
  return admit(
    env,
    req.flow,
    {
      id,
      org_id: req.orgId,
      flow: toFlowSnapshot(req.flow),
      entity_id: req.entityId ?? (typeof entity?._id === "string" ? entity._id : ""),
      entity: entity ?? null,
      trigger_event: req.triggerEvent,
      workflow_context: req.workflowContext,
      depth,
      user: req.user,
      variables: req.variables,
    },
    hot,
  );
}

/**
 * Typed calls into an ExecutionObject. Workers RPC types cannot express the `unknown` payloads of an
 * execution (outputs, trigger events), so the results are re-typed here, once.
 */
export const executionClient = (env: Env, executionId: string) => {
  const stub = executionStub(env, executionId);
  return {
    snapshot: async () => (await stub.snapshot()) as unknown as ExecutionSnapshot | null,
    cancel: async (reason?: string) => (await stub.cancel(reason)) as unknown as ControlResult,
    retrigger: async (actionId: string, strategy: RetryStrategy, conditionId?: string, options?: RerunOptions) =>
      (await stub.retrigger(actionId, strategy, conditionId, options)) as unknown as ControlResult,
    previewRetrigger: async (actionId: string, strategy: RetryStrategy, conditionId?: string, options?: RerunOptions) =>
      (await stub.previewRetrigger(actionId, strategy, conditionId, options)) as unknown as PreviewResult,
    effects: async (page: { from: number; size: number }) => (await stub.effects(page)) as unknown as EffectsLedger | null,
    resume: async (token: string, payload?: Record<string, unknown>) =>
      (await stub.resume(token, payload)) as unknown as ControlResult & { resumed_action_id?: string },
    cancelSchedule: async (scheduleId: string) => (await stub.cancelSchedule(scheduleId)) as unknown as ControlResult,
    waitUntilSettled: (timeoutMs: number) => stub.waitUntilSettled(timeoutMs),
  };
};

/**
 * The org's index row of an execution, or null (unknown, or another org's). A run started inline defers
 * its first row (ExecutionObject.start): while it is not in D1 yet, its object answers, and the row is
 * read from its state, as it will be written.
 */
export async function findExecutionRow(env: Env, orgId: string, id: string): Promise<ExecutionRow | null> {
  const row = await getExecutionRow(env.DB, orgId, id);
  if (row) return row;
  const snap = (await executionStub(env, id).snapshot()) as unknown as ExecutionSnapshot | null;
  return snap && snap.state.org_id === orgId ? summaryRow(snap.state) : null;
}
