import type { AdvanceResult, ExecutionState, NewExecutionInput } from "./types";
import { STATE_VERSION } from "./types";

export type NewExecution = NewExecutionInput;

/** The initial state of an execution: every action pending, cursor on the first (or, when hot or skipped, every action skipped). */
export function createExecutionState(input: NewExecution, now: number): ExecutionState {
  const state: ExecutionState = {
    v: STATE_VERSION,
    id: input.id,
    org_id: input.org_id,
    flow: input.flow,
    status: "pending",
    created_at: now,
    updated_at: now,
    entity_id: input.entity_id,
    entity: input.entity,
    trigger_event: input.trigger_event,
    workflow_context: input.workflow_context,
    depth: input.depth ?? 0,
    cursor: 0,
    actions: input.flow.actions.map((a) => ({
      id: a.id,
      type: a.type,
      name: a.name,
      execution_status: "pending",
      attempts: 0,
      attempts_total: 0,
    })),
    user: input.user,
    variables: input.variables,
    ...(input.trigger_events ? { trigger_events: input.trigger_events } : {}),
    ...(input.correlation_key !== undefined ? { correlation_key: input.correlation_key } : {}),
    ...(input.admission ? { admission: input.admission } : {}),
    seq: 0,
    runs: 0,
  };
  // Created final: a hot flow's execution, or one flow control skipped (rate_limit, singleton).
  const endedBy = input.hot ? ("hot" as const) : input.skipped ? ("skipped" as const) : null;
  if (endedBy) {
    const reason = input.hot ?? input.skipped;
    state.status = endedBy;
    state.finished_at = now;
    state.cursor = state.actions.length;
    for (const a of state.actions) Object.assign(a, { execution_status: "skipped", updated_at: now, reason });
  }
  return state;
}

/**
 * Creates an execution and says what to do first: write its summary and either wake it now, or, for a
 * hot flow's execution or a skipped start (created final, nothing runs), finish it at once.
 */
export function createExecution(input: NewExecution, now: number): AdvanceResult {
  const state = createExecutionState(input, now);
  return {
    state,
    commands:
      input.hot || input.skipped
        ? [{ type: "write_summary" }, { type: "finished", status: state.status }]
        : [{ type: "write_summary" }, { type: "wake_at", at: now }],
  };
}
