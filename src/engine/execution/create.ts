import type { ExecutionState, FlowSnapshot } from "./types";

export interface NewExecution {
  id: string;
  org_id: string;
  flow: FlowSnapshot;
  entity_id: string;
  entity: Record<string, unknown> | null;
  trigger_event: Record<string, unknown>;
  workflow_context?: Record<string, unknown>;
  depth?: number;
  user?: { id?: string; email?: string };
  variables?: Record<string, unknown>;
  /** Set when the flow is hot (engine/hot-flow.ts): the execution is created final, `hot`, and runs nothing. */
  hot?: { message: string; payload?: Record<string, unknown> };
}

/** The initial state of an execution: every action pending, cursor on the first (or, when hot, every action skipped). */
export function createExecutionState(input: NewExecution, now: number): ExecutionState {
  const state: ExecutionState = {
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
      attempt_log: [],
    })),
    user: input.user,
    variables: input.variables,
    seq: 0,
    runs: 0,
  };
  if (input.hot) {
    state.status = "hot";
    state.finished_at = now;
    state.cursor = state.actions.length;
    for (const a of state.actions) Object.assign(a, { execution_status: "skipped", updated_at: now, reason: input.hot });
  }
  return state;
}
