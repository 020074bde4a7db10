import { cappedError, type Effects } from "./effects";
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

/** A loop's last iteration ended: the action's outputs are its iterations' outputs, its status their verdict. */
function finishLoop(action: ActionState, now: number, fx: Effects): void {
  fx.storeOutput(action, { iterations: fx.iterationOutputs(action.id) });
  const loop = action.loop_state!;
  action.execution_status = loop.failed > 0 ? "failed" : "success";
  if (loop.first_error) action.error_output = loop.first_error;
  action.updated_at = now;
}

/** Moves a looped action to its next item; finishes it after the last. */
function nextIteration(action: ActionState, now: number, fx: Effects): void {
  if (!action.loop_state) return;
  action.loop_state.current_index++;
  action.attempts = 0;
  if (action.loop_state.current_index >= action.loop_state.total) finishLoop(action, now, fx);
}

/** The action (or its current iteration) succeeded. */
export function succeedAction(
  action: ActionState,
  now: number,
  outputs: Record<string, unknown>,
  fx: Effects,
  iteration?: number,
): void {
  action.error_output = undefined;
  if (iteration !== undefined && action.loop_state) {
    fx.storeIteration(action.id, { index: iteration, execution_status: "success", ended_at: now }, outputs);
    action.loop_state.succeeded++;
    action.updated_at = now;
    nextIteration(action, now, fx);
    return;
  }
  action.execution_status = "success";
  fx.storeOutput(action, outputs);
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
  rawError: ErrorOutput,
  fx: Effects,
  iteration?: number,
): void {
  const error = cappedError(rawError);
  action.updated_at = now;
  action.next_attempt_at = undefined;
  state.last_error = error;
  if (iteration !== undefined && action.loop_state) {
    const loop = action.loop_state;
    fx.storeIteration(action.id, { index: iteration, execution_status: "failed", ended_at: now, error_output: error });
    loop.failed++;
    loop.first_error ??= error;
    if (def.allow_failure) {
      nextIteration(action, now, fx);
      return;
    }
    for (let i = iteration + 1; i < loop.total; i++) fx.storeIteration(action.id, { index: i, execution_status: "skipped" });
    loop.current_index = loop.total;
    finishLoop(action, now, fx);
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
export function resetAction(action: ActionState, strategy: ActionState["retry_strategy"], fx: Effects): void {
  const scheduleDone = action.schedule_done || action.scheduled_for !== undefined;
  // A wait_for_event still waiting leaves the index (the action waits again, afresh, when it runs).
  if (action.event_wait) fx.emit({ type: "clear_wait", action_id: action.id });
  const looped = action.loop_state !== undefined;
  fx.clearActionData(action, looped);
  // A loop's iterations number their attempts from 1: a rerun numbers on after every attempt made so far.
  if (looped && action.attempts_total > 0) action.attempt_base = action.attempts_total;
  // A multi-step action starts over: its progress goes with its outputs.
  if (action.step !== undefined) fx.storeProgress(action.id, null);
  Object.assign(action, {
    execution_status: "pending" as ExecutionStatus,
    error_output: undefined,
    attempts: 0,
    in_flight: undefined,
    next_attempt_at: undefined,
    wait_until: undefined,
    loop_state: undefined,
    reason: undefined,
    condition_result: undefined,
    paused_iteration: undefined,
    event_wait: undefined,
    step: undefined,
    approval: undefined,
    schedule_done: scheduleDone || undefined,
    retry_strategy: strategy,
  });
}
