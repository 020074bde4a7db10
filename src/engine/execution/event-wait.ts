import { specAccepts } from "../event-waits";
import type { Effects } from "./effects";
import { failAction, succeedAction } from "./transitions";
import type { ActionState, Command, EngineEvent, EventWaitState, ExecutionState, FlowActionDef } from "./types";
import { isFinal } from "./types";

/**
 * The wait of a `wait_for_event` action. Its handler returns the rendered wait (outcome `wait_event`); the
 * action is `paused` from then on and the engine asks the object to index it (`register_wait`), which
 * answers with the events its lookback found (`wait_registered`). Later events come one by one
 * (`event_received`). Every event is checked here again: the index only finds candidates. The wait ends
 * when its specs are met (`any`: one, `all`: each) or at its timeout (`on_timeout`); either way the
 * index entry goes (`clear_wait`). Outputs: `{event}` (one spec) or `{events}` (several), or `{timed_out: true}`.
 */

/** The action is waiting for an event (a wait that is not over). */
export const isWaitingForEvent = (action: ActionState): boolean =>
  action.event_wait !== undefined && !isFinal(action.execution_status);

/** The execution waits for an event: it is `paused` but its timeout still needs a wake-up. */
export const waitsForEvent = (state: ExecutionState): boolean => state.actions.some(isWaitingForEvent);

/** The action's handler asked to wait: the action pauses, the engine asks for the wait to be indexed. */
export function beginEventWait(
  state: ExecutionState,
  action: ActionState,
  wait: Omit<EventWaitState, "registered" | "matched">,
  now: number,
): void {
  action.event_wait = { ...wait, registered: false, matched: [] };
  action.execution_status = "paused";
  action.updated_at = now;
  state.status = "paused";
}

/** The events matched so far, by spec index (stored as the action's outputs while the wait lasts). */
function matchedEvents(action: ActionState, fx: Effects): (Record<string, unknown> | null)[] {
  const stored = fx.output(action.id)?.events;
  return Array.isArray(stored) ? (stored as (Record<string, unknown> | null)[]) : [];
}

function endWait(action: ActionState, fx: Effects): void {
  action.event_wait = undefined;
  fx.emit({ type: "clear_wait", action_id: action.id });
}

/** Records an event for spec `index` if it satisfies it; ends the wait when the specs are met. */
function receive(
  state: ExecutionState,
  action: ActionState,
  index: number,
  event: Record<string, unknown>,
  now: number,
  fx: Effects,
): void {
  const wait = action.event_wait;
  const spec = wait?.specs[index];
  if (!wait || !spec || wait.matched.includes(index) || !specAccepts(spec, event, wait.since)) return;
  wait.matched.push(index);
  const events = matchedEvents(action, fx);
  while (events.length < wait.specs.length) events.push(null);
  events[index] = event;
  const done = wait.mode === "any" || wait.matched.length === wait.specs.length;
  if (!done) {
    // `all`: the events so far are kept as outputs (a row, not the state) until the last one comes.
    fx.storeOutput(action, { events });
    action.updated_at = now;
    return;
  }
  const outputs = wait.single ? { event } : { events: wait.mode === "any" ? [event] : events };
  endWait(action, fx);
  action.execution_status = "in_progress";
  succeedAction(action, now, outputs, fx);
  if (state.status === "paused" && !state.resume) state.status = "in_progress";
}

/** Applies `wait_registered` and `event_received`; anything for an action that no longer waits changes nothing. */
export function applyWaitEvent(
  state: ExecutionState,
  event: Extract<EngineEvent, { type: "wait_registered" | "event_received" }>,
  now: number,
  fx: Effects,
): void {
  const action = state.actions.find((a) => a.id === event.action_id);
  if (!action || !isWaitingForEvent(action) || isFinal(state.status)) return;
  if (event.type === "event_received") {
    receive(state, action, event.spec, event.event, now, fx);
    return;
  }
  action.event_wait!.registered = true;
  for (const m of event.matches) if (action.event_wait) receive(state, action, m.spec, m.event, now, fx);
}

/**
 * What a waiting action needs when the planner reaches it: to be indexed (again, after a crash), a wake-up
 * at its timeout, or — the timeout passed — to end as `on_timeout` says. Returns null when the action is no
 * longer waiting (the planner goes on).
 */
export function planEventWait(
  state: ExecutionState,
  action: ActionState,
  def: FlowActionDef,
  now: number,
  fx: Effects,
): Command[] | null {
  const wait = action.event_wait!;
  if (now >= wait.until) {
    const partial = matchedEvents(action, fx).filter((e) => e !== null);
    endWait(action, fx);
    if (wait.on_timeout === "fail") {
      action.execution_status = "in_progress";
      failAction(
        state,
        action,
        def,
        now,
        { error_code: "TIMEOUT_ERROR", error_reason: "No matching event arrived before the timeout" },
        fx,
      );
    } else {
      action.execution_status = "in_progress";
      succeedAction(action, now, { timed_out: true, ...(partial.length ? { events: partial } : {}) }, fx);
    }
    return null;
  }
  state.status = "paused";
  const wake: Command = { type: "wake_at", at: wait.until };
  // Not indexed yet (the step that asked died, or this is that step): asked again, with a wake-up now so a
  // crash before the index write brings the execution back to ask once more.
  return wait.registered
    ? [wake]
    : [
        { type: "register_wait", action_id: action.id, wait },
        { type: "wake_at", at: now },
      ];
}

/** A cancel or a retrigger ends the action's wait: its index entry goes. */
export function dropEventWait(action: ActionState, fx: Effects): void {
  if (action.event_wait) endWait(action, fx);
}

/** Why an event cannot be delivered to the action (the object answers the caller with it), or null. */
export function deliveryRefusal(state: ExecutionState, actionId: string, spec: number): string | null {
  const action = state.actions.find((a) => a.id === actionId);
  if (isFinal(state.status) || !action || !isWaitingForEvent(action)) return `Action ${actionId} is not waiting for an event`;
  if (!action.event_wait!.specs[spec]) return `The wait of action ${actionId} has no spec ${spec}`;
  return null;
}
