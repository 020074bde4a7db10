import { applyEvent } from "./apply";
import { Effects } from "./effects";
import { plan } from "./plan";
import type { AdvanceResult, EngineEvent, ExecutionData, ExecutionState } from "./types";
import { isFinal } from "./types";

/** Outputs, items and iterations of an execution that has none (a fresh one, or a test of pure rules). */
export const NO_DATA: ExecutionData = {
  output: () => undefined,
  loopItem: () => undefined,
  iterationOutputs: () => [],
};

/** Copies the mutable part of the state; the flow snapshot and the creation input never change, so they are shared. */
function copyState(prev: ExecutionState): ExecutionState {
  const { flow, entity, trigger_event, trigger_events, workflow_context, variables, user, ...mutable } = prev;
  const copy: ExecutionState = { ...structuredClone(mutable), flow, entity, trigger_event, workflow_context, variables, user };
  if (trigger_events) copy.trigger_events = trigger_events;
  return copy;
}

/**
 * The engine's one decision function: applies what happened (`event`) to a copy of the state and
 * decides what to do next. No I/O, no clock of its own: `now` is passed in, and what lives outside the
 * state value (outputs, loop items) is read through `data`. Every effect is a command: the status
 * summary, each entry into or out of a final status, each stored output, each wake-up, each action run.
 */
export function advance(prev: ExecutionState, event: EngineEvent, now: number, data: ExecutionData = NO_DATA): AdvanceResult {
  const state = copyState(prev);
  const fx = new Effects(data);
  applyEvent(state, event, now, fx);
  const planned = plan(state, now, fx);
  const commands = [...fx.commands, ...planned];
  if (state.status !== prev.status || event.type === "started") {
    state.updated_at = now;
    commands.unshift({ type: "write_summary" });
  }
  if (!isFinal(prev.status) && isFinal(state.status)) commands.push({ type: "finished", status: state.status });
  if (isFinal(prev.status) && !isFinal(state.status)) commands.push({ type: "clear_retention" });
  state.seq = prev.seq + 1;
  return { state, commands };
}
