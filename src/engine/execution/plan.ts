import { evaluateFlowCondition } from "../conditions";
import { renderValue, TemplateError } from "../templates";
import { buildContext } from "./context";
import { scheduleDueAt } from "./schedule-math";
import type { Effects } from "./effects";
import { planEventWait, waitsForEvent } from "./event-wait";
import { failAction, finalStatus, skipAction } from "./transitions";
import type { ActionState, Command, ExecutionState, FlowActionDef, StatementExplanation } from "./types";
import { isFinal } from "./types";
import { LIMITS } from "../../lib/limits";

/** Most items a looped action iterates over (a named limit in LIMITS; kept here as an alias). */
export const MAX_LOOP_ITEMS = LIMITS.MAX_LOOP_ITEMS;

type ConditionDef = { id?: string; schedule_id?: string; evaluation_order?: string } & Record<string, unknown>;

function conditionOf(state: ExecutionState, def: FlowActionDef): ConditionDef | undefined {
  if (!def.condition_id) return undefined;
  return state.flow.conditions?.find((c) => c.id === def.condition_id) as ConditionDef | undefined;
}

/** Evaluates an action's gating condition; false marks the action skipped with the explanation. */
function passesCondition(state: ExecutionState, action: ActionState, cond: ConditionDef, now: number, fx: Effects): boolean {
  const result = evaluateFlowCondition(cond as Parameters<typeof evaluateFlowCondition>[0], buildContext(state, now, fx));
  const statements = result.statements as StatementExplanation[];
  action.condition_result = { condition_id: String(cond.id), passed: result.passed, statements };
  if (!result.passed) {
    skipAction(action, now, {
      message: `Condition ${cond.id} was not met`,
      payload: { condition_id: cond.id, statements },
    });
  }
  return result.passed;
}

function idempotencyKey(state: ExecutionState, actionId: string, iteration?: number): string {
  return iteration === undefined ? `${state.id}:${actionId}` : `${state.id}:${actionId}:${iteration}`;
}

/** Resolves a loop's `source_path` (e.g. `entity.items`, `actions.a1.outputs.rows`, `steps[0]['Contracts']`). */
function loopItems(state: ExecutionState, sourcePath: string, now: number, fx: Effects): unknown {
  const ctx = buildContext(state, now, fx);
  const path = sourcePath.trim();
  const first = path.split(/[.[]/, 1)[0];
  // A path that does not start at a context root is read from the entity, as epilot's paths are.
  const rooted = first in ctx ? path : `entity.${path}`;
  return renderValue(`{{ ${rooted} }}`, ctx).value;
}

/**
 * Decides what the execution does next, from its cursor on: skips actions whose condition fails, waits
 * for schedules, delays and retry backoffs, expands loops, renders the next action's config and asks
 * for it to run. Marks the attempt in flight first, so the state that is stored before the side effect
 * already says an attempt started.
 */
export function plan(state: ExecutionState, now: number, fx: Effects): Command[] {
  // A pause for a resume token waits for the resume; one for an event still has its timeout to keep.
  if (isFinal(state.status) || (state.status === "paused" && !waitsForEvent(state))) return [];
  const flow = state.flow;

  while (state.cursor < state.actions.length) {
    const action = state.actions[state.cursor];
    const def = flow.actions[state.cursor];

    if (state.stop_after && state.actions.find((a) => a.id === state.stop_after && isFinal(a.execution_status))) break;
    if (isFinal(action.execution_status)) {
      state.cursor++;
      continue;
    }
    if (action.in_flight) return []; // a result is awaited
    if (action.event_wait) {
      const waiting = planEventWait(state, action, def, now, fx);
      if (waiting) return waiting;
      continue;
    }
    if (action.execution_status === "paused") {
      state.status = "paused";
      return [];
    }

    if (action.next_attempt_at !== undefined) {
      if (action.next_attempt_at > now) {
        state.status = "in_progress";
        return [{ type: "wake_at", at: action.next_attempt_at }];
      }
      action.next_attempt_at = undefined;
    } else if (action.wait_until !== undefined) {
      if (action.wait_until > now) {
        state.status = "scheduled";
        return [{ type: "wake_at", at: action.wait_until }];
      }
      action.execution_status = "success";
      fx.storeOutput(action, { ...(fx.output(action.id) ?? {}), waited_until: new Date(action.wait_until).toISOString() });
      action.updated_at = now;
      action.wait_until = undefined;
      continue;
    } else if (action.attempts === 0 && !action.loop_state && action.step === undefined) {
      // First visit: conditions and schedules gate the action (a multi-step action's next step is not a first visit).
      const cond = conditionOf(state, def);
      if (def.condition_id && !cond) {
        failAction(
          state,
          action,
          def,
          now,
          { error_code: "BAD_CONFIG", error_reason: `Unknown condition ${def.condition_id}` },
          fx,
        );
        continue;
      }
      const scheduleId = def.schedule_id ?? cond?.schedule_id;
      const evalBefore = cond?.evaluation_order === "BEFORE_SCHEDULE";
      if (scheduleId && !action.schedule_done) {
        if (action.scheduled_for === undefined) {
          if (cond && evalBefore && !passesCondition(state, action, cond, now, fx)) continue;
          const schedule = flow.schedules?.find((s) => s.id === scheduleId);
          const due = schedule ? scheduleDueAt(schedule, state, fx) : { error: `Unknown schedule ${scheduleId}` };
          if ("error" in due) {
            failAction(state, action, def, now, { error_code: "INVALID_SCHEDULE_CONFIG", error_reason: due.error }, fx);
            continue;
          }
          action.scheduled_for = due.at;
        }
        if (action.scheduled_for > now) {
          action.execution_status = "scheduled";
          action.updated_at ??= now;
          state.status = "scheduled";
          return [{ type: "wake_at", at: action.scheduled_for }];
        }
        action.schedule_done = true;
        if (cond && !evalBefore && !passesCondition(state, action, cond, now, fx)) continue;
      } else if (cond && !passesCondition(state, action, cond, now, fx)) {
        continue;
      }

      if (def.loop_id) {
        const loop = flow.loops?.find((l) => l.id === def.loop_id);
        if (!loop) {
          failAction(state, action, def, now, { error_code: "BAD_CONFIG", error_reason: `Unknown loop ${def.loop_id}` }, fx);
          continue;
        }
        let items: unknown;
        try {
          items = loopItems(state, loop.source_path, now, fx);
        } catch (err) {
          failAction(
            state,
            action,
            def,
            now,
            { error_code: "TEMPLATE_ERROR", error_reason: String((err as Error).message ?? err) },
            fx,
          );
          continue;
        }
        if (!Array.isArray(items)) {
          failAction(
            state,
            action,
            def,
            now,
            { error_code: "INVALID_PAYLOAD", error_reason: `Loop ${loop.id}: "${loop.source_path}" is not an array` },
            fx,
          );
          continue;
        }
        if (items.length > MAX_LOOP_ITEMS) {
          failAction(
            state,
            action,
            def,
            now,
            {
              error_code: "INVALID_PAYLOAD",
              error_reason: `Loop ${loop.id} has ${items.length} items; at most ${MAX_LOOP_ITEMS} are allowed`,
            },
            fx,
          );
          continue;
        }
        action.loop_state = { current_index: 0, total: items.length, failed: 0, succeeded: 0 };
        if (items.length === 0) {
          action.execution_status = "success";
          fx.storeOutput(action, { iterations: [] });
          action.updated_at = now;
          continue;
        }
        fx.storeLoopItems(action.id, items);
      }
    }

    // Run the action (or its current loop iteration).
    const iteration = action.loop_state ? action.loop_state.current_index : undefined;
    const loopScope = iteration === undefined ? undefined : { item: fx.loopItem(action.id, iteration), index: iteration };
    let config: Record<string, unknown>;
    try {
      config = renderValue(def.config ?? {}, buildContext(state, now, fx, loopScope)).value as Record<string, unknown>;
    } catch (err) {
      failAction(
        state,
        action,
        def,
        now,
        {
          error_code: "TEMPLATE_ERROR",
          // A TemplateError's message already names the field; other errors get the prefix.
          error_reason: err instanceof TemplateError ? err.message : `Template error: ${(err as Error).message}`,
        },
        fx,
        iteration,
      );
      continue;
    }
    action.attempts += 1;
    action.attempts_total += 1;
    state.runs += 1;
    // The attempt's number in the run history: counts on across retriggers (which reset the retry budget,
    // `attempts`), so an earlier attempt's record is never overwritten. Per iteration inside a loop, on from
    // the numbers a rerun's earlier loop used (attempt_base).
    const number = iteration === undefined ? action.attempts_total : (action.attempt_base ?? 0) + action.attempts;
    action.in_flight = { attempt: action.attempts, number, iteration, started_at: now, run: state.runs };
    action.execution_status = "in_progress";
    action.started_at ??= now;
    action.updated_at = now;
    if (iteration !== undefined && action.attempts === 1) {
      fx.storeIteration(action.id, { index: iteration, execution_status: "in_progress", started_at: now });
    }
    state.status = "in_progress";
    return [
      {
        type: "run_action",
        action_id: action.id,
        action_type: action.type,
        attempt: action.attempts,
        number,
        iteration,
        run: state.runs,
        config,
        idempotency_key: idempotencyKey(state, action.id, iteration),
      },
    ];
  }

  // advance() emits `finished` for every entry into a final status, this one included.
  state.status = finalStatus(state);
  state.finished_at = now;
  return [];
}
