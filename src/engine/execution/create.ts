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
}

/** The initial state of an execution: every action pending, cursor on the first. */
export function createExecutionState(input: NewExecution, now: number): ExecutionState {
  return {
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
}
