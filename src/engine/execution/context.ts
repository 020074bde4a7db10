import type { ExecutionState } from "./types";

/**
 * Reads a dotted path with optional `[n]` / `['key']` segments (`a.b[0]['c d']`). Own properties only,
 * so a path can never reach a prototype.
 */
export function lookupPath(root: unknown, path: string): unknown {
  const segments: string[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\[(['"])(.*?)\3\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) segments.push(m[1] ?? m[2] ?? m[4]);
  let cur: unknown = root;
  for (const seg of segments) {
    if (cur === null || typeof cur !== "object" || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
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
export function buildContext(state: ExecutionState, now: number, loop?: LoopScope) {
  const trigger = state.trigger_event;
  const actions: Record<string, { outputs?: Record<string, unknown>; execution_status: string }> = {};
  for (const a of state.actions) actions[a.id] = { outputs: a.outputs, execution_status: a.execution_status };
  return {
    trigger,
    entity: state.entity,
    record: state.entity ?? undefined,
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
export type ExecutionContext = ReturnType<typeof buildContext>;
