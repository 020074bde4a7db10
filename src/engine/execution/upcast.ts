import { Effects } from "./effects";
import { NO_DATA } from "./advance";
import type { ActionState, Command, ErrorOutput, ExecutionState, ExecutionStatus } from "./types";
import { STATE_VERSION } from "./types";

/** An action as version 1 stored it: outputs, attempts, iterations and loop items inside the state value. */
interface ActionStateV1 extends Omit<ActionState, "attempts_total" | "loop_state"> {
  outputs?: Record<string, unknown>;
  attempt_log?: {
    attempt: number;
    iteration?: number;
    started_at: number;
    ended_at?: number;
    outcome?: string;
    error?: ErrorOutput;
  }[];
  iterations?: {
    index: number;
    execution_status: ExecutionStatus;
    started_at?: number;
    ended_at?: number;
    outputs?: Record<string, unknown>;
    error_output?: ErrorOutput;
  }[];
  loop_items?: unknown[];
  loop_state?: { current_index: number; total: number };
}

type StateV1 = Omit<ExecutionState, "v" | "actions"> & { v?: 1; actions: ActionStateV1[] };

/**
 * Brings a stored state up to STATE_VERSION. Version 1 kept outputs, iterations, loop items and the
 * attempt log inside the state value; version 2 keeps them as rows, so the upcast returns the commands
 * that write those rows. A current state passes through unchanged.
 */
export function upcastState(raw: ExecutionState | StateV1): { state: ExecutionState; commands: Command[] } {
  if (raw.v === STATE_VERSION) return { state: raw as ExecutionState, commands: [] };
  const fx = new Effects(NO_DATA);
  const actions = (raw as StateV1).actions.map((old): ActionState => {
    const { outputs, attempt_log = [], iterations, loop_items, loop_state, ...rest } = old;
    const action: ActionState = { ...rest, attempts_total: attempt_log.length };
    if (outputs !== undefined) fx.storeOutput(action, outputs);
    for (const e of attempt_log) {
      // Attempts that ended without a result (cancelled, interrupted) have no row of their own in version 1.
      if (e.outcome === "interrupted" || e.outcome === "cancelled") {
        fx.emit({
          type: "close_attempt",
          action_id: action.id,
          iteration: e.iteration,
          attempt: e.attempt,
          started_at: e.started_at,
          outcome: e.outcome,
          ended_at: e.ended_at ?? e.started_at,
          ...(e.error ? { error: e.error } : {}),
        });
      }
    }
    if (loop_state) {
      const its = iterations ?? [];
      const failed = its.filter((it) => it.execution_status === "failed");
      action.loop_state = {
        current_index: loop_state.current_index,
        total: loop_state.total,
        failed: failed.length,
        succeeded: its.filter((it) => it.execution_status === "success").length,
        ...(failed[0]?.error_output ? { first_error: failed[0].error_output } : {}),
      };
      if (loop_items?.length) fx.storeLoopItems(action.id, loop_items);
      for (const it of its) {
        const { outputs: itOutputs, ...record } = it;
        fx.storeIteration(action.id, record, itOutputs);
      }
    }
    return action;
  });
  return { state: { ...(raw as StateV1), v: STATE_VERSION, actions } as ExecutionState, commands: fx.commands };
}
