import type { FlowActionDef, FlowSnapshot, RetryStrategy } from "../engine/execution/types";
import type { ControlResult, DeliveryResult, ExecutionSnapshot } from "../objects/execution-object";
import { getExecutionRow, summaryRow, type ExecutionRow } from "../store/executions";
import type { Env } from "../env";
import { deterministicId, newId } from "../lib/ids";
import type { AutomationFlow } from "../schemas/flow";
import { getRecordStatement, recordFromResult } from "../store/records";
import { renderCorrelationKey } from "../engine/flow-control/start";
import { toSnapshot } from "./records";
import { admissionRefusal, createAdmitted, decideAdmission, executionStub, type StartResult } from "./admission";

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
  /** The correlation key a trigger-workflow child inherits from its parent (else the flow's template is rendered). */
  correlationKey?: string;
  /** The start comes from an event (the events consumer): debounce and batch collect it. */
  fromEvent?: boolean;
}

export { deterministicId };

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
 * admission decides once (services/admission.ts: refused with AdmissionRefused — chain depth, disabled
 * flow —, created `hot`, run, or under the flow's flow control: collected, queued, skipped), and the
 * execution is created once, as decided. Returns at once; the object works in its alarm.
 */
export async function startExecution(env: Env, req: StartExecutionRequest): Promise<StartResult> {
  const depth = req.depth ?? 0;
  // Refused before any read: a chain too deep or a disabled flow costs nothing.
  const refusal = admissionRefusal(req.flow, depth);
  if (refusal) throw refusal;
  const id = req.executionId ?? (req.dedupeKey ? await deterministicId(req.orgId, req.flow.id, req.dedupeKey) : newId());
  // The record the start names is read in admission's batch: the start path's reads are one round trip.
  const readRecord = req.entity === undefined && !!req.entityId;
  const { admission, alongside } = await decideAdmission(
    env,
    { orgId: req.orgId, flow: req.flow, depth, triggerEvent: req.triggerEvent, fromEvent: req.fromEvent },
    readRecord ? [getRecordStatement(env.DB, req.orgId, req.entityId!)] : [],
  );
  let entity = req.entity;
  if (readRecord) {
    const row = recordFromResult(alongside[0]);
    entity = row ? (toSnapshot(row) as unknown as Record<string, unknown>) : null;
  }
  const now = Date.now();
  const correlationKey =
    req.correlationKey ??
    renderCorrelationKey(
      req.flow.correlation_key,
      { trigger_event: req.triggerEvent, entity: entity ?? null, variables: req.variables },
      now,
    );
  return createAdmitted(
    env,
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
      ...(correlationKey !== undefined ? { correlation_key: correlationKey } : {}),
    },
    admission,
    now,
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
    retrigger: async (actionId: string, strategy: RetryStrategy, conditionId?: string) =>
      (await stub.retrigger(actionId, strategy, conditionId)) as unknown as ControlResult,
    resume: async (token: string, payload?: Record<string, unknown>) =>
      (await stub.resume(token, payload)) as unknown as ControlResult & { resumed_action_id?: string },
    cancelSchedule: async (scheduleId: string) => (await stub.cancelSchedule(scheduleId)) as unknown as ControlResult,
    waitUntilSettled: (timeoutMs: number) => stub.waitUntilSettled(timeoutMs),
    deliverEvent: async (actionId: string, spec: number, event: Record<string, unknown>) =>
      (await stub.deliverEvent(actionId, spec, event)) as unknown as DeliveryResult,
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
