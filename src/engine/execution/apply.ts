import { evaluateSimpleConditions } from "../conditions";
import { buildContext } from "./context";
import { effectiveRetryPolicy, nextAttemptAt } from "./retry";
import { cappedError, type Effects } from "./effects";
import { applyWaitEvent, beginEventWait, dropEventWait } from "./event-wait";
import { SKIPPED_AFTER_FAILURE, failAction, resetAction, skipAction, succeedAction } from "./transitions";
import type { ActionOutcome, ActionState, EngineEvent, ExecutionState, FlowActionDef, StatementExplanation } from "./types";
import { RETRIABLE_STATUSES, isFinal } from "./types";
import { COHERENCE_OPERATORS, type SimpleCondition } from "../../schemas/conditions";

const OPERATORS: ReadonlySet<string> = new Set(COHERENCE_OPERATORS);

/** Coherence-style flow conditions (`{field, operator, value}`) gate the whole run; epilot's are stored beside them. */
const isSimpleCondition = (c: Record<string, unknown>): c is SimpleCondition =>
  typeof c.field === "string" && typeof c.operator === "string" && OPERATORS.has(c.operator);

function defOf(state: ExecutionState, actionId: string): { action: ActionState; def: FlowActionDef; index: number } | null {
  const index = state.actions.findIndex((a) => a.id === actionId);
  if (index < 0) return null;
  return { action: state.actions[index], def: state.flow.actions[index], index };
}

/** Ends the in-flight attempt; only attempts the engine ends itself are recorded by command (results are recorded by the runner). */
function endAttempt(
  action: ActionState,
  now: number,
  fx: Effects,
  closedBy?: { outcome: "interrupted" | "cancelled"; error?: ActionState["error_output"] },
) {
  if (action.in_flight && closedBy) fx.closeAttempt(action, action.in_flight, now, closedBy.outcome, closedBy.error);
  action.in_flight = undefined;
}

function start(state: ExecutionState, now: number, fx: Effects): void {
  if (state.status !== "pending") return;
  state.status = "in_progress";
  state.started_at = now;
  const simple = (state.flow.conditions ?? []).filter(isSimpleCondition);
  if (simple.length === 0) return;
  const result = evaluateSimpleConditions(simple, buildContext(state, now, fx));
  state.conditions_evaluated = { passed: result.passed, statements: result.statements as StatementExplanation[] };
  if (!result.passed) {
    for (const a of state.actions) skipAction(a, now, { message: "The flow's conditions were not met" });
    state.cursor = state.actions.length;
  }
}

function applyResult(
  state: ExecutionState,
  event: Extract<EngineEvent, { type: "action_result" }>,
  now: number,
  fx: Effects,
): void {
  const found = defOf(state, event.action_id);
  if (!found) return;
  const { action, def } = found;
  // A result for an attempt that is no longer in flight (a duplicate, or after a cancel) changes nothing.
  if (!action.in_flight || action.in_flight.run !== event.run) return;
  const { outcome } = event;
  const iteration = event.iteration;
  endAttempt(action, now, fx);
  // A multi-step action's approval decision is taken by the step that ran after it.
  if (outcome.kind !== "step") action.approval = undefined;
  switch (outcome.kind) {
    case "success":
      endProgress(action, fx);
      succeedAction(action, now, outcome.outputs, fx, iteration);
      return;
    case "failed": {
      const retryAt = nextAttemptAt(effectiveRetryPolicy(state.flow, def), action.attempts, outcome.retry, now);
      if (retryAt !== null) {
        action.next_attempt_at = retryAt;
        action.error_output = cappedError(outcome.error);
        action.updated_at = now;
        return;
      }
      endProgress(action, fx);
      failAction(state, action, def, now, outcome.error, fx, iteration);
      return;
    }
    case "step":
      applyStep(state, action, outcome, now, fx, iteration);
      return;
    case "paused":
      action.execution_status = "paused";
      action.paused_iteration = iteration;
      if (outcome.outputs) fx.storeOutput(action, { ...(fx.output(action.id) ?? {}), ...outcome.outputs });
      action.updated_at = now;
      state.resume = { action_id: action.id, token_hash: outcome.token_hash, issued_at: now };
      state.status = "paused";
      return;
    case "wait":
      action.wait_until = outcome.until;
      action.updated_at = now;
      return;
    case "wait_event":
      if (iteration !== undefined) {
        const error = { error_code: "BAD_CONFIG" as const, error_reason: "wait_for_event cannot run inside a loop" };
        failAction(state, action, def, now, error, fx, iteration);
        return;
      }
      beginEventWait(state, action, outcome.wait, now);
      return;
    case "cancel_execution":
      succeedAction(action, now, { cancelled_execution: true, reason: outcome.reason }, fx);
      cancel(state, now, fx, outcome.reason);
      return;
  }
}

/** A multi-step action ended (or starts over): its progress row goes. */
function endProgress(action: ActionState, fx: Effects): void {
  if (action.step === undefined) return;
  fx.storeProgress(action.id, null);
}

/**
 * One step of a multi-step action is done: its progress is kept and the action runs again with a fresh retry
 * budget (plan() sees `step` and does not gate it again); a step that asks for approval pauses the execution.
 */
function applyStep(
  state: ExecutionState,
  action: ActionState,
  outcome: Extract<ActionOutcome, { kind: "step" }>,
  now: number,
  fx: Effects,
  iteration: number | undefined,
): void {
  fx.storeProgress(action.id, outcome.progress);
  if (outcome.outputs) fx.storeOutput(action, outcome.outputs);
  action.step = (action.step ?? 0) + 1;
  action.attempts = 0;
  action.error_output = undefined;
  action.updated_at = now;
  action.approval = outcome.approval ? { ...outcome.approval, requested_at: now } : undefined;
  if (outcome.approval) {
    action.execution_status = "paused";
    action.paused_iteration = iteration;
    state.status = "paused";
  }
}

/** A decision on the tool call an action waits for: the action runs again and its next step takes the decision. */
function decideApproval(state: ExecutionState, event: Extract<EngineEvent, { type: "approval_decided" }>, now: number): void {
  if (approvalRefusal(state, event.action_id)) return;
  const action = defOf(state, event.action_id)!.action;
  action.approval = {
    ...action.approval!,
    decision: event.decision,
    ...(event.comment ? { comment: event.comment } : {}),
    ...(event.by ? { decided_by: event.by } : {}),
    decided_at: now,
  };
  action.execution_status = "in_progress";
  action.paused_iteration = undefined;
  action.updated_at = now;
  state.status = "in_progress";
}

/** Why an approval decision cannot be applied, or null. */
function approvalRefusal(state: ExecutionState, actionId: string): ControlRefusal | null {
  const found = defOf(state, actionId);
  if (!found) return { status: 404, message: `Action ${actionId} not found` };
  const a = found.action;
  if (state.status !== "paused" || a.execution_status !== "paused" || !a.approval || a.approval.decision)
    return { status: 409, message: `Action ${actionId} is not waiting for approval (it is ${a.execution_status})` };
  return null;
}

function cancel(state: ExecutionState, now: number, fx: Effects, reason?: string): void {
  if (isFinal(state.status)) return;
  for (const a of state.actions) {
    endAttempt(a, now, fx, { outcome: "cancelled" });
    dropEventWait(a, fx);
    if (!isFinal(a.execution_status)) {
      endProgress(a, fx);
      a.approval = undefined;
      a.execution_status = "cancelled";
      a.updated_at = now;
      a.next_attempt_at = undefined;
      a.wait_until = undefined;
    }
  }
  state.resume = undefined;
  state.cancel_reason = reason;
  state.status = "cancelled";
  state.finished_at = now;
}

/**
 * Why a retrigger is refused, or null when it may proceed. A failed or stuck action can be retried at any
 * time; an action that ended otherwise (success, skipped) can be rerun from once the execution has ended.
 */
export function retriggerRefusal(state: ExecutionState, actionId: string, strategy: string, conditionId?: string): string | null {
  const found = defOf(state, actionId);
  if (!found) return `Action ${actionId} is not part of this execution`;
  if (state.status === "cancelled") return "The execution was cancelled";
  // Created final without running (a hot flow, a start flow control skipped): rerunning it would go around the
  // limit that stopped it; a new start is admitted like any other.
  if (state.status === "hot") return "The execution was not run: its flow was hot (max_executions); start a new execution";
  if (state.admission?.decision === "skipped") return "The execution was skipped by flow control; start a new execution";
  const s = found.action.execution_status;
  if (!RETRIABLE_STATUSES.has(s) && !isFinal(state.status)) {
    return `Action ${actionId} is ${s} and the execution is still ${state.status}: a step that ended can be rerun once the execution has ended`;
  }
  if (strategy === "RETRY_ALL_PARENT_CONDITION_ACTIONS") {
    const cid = conditionId ?? found.def.condition_id;
    if (!cid) return "RETRY_ALL_PARENT_CONDITION_ACTIONS needs a condition_id (in the request or on the action)";
    if (!state.flow.actions.some((d) => d.condition_id === cid)) return `No action of this execution has condition ${cid}`;
  }
  return null;
}

/** Why `reuse_outputs` cannot be honoured: an action that is not part of the execution (400), or has no outputs to reuse (409). */
export function reuseRefusal(state: ExecutionState, reuse: readonly string[] | undefined): ControlRefusal | null {
  for (const id of reuse ?? []) {
    const a = state.actions.find((x) => x.id === id);
    if (!a) return { status: 400, message: `reuse_outputs: action ${id} is not part of this execution` };
    if (a.execution_status !== "success")
      return {
        status: 409,
        message: `reuse_outputs: action ${id} is ${a.execution_status}; only a succeeded action's outputs can be reused`,
      };
  }
  return null;
}

/**
 * The rerun. The target (or every action under the condition) starts over, then: RETRY_AND_STOP stops after
 * it; otherwise the actions after it come back too: those the failure skipped (or a cancel stopped) when the
 * target had failed or was stuck, every one when it had ended well (a restart from that step). An action in
 * `reuse_outputs` is left as it is: not sent again, its recorded outputs feed the steps after it.
 */
function retrigger(state: ExecutionState, event: Extract<EngineEvent, { type: "retriggered" }>, now: number, fx: Effects): void {
  if (retriggerRefusal(state, event.action_id, event.strategy, event.condition_id)) return;
  if (reuseRefusal(state, event.reuse_outputs)) return;
  const found = defOf(state, event.action_id)!;
  const reuse = new Set(event.reuse_outputs ?? []);
  const restart = !RETRIABLE_STATUSES.has(found.action.execution_status);
  endAttempt(found.action, now, fx, { outcome: "interrupted" });
  const reset = (a: ActionState, strategy: ActionState["retry_strategy"]) => {
    if (!reuse.has(a.id)) resetAction(a, strategy, fx);
  };

  let first = found.index;
  if (event.strategy === "RETRY_ALL_PARENT_CONDITION_ACTIONS") {
    const cid = event.condition_id ?? found.def.condition_id;
    state.flow.actions.forEach((d, i) => {
      if (d.condition_id === cid) {
        reset(state.actions[i], event.strategy);
        first = Math.min(first, i);
      }
    });
  } else {
    reset(found.action, event.strategy);
  }
  if (event.strategy === "RETRY_AND_STOP") {
    state.stop_after = found.action.id;
  } else {
    state.stop_after = undefined;
    for (let i = first + 1; i < state.actions.length; i++) {
      const a = state.actions[i];
      const code = a.reason?.payload?.code;
      const skippedByFailure = a.execution_status === "skipped" && code === SKIPPED_AFTER_FAILURE;
      if ((restart && isFinal(a.execution_status)) || skippedByFailure || a.execution_status === "cancelled") {
        reset(a, undefined);
      }
    }
  }
  state.cursor = first;
  state.status = "in_progress";
  state.finished_at = undefined;
  state.resume = undefined;
  state.last_error = undefined;
}

function cancelSchedule(state: ExecutionState, scheduleId: string, now: number): void {
  if (isFinal(state.status)) return;
  state.flow.actions.forEach((def, i) => {
    const cond = def.condition_id ? state.flow.conditions?.find((c) => c.id === def.condition_id) : undefined;
    const effective = def.schedule_id ?? (cond?.schedule_id as string | undefined);
    const a = state.actions[i];
    if (effective === scheduleId && (a.execution_status === "scheduled" || a.execution_status === "pending")) {
      a.execution_status = "cancelled";
      a.updated_at = now;
      a.reason = { message: `Schedule ${scheduleId} was cancelled` };
    }
  });
}

/** Applies one event to the state (in place); what must happen besides goes to `fx` as commands. */
export function applyEvent(state: ExecutionState, event: EngineEvent, now: number, fx: Effects): void {
  switch (event.type) {
    case "created":
      return;
    case "started":
    case "wake":
      // The first wake of a pending execution starts it (version-1 logs say `started`).
      start(state, now, fx);
      return;
    case "action_result":
      applyResult(state, event, now, fx);
      return;
    case "action_interrupted": {
      const found = defOf(state, event.action_id);
      if (!found?.action.in_flight || found.action.in_flight.run !== event.run) return;
      const { action, def } = found;
      const error = {
        error_code: "INTERNAL_ERROR" as const,
        error_reason: "The runtime restarted while this attempt was in flight; its outcome is unknown",
      };
      endAttempt(action, now, fx, { outcome: "interrupted", error });
      // Retried at once (with the same idempotency key), within the action's attempt budget.
      const retryAt = nextAttemptAt(effectiveRetryPolicy(state.flow, def), action.attempts, { after_ms: 0 }, now);
      if (retryAt !== null) action.next_attempt_at = retryAt;
      else failAction(state, action, def, now, error, fx, event.iteration);
      return;
    }
    case "resumed": {
      if (state.status !== "paused" || state.resume?.action_id !== event.action_id) return;
      const found = defOf(state, event.action_id);
      if (!found) return;
      const iteration = found.action.paused_iteration;
      found.action.paused_iteration = undefined;
      found.action.execution_status = "in_progress";
      succeedAction(
        found.action,
        now,
        {
          ...(fx.output(found.action.id) ?? {}),
          resumed: true,
          resumed_at: new Date(now).toISOString(),
          payload: event.payload ?? null,
        },
        fx,
        iteration,
      );
      state.resume = undefined;
      state.status = "in_progress";
      return;
    }
    case "cancelled":
      cancel(state, now, fx, event.reason);
      return;
    case "retriggered":
      retrigger(state, event, now, fx);
      return;
    case "schedule_cancelled":
      cancelSchedule(state, event.schedule_id, now);
      return;
    case "wait_registered":
    case "event_received":
      applyWaitEvent(state, event, now, fx);
      return;
    case "approval_decided":
      decideApproval(state, event, now);
      return;
  }
}

export type ControlRefusal = { status: 404 | 409 | 400; message: string };

/**
 * Why a control call (cancel, retrigger, resume, cancelSchedule) cannot be applied to this execution, or
 * null: the object asks the engine instead of inspecting the state itself.
 */
export function controlRefusal(state: ExecutionState, event: EngineEvent): ControlRefusal | null {
  switch (event.type) {
    case "cancelled":
      return isFinal(state.status) ? { status: 409, message: `The execution already ended (${state.status})` } : null;
    case "schedule_cancelled":
      if (!state.flow.schedules?.some((s) => s.id === event.schedule_id))
        return { status: 404, message: `Schedule ${event.schedule_id} not found` };
      return isFinal(state.status) ? { status: 409, message: `The execution already ended (${state.status})` } : null;
    case "retriggered": {
      if (!state.actions.some((a) => a.id === event.action_id))
        return { status: 404, message: `Action ${event.action_id} not found` };
      const refusal = retriggerRefusal(state, event.action_id, event.strategy, event.condition_id);
      return refusal ? { status: 409, message: refusal } : reuseRefusal(state, event.reuse_outputs);
    }
    case "approval_decided":
      return approvalRefusal(state, event.action_id);
    case "resumed":
      if (state.status !== "paused" || !state.resume)
        return { status: 400, message: `The execution is ${state.status}, not waiting to be resumed (a token is single use)` };
      return null;
    default:
      return null;
  }
}
