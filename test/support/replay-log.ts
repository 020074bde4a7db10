/**
 * Replay fixtures (test/fixtures/replays/README.md): a finished run's event log, the state its object
 * stored and every action's stored outputs. Replaying the log through the pure engine must give the same
 * state and outputs; this module is the replay, with no binding and no I/O, so it runs anywhere.
 */

import { advance } from "../../src/engine/execution/advance";
import { createExecution } from "../../src/engine/execution/create";
import { MemoryExecutionData } from "../../src/engine/execution/data";
import type { EngineEvent, ExecutionState, NewExecutionInput } from "../../src/engine/execution/types";

/** Layout version of the fixture file itself (not of the engine state it holds). */
export const FIXTURE_FORMAT = 1;

export interface ReplayEvent {
  seq: number;
  /** The engine clock (ms) the event was applied at: the `now` of its advance(). */
  at: number;
  type: string;
  data: EngineEvent;
}

export interface ReplayFixture {
  format: number;
  name: string;
  description: string;
  /** When it was recorded (ISO); informative only. */
  recorded_at: string;
  events: ReplayEvent[];
  /** The final state as the object stored it. */
  state: ExecutionState;
  /** Every action's stored outputs, by action id. */
  outputs: Record<string, Record<string, unknown>>;
}

export interface ReplayResult {
  state: ExecutionState;
  outputs: Record<string, Record<string, unknown>>;
  /** Command types emitted by each step, in order (the first entry is creation's). */
  commands: string[][];
}

/** A value as storage keeps it: JSON, so `undefined` members and key order do not count. */
export const asStored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * Replays a log from nothing: creation from the `created` event's input, then each later event through
 * advance() at its recorded time, with the data commands of every step applied to an in-memory store.
 */
export function replayLog(events: readonly ReplayEvent[]): ReplayResult {
  const [first, ...rest] = events;
  if (!first || first.data.type !== "created") {
    throw new Error(`a replayable log begins with a "created" event, not ${first ? `"${first.data.type}"` : "nothing"}`);
  }
  const created = createExecution(structuredClone(first.data.input) as NewExecutionInput, first.at);
  let state = created.state;
  const data = new MemoryExecutionData();
  data.apply(created.commands);
  const commands = [created.commands.map((c) => c.type)];
  for (const e of rest) {
    const step = advance(state, structuredClone(e.data), e.at, data);
    state = step.state;
    data.apply(step.commands);
    commands.push(step.commands.map((c) => c.type));
  }
  return { state: asStored(state), outputs: asStored(Object.fromEntries(data.outputs)), commands };
}
