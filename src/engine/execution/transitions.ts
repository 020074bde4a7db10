import type { ActionState, ErrorOutput, ExecutionState, ExecutionStatus, FlowActionDef } from "./types";
import { isFinal } from "./types";

/** Reason code on actions skipped because an earlier action failed: a RETRY_AND_RESUME brings them back. */
export const SKIPPED_AFTER_FAILURE = "previous_action_failed";

export function skipAction(action: ActionState, now: number, reason: ActionState["reason"]): void {
  action.execution_status = "skipped";
  action.updated_at = now;
  action.reason = reason;
}

/** Everything not yet final after the cursor is skipped (an earlier action failed the execution). */
function skipRemaining(state: ExecutionState, now: number, failedActionId: string): void {
  for (let i = state.cursor + 1; i < state.actions.length; i++) {
    const a = state.actions[i];
    if (!isFinal(a.execution_status)) {
      skipAction(a, now, {
        message: `Skipped because action ${failedActionId} failed`,
        payload: { code: SKIPPED_AFTER_FAILURE },
      });
    }
  }
}

function finishLoop(action: ActionState, now: number): void {
  const iterations = action.iterations ?? [];
  action.outputs = { iterations: iterations.map((it) => it.outputs ?? null) };
  const failed = iterations.find((it) => it.execution_status === "failed");
  action.execution_status = failed ? "failed" : "success";
  if (failed?.error_output) action.error_output = failed.error_output;
  action.updated_at = now;
}

/** Moves a looped action to its next item; finishes it after the last. */
function nextIteration(action: ActionState, now: number): void {
  if (!action.loop_state) return;
  action.loop_state.current_index++;
  action.attempts = 0;
  if (action.loop_state.current_index >= action.loop_state.total) finishLoop(action, now);
}

/** The action (or its current iteration) succeeded. */
export function succeedAction(action: ActionState, now: number, outputs: Record<string, unknown>, iteration?: number): void {
  action.error_output = undefined;
  if (iteration !== undefined && action.iterations) {
    const it = (action.iterations[iteration] ??= { index: iteration, execution_status: "in_progress" });
    it.execution_status = "success";
    it.outputs = outputs;
    it.error_output = undefined;
    it.ended_at = now;
    action.updated_at = now;
    nextIteration(action, now);
    return;
  }
  action.execution_status = "success";
  action.outputs = outputs;
  action.updated_at = now;
}

/**
 * The action (or its current iteration) failed for good. Without `allow_failure` this fails the
 * execution: the remaining actions are skipped.
 */
export function failAction(
  state: ExecutionState,
  action: ActionState,
  def: FlowActionDef,
  now: number,
  error: ErrorOutput,
  iteration?: number,
): void {
  action.updated_at = now;
  action.next_attempt_at = undefined;
  state.last_error = error;
  if (iteration !== undefined && action.iterations && action.loop_state) {
    const it = (action.iterations[iteration] ??= { index: iteration, execution_status: "in_progress" });
    it.execution_status = "failed";
    it.error_output = error;
    it.ended_at = now;
    if (def.allow_failure) {
      nextIteration(action, now);
      return;
    }
    for (let i = iteration + 1; i < action.loop_state.total; i++) {
      action.iterations[i] = { index: i, execution_status: "skipped" };
    }
    action.loop_state.current_index = action.loop_state.total;
    finishLoop(action, now);
  } else {
    action.execution_status = "failed";
    action.error_output = error;
  }
  if (!def.allow_failure) skipRemaining(state, now, action.id);
}

/** The execution's final status once no action is left to run. */
export function finalStatus(state: ExecutionState): ExecutionStatus {
  if (state.status === "cancelled") return "cancelled";
  const defs = new Map(state.flow.actions.map((d) => [d.id, d]));
  if (state.actions.some((a) => a.execution_status === "failed" && !defs.get(a.id)?.allow_failure)) return "failed";
  if (state.actions.length > 0 && state.actions.every((a) => a.execution_status === "skipped")) return "skipped";
  return "success";
}

/** Puts an action back to its initial state for a retrigger; a schedule already waited for is not waited again. */
export function resetAction(action: ActionState, strategy: ActionState["retry_strategy"]): void {
  const scheduleDone = action.schedule_done || action.scheduled_for !== undefined;
  Object.assign(action, {
    execution_status: "pending" as ExecutionStatus,
    outputs: undefined,
    error_output: undefined,
    attempts: 0,
    in_flight: undefined,
    next_attempt_at: undefined,
    wait_until: undefined,
    iterations: undefined,
    loop_items: undefined,
    loop_state: undefined,
    reason: undefined,
    condition_result: undefined,
    paused_iteration: undefined,
    schedule_done: scheduleDone || undefined,
    retry_strategy: strategy,
  });
}
