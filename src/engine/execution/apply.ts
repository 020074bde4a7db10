import { evaluateSimpleConditions } from "../conditions";
import { buildContext } from "./context";
import { effectiveRetryPolicy, nextAttemptAt } from "./retry";
import { SKIPPED_AFTER_FAILURE, failAction, resetAction, skipAction, succeedAction } from "./transitions";
import type { ActionState, EngineEvent, ExecutionState, FlowActionDef, StatementExplanation } from "./types";
import { isFinal } from "./types";

type SimpleCondition = Parameters<typeof evaluateSimpleConditions>[0][number];

/** Coherence-style flow conditions (`{field, operator, value}`) gate the whole run. */
const isSimpleCondition = (c: Record<string, unknown>): boolean => typeof c.field === "string" && typeof c.operator === "string";

function defOf(state: ExecutionState, actionId: string): { action: ActionState; def: FlowActionDef; index: number } | null {
  const index = state.actions.findIndex((a) => a.id === actionId);
  if (index < 0) return null;
  return { action: state.actions[index], def: state.flow.actions[index], index };
}

function closeAttempt(
  action: ActionState,
  attempt: number,
  iteration: number | undefined,
  now: number,
  outcome: NonNullable<ActionState["attempt_log"][number]["outcome"]>,
  error?: ActionState["error_output"],
) {
  const entry = action.attempt_log.find((e) => e.attempt === attempt && e.iteration === iteration && e.ended_at === undefined);
  if (entry) Object.assign(entry, { ended_at: now, outcome, error });
  action.in_flight = undefined;
}

function start(state: ExecutionState, now: number): void {
  if (state.status !== "pending") return;
  state.status = "in_progress";
  state.started_at = now;
  const simple = (state.flow.conditions ?? []).filter(isSimpleCondition) as unknown as SimpleCondition[];
  if (simple.length === 0) return;
  const result = evaluateSimpleConditions(simple, buildContext(state, now));
  state.conditions_evaluated = { passed: result.passed, statements: result.statements as StatementExplanation[] };
  if (!result.passed) {
    for (const a of state.actions) skipAction(a, now, { message: "The flow's conditions were not met" });
    state.cursor = state.actions.length;
  }
}

function applyResult(state: ExecutionState, event: Extract<EngineEvent, { type: "action_result" }>, now: number): void {
  const found = defOf(state, event.action_id);
  if (!found) return;
  const { action, def } = found;
  // A result for an attempt that is no longer in flight (a duplicate, or after a cancel) changes nothing.
  if (!action.in_flight || action.in_flight.run !== event.run) return;
  const { outcome } = event;
  const iteration = event.iteration;
  switch (outcome.kind) {
    case "success":
      closeAttempt(action, event.attempt, iteration, now, "success");
      succeedAction(action, now, outcome.outputs, iteration);
      return;
    case "failed": {
      closeAttempt(action, event.attempt, iteration, now, "failed", outcome.error);
      const retryAt = nextAttemptAt(effectiveRetryPolicy(state.flow, def), action.attempts, outcome.retry, now);
      if (retryAt !== null) {
        action.next_attempt_at = retryAt;
        action.error_output = outcome.error;
        action.updated_at = now;
        return;
      }
      failAction(state, action, def, now, outcome.error, iteration);
      return;
    }
    case "paused":
      closeAttempt(action, event.attempt, iteration, now, "paused");
      action.execution_status = "paused";
      action.paused_iteration = iteration;
      action.outputs = { ...(action.outputs ?? {}), ...(outcome.outputs ?? {}) };
      action.updated_at = now;
      state.resume = { action_id: action.id, token_hash: outcome.token_hash, issued_at: now };
      state.status = "paused";
      return;
    case "wait":
      closeAttempt(action, event.attempt, iteration, now, "waiting");
      action.wait_until = outcome.until;
      action.updated_at = now;
      return;
    case "cancel_execution":
      closeAttempt(action, event.attempt, iteration, now, "success");
      succeedAction(action, now, { cancelled_execution: true, reason: outcome.reason });
      cancel(state, now, outcome.reason);
      return;
  }
}

function cancel(state: ExecutionState, now: number, reason?: string): void {
  if (isFinal(state.status)) return;
  for (const a of state.actions) {
    if (a.in_flight) closeAttempt(a, a.in_flight.attempt, a.in_flight.iteration, now, "cancelled");
    if (!isFinal(a.execution_status)) {
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

/** Why a retrigger is refused, or null when it may proceed. */
export function retriggerRefusal(state: ExecutionState, actionId: string, strategy: string, conditionId?: string): string | null {
  const found = defOf(state, actionId);
  if (!found) return `Action ${actionId} is not part of this execution`;
  if (state.status === "cancelled") return "The execution was cancelled";
  const s = found.action.execution_status;
  if (!["failed", "in_progress", "starting", "paused", "scheduled", "pending"].includes(s)) {
    return `Action ${actionId} is ${s}; only a failed or stuck action can be retried`;
  }
  if (strategy === "RETRY_ALL_PARENT_CONDITION_ACTIONS") {
    const cid = conditionId ?? found.def.condition_id;
    if (!cid) return "RETRY_ALL_PARENT_CONDITION_ACTIONS needs a condition_id (in the request or on the action)";
    if (!state.flow.actions.some((d) => d.condition_id === cid)) return `No action of this execution has condition ${cid}`;
  }
  return null;
}

function retrigger(state: ExecutionState, event: Extract<EngineEvent, { type: "retriggered" }>, now: number): void {
  if (retriggerRefusal(state, event.action_id, event.strategy, event.condition_id)) return;
  const found = defOf(state, event.action_id)!;
  const inFlight = found.action.in_flight;
  if (inFlight) closeAttempt(found.action, inFlight.attempt, inFlight.iteration, now, "interrupted");

  let first = found.index;
  if (event.strategy === "RETRY_ALL_PARENT_CONDITION_ACTIONS") {
    const cid = event.condition_id ?? found.def.condition_id;
    state.flow.actions.forEach((d, i) => {
      if (d.condition_id === cid) {
        resetAction(state.actions[i], event.strategy);
        first = Math.min(first, i);
      }
    });
  } else {
    resetAction(found.action, event.strategy);
  }
  if (event.strategy === "RETRY_AND_STOP") {
    state.stop_after = found.action.id;
  } else {
    state.stop_after = undefined;
    for (let i = first + 1; i < state.actions.length; i++) {
      const a = state.actions[i];
      const code = a.reason?.payload?.code;
      if ((a.execution_status === "skipped" && code === SKIPPED_AFTER_FAILURE) || a.execution_status === "cancelled") {
        resetAction(a, undefined);
        a.retry_strategy = undefined;
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

/** Applies one event to the state (in place). */
export function applyEvent(state: ExecutionState, event: EngineEvent, now: number): void {
  switch (event.type) {
    case "started":
      start(state, now);
      return;
    case "wake":
      return;
    case "action_result":
      applyResult(state, event, now);
      return;
    case "action_interrupted": {
      const found = defOf(state, event.action_id);
      if (!found?.action.in_flight || found.action.in_flight.run !== event.run) return;
      const { action, def } = found;
      const error = {
        error_code: "INTERNAL_ERROR" as const,
        error_reason: "The runtime restarted while this attempt was in flight; its outcome is unknown",
      };
      closeAttempt(action, event.attempt, event.iteration, now, "interrupted", error);
      // Retried at once (with the same idempotency key), within the action's attempt budget.
      const retryAt = nextAttemptAt(effectiveRetryPolicy(state.flow, def), action.attempts, { after_ms: 0 }, now);
      if (retryAt !== null) action.next_attempt_at = retryAt;
      else failAction(state, action, def, now, error, event.iteration);
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
          ...(found.action.outputs ?? {}),
          resumed: true,
          resumed_at: new Date(now).toISOString(),
          payload: event.payload ?? null,
        },
        iteration,
      );
      state.resume = undefined;
      state.status = "in_progress";
      return;
    }
    case "cancelled":
      cancel(state, now, event.reason);
      return;
    case "retriggered":
      retrigger(state, event, now);
      return;
    case "schedule_cancelled":
      cancelSchedule(state, event.schedule_id, now);
      return;
  }
}
