import type { SideEffect } from "../reruns/side-effects";
import type { ActionState, ErrorOutput, ExecutionState, ExecutionStatus } from "./types";

/** Request/response detail of one attempt, as kept by the execution object. */
export interface AttemptView {
  action_id: string;
  iteration: number | null;
  attempt: number;
  started_at: number;
  ended_at: number;
  outcome: string;
  request: unknown;
  response: unknown;
  error: unknown;
  /** The side effects the attempt caused (the ledger); written by the runner, not read back by the views. */
  effects?: SideEffect[];
}

/** One loop iteration as shown: its record and its (capped) outputs. */
export interface IterationView {
  index: number;
  execution_status: ExecutionStatus | string;
  started_at?: number;
  ended_at?: number;
  error_output?: ErrorOutput;
  outputs?: Record<string, unknown> | null;
  outputs_truncated?: boolean;
}

/**
 * What an execution's views read besides its state, from the object's rows: each action's outputs,
 * its first iterations (MAX_ITERATIONS_IN_VIEW) and its latest attempts (MAX_ATTEMPTS_IN_VIEW).
 */
export interface ExecutionDetail {
  outputs: Record<string, Record<string, unknown>>;
  iterations: Record<string, IterationView[]>;
  attempts: AttemptView[];
}

export const EMPTY_DETAIL: ExecutionDetail = { outputs: {}, iterations: {}, attempts: [] };

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

function actionView(state: ExecutionState, a: ActionState, detail: ExecutionDetail) {
  const def = state.flow.actions.find((d) => d.id === a.id);
  const iterations = detail.iterations[a.id];
  const attempts = detail.attempts.filter((t) => t.action_id === a.id);
  return {
    ...def,
    id: a.id,
    flow_action_id: a.id,
    name: a.name ?? def?.name,
    type: a.type,
    execution_status: a.execution_status,
    started_at: iso(a.started_at),
    updated_at: iso(a.updated_at),
    outputs: detail.outputs[a.id] ?? {},
    ...(a.outputs_truncated ? { outputs_truncated: true } : {}),
    ...(a.error_output ? { error_output: a.error_output } : {}),
    ...(a.retry_strategy ? { retry_strategy: a.retry_strategy } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
    ...(a.loop_state
      ? {
          iterations: (iterations ?? []).map((it) => ({
            index: it.index,
            execution_status: it.execution_status,
            started_at: iso(it.started_at),
            ended_at: iso(it.ended_at),
            outputs: it.outputs ?? undefined,
            ...(it.outputs_truncated ? { outputs_truncated: true } : {}),
            error_output: it.error_output,
          })),
          iterations_total: a.loop_state.total,
          loop_state: { current_index: a.loop_state.current_index, total: a.loop_state.total },
        }
      : {}),
    attempts: attempts.map((e) => ({
      attempt: e.attempt,
      ...(e.iteration !== null ? { iteration: e.iteration } : {}),
      started_at: iso(e.started_at),
      ended_at: iso(e.ended_at),
      outcome: e.outcome,
      ...(e.error ? { error: e.error } : {}),
    })),
    attempts_total: a.attempts_total,
    ...(a.scheduled_for !== undefined ? { scheduled_for: iso(a.scheduled_for) } : {}),
    ...(a.next_attempt_at !== undefined ? { next_attempt_at: iso(a.next_attempt_at) } : {}),
    ...(a.condition_result ? { condition_result: a.condition_result } : {}),
    ...(a.event_wait
      ? {
          waiting_for_event: {
            events: a.event_wait.specs.map((s) => s.event),
            mode: a.event_wait.mode,
            until: iso(a.event_wait.until),
            matched: a.event_wait.matched.length,
          },
        }
      : {}),
    ...(a.approval && !a.approval.decision
      ? {
          waiting_for_approval: {
            tool: a.approval.tool,
            tool_call_id: a.approval.tool_call_id,
            arguments: (detail.outputs[a.id]?.pending_approval as { arguments?: unknown } | undefined)?.arguments ?? null,
            requested_at: iso(a.approval.requested_at),
          },
        }
      : {}),
  };
}

/** The execution whose trigger-workflow action started this one (its workflow_context's chain). */
function parentOf(state: ExecutionState): string | undefined {
  const chain = state.workflow_context?._execution_chain as { parent_execution_id?: unknown } | undefined;
  return typeof chain?.parent_execution_id === "string" ? chain.parent_execution_id : undefined;
}

interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

const isUsage = (u: unknown): u is Usage =>
  !!u && typeof u === "object" && typeof (u as Usage).total_tokens === "number" && typeof (u as Usage).input_tokens === "number";

/** Model tokens of the execution: the sum of its AI steps' `usage` outputs (null when it has none). */
export function executionLlmUsage(state: ExecutionState, detail: ExecutionDetail): Usage | null {
  let total: Usage | null = null;
  for (const a of state.actions) {
    const u = detail.outputs[a.id]?.usage;
    if (!isUsage(u)) continue;
    total ??= { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
    total.input_tokens += u.input_tokens;
    total.output_tokens += u.output_tokens ?? 0;
    total.total_tokens += u.total_tokens;
  }
  return total;
}

/** The epilot AutomationExecution document (`status` and `execution_status` both, equal: the document requires `status`). */
export function toAutomationExecution(state: ExecutionState, detail: ExecutionDetail = EMPTY_DETAIL) {
  const entity = state.entity;
  return {
    id: state.id,
    execution_status: state.status,
    status: state.status,
    entity_id: state.entity_id,
    ...(entity ? { entity_snapshot: entity } : {}),
    org_id: state.org_id,
    flow_id: state.flow.id,
    flow_name: state.flow.flow_name,
    version: state.flow.version,
    created_at: iso(state.created_at)!,
    updated_at: iso(state.updated_at)!,
    ...(state.finished_at !== undefined ? { finished_at: iso(state.finished_at) } : {}),
    current_action_id: state.actions[state.cursor]?.id,
    conditions: (state.flow.conditions ?? []).map((c) => {
      const evaluated = state.actions.find((a) => a.condition_result?.condition_id === c.id)?.condition_result;
      return evaluated ? { ...c, evaluationResult: evaluated.passed } : c;
    }),
    schedules: state.flow.schedules ?? [],
    loops: state.flow.loops ?? [],
    actions: state.actions.map((a) => actionView(state, a, detail)),
    trigger_event: state.trigger_event,
    ...(state.trigger_events ? { trigger_events: state.trigger_events } : {}),
    ...(state.correlation_key !== undefined ? { correlation_key: state.correlation_key } : {}),
    ...(parentOf(state) ? { parent_execution_id: parentOf(state) } : {}),
    ...(state.admission ? { admission: state.admission } : {}),
    ...(state.workflow_context ? { workflow_context: state.workflow_context } : {}),
    ...(state.conditions_evaluated ? { conditions_evaluated: state.conditions_evaluated } : {}),
    ...(state.last_error ? { error_output: state.last_error } : {}),
    ...(state.cancel_reason ? { cancel_reason: state.cancel_reason } : {}),
    ...withUsage(executionLlmUsage(state, detail)),
  };
}

const withUsage = (u: Usage | null) => (u ? { llm_usage: u } : {});

/** TrustPager/Coherence normalized run status. */
export function runStatus(status: ExecutionStatus | string): "completed" | "failed" | "running" | "skipped" {
  if (status === "success") return "completed";
  if (status === "failed" || status === "cancelled" || status === "hot") return "failed";
  if (status === "skipped") return "skipped";
  return "running";
}

/** Most action results a run view carries inline; more are cut and `truncated` is set. */
export const MAX_INLINE_ACTION_RESULTS = 100;

/** The normalized run (TrustPager / Coherence) of an execution, with inline action results. */
export function toRun(state: ExecutionState, detail: ExecutionDetail) {
  const last = new Map<string, AttemptView>();
  for (const a of detail.attempts) last.set(a.action_id, a);
  const results = state.actions.map((a) => {
    const at = last.get(a.id);
    const response = at?.response as { truncated?: boolean } | null | undefined;
    return {
      action_id: a.id,
      action_type: a.type,
      status: a.execution_status,
      request: at?.request ?? null,
      response: at?.response ?? null,
      error: a.error_output ?? null,
      duration_ms: at ? at.ended_at - at.started_at : null,
      attempts: a.attempts_total,
      truncated: Boolean(response?.truncated),
    };
  });
  const count = (s: string[]) => state.actions.filter((a) => s.includes(a.execution_status)).length;
  return {
    run_id: state.id,
    flow_id: state.flow.id,
    status: runStatus(state.status),
    execution_status: state.status,
    started_at: iso(state.started_at ?? state.created_at),
    finished_at: iso(state.finished_at) ?? null,
    actions_total: state.actions.length,
    actions_executed: count(["success", "failed"]),
    actions_failed: count(["failed"]),
    actions_skipped: count(["skipped", "cancelled"]),
    action_results: results.slice(0, MAX_INLINE_ACTION_RESULTS),
    truncated: results.length > MAX_INLINE_ACTION_RESULTS || results.some((r) => r.truncated),
    ...(state.last_error ? { error: state.last_error } : {}),
  };
}
