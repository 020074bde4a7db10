import { applyEvent } from "./apply";
import { plan } from "./plan";
import type { AdvanceResult, EngineEvent, ExecutionState } from "./types";

/**
 * The engine's one decision function: applies what happened (`event`) to a copy of the state and
 * decides what to do next. No I/O, no clock of its own: `now` is passed in.
 */
export function advance(prev: ExecutionState, event: EngineEvent, now: number): AdvanceResult {
  const state = structuredClone(prev);
  applyEvent(state, event, now);
  const commands = plan(state, now);
  if (state.status !== prev.status || event.type === "started") {
    state.updated_at = now;
    commands.unshift({ type: "write_summary" });
  }
  state.seq = prev.seq + 1;
  return { state, commands };
}
