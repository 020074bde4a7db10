import { getPath } from "../conditions";
import { recordRoots } from "../record-view";
import type { ExecutionData, ExecutionState } from "./types";

/** Reads a dotted path with `[n]` / `['key']` segments; own properties only. Undefined when absent or unparsable. */
export function lookupPath(root: unknown, path: string): unknown {
  try {
    return getPath(root, path);
  } catch {
    return undefined;
  }
}

export interface LoopScope {
  item: unknown;
  index: number;
}

/**
 * What conditions and templates of an execution can see: the trigger event, the entity (also as
 * `record`), previous values and diff of an update, earlier actions' outputs, the loop item, variables,
 * the user, and the engine's clock.
 */
export function buildContext(state: ExecutionState, now: number, data: ExecutionData, loop?: LoopScope) {
  const trigger = state.trigger_event;
  const actions: Record<string, { outputs?: Record<string, unknown>; execution_status: string }> = {};
  for (const a of state.actions) {
    const entry: { outputs?: Record<string, unknown>; execution_status: string } = { execution_status: a.execution_status };
    // Outputs are rows of their own: read only when a template or condition looks at them.
    Object.defineProperty(entry, "outputs", {
      enumerable: true,
      get: () => (a.has_outputs ? data.output(a.id) : undefined),
    });
    actions[a.id] = entry;
  }
  return {
    trigger,
    ...recordRoots(state.entity),
    previous: (trigger.previous as Record<string, unknown> | undefined) ?? undefined,
    diff: (trigger.diff as Record<string, Record<string, unknown>> | undefined) ?? undefined,
    actions,
    loop,
    variables: state.variables ?? {},
    user: state.user ?? {},
    execution: { id: state.id, flow_id: state.flow.id, flow_name: state.flow.flow_name },
    now,
  };
}
