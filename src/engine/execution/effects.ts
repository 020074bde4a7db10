import { LIMITS } from "../../lib/limits";
import { capOutput } from "./data";
import type { ActionOutcome, ActionState, AttemptOutcome, Command, ErrorOutput, ExecutionData, IterationRecord } from "./types";

/**
 * The commands one advance() emits, and the execution data as those commands leave it: a decision
 * later in the same step (a loop's summary, the next action's templates) sees the outputs stored
 * earlier in it, before the object has written them.
 */
export class Effects implements ExecutionData {
  readonly commands: Command[] = [];
  private readonly outputs = new Map<string, Record<string, unknown> | null>();
  private readonly items = new Map<string, unknown[]>();
  private readonly iterations = new Map<string, Map<number, Record<string, unknown> | null>>();
  private readonly clearedIterations = new Set<string>();

  constructor(private readonly base: ExecutionData) {}

  emit(command: Command): void {
    this.commands.push(command);
  }

  output(actionId: string): Record<string, unknown> | undefined {
    if (this.outputs.has(actionId)) return this.outputs.get(actionId) ?? undefined;
    return this.base.output(actionId);
  }

  loopItem(actionId: string, index: number): unknown {
    const items = this.items.get(actionId);
    return items ? items[index] : this.base.loopItem(actionId, index);
  }

  iterationOutputs(actionId: string): (Record<string, unknown> | null)[] {
    const stored = this.clearedIterations.has(actionId) ? [] : this.base.iterationOutputs(actionId);
    const out = [...stored];
    for (const [i, v] of this.iterations.get(actionId) ?? []) {
      while (out.length < i) out.push(null);
      out[i] = v;
    }
    return out;
  }

  /** Stores an action's outputs, capped at MAX_ACTION_OUTPUT_BYTES. */
  storeOutput(action: ActionState, outputs: Record<string, unknown>): void {
    const capped = capOutput(outputs, LIMITS.MAX_ACTION_OUTPUT_BYTES);
    this.outputs.set(action.id, capped.outputs);
    action.has_outputs = true;
    action.outputs_truncated = capped.truncated || undefined;
    this.emit({ type: "store_output", action_id: action.id, outputs: capped.outputs, truncated: capped.truncated });
  }

  storeLoopItems(actionId: string, items: unknown[]): void {
    this.items.set(actionId, items);
    this.emit({ type: "store_loop_items", action_id: actionId, items });
  }

  /** Upserts an iteration's record; outputs (capped at MAX_ITERATION_OUTPUT_BYTES) when given. */
  storeIteration(actionId: string, record: IterationRecord, outputs?: Record<string, unknown>): void {
    if (outputs === undefined) {
      this.emit({ type: "store_iteration", action_id: actionId, iteration: record });
      return;
    }
    const capped = capOutput(outputs, LIMITS.MAX_ITERATION_OUTPUT_BYTES);
    const rows = this.iterations.get(actionId) ?? new Map<number, Record<string, unknown> | null>();
    rows.set(record.index, capped.outputs);
    this.iterations.set(actionId, rows);
    this.emit({
      type: "store_iteration",
      action_id: actionId,
      iteration: record,
      outputs: capped.outputs,
      truncated: capped.truncated,
    });
  }

  /** Forgets an action's outputs, items and iterations (a retrigger runs it from scratch). */
  clearActionData(action: ActionState, hadLoop: boolean): void {
    if (action.has_outputs) {
      this.outputs.set(action.id, null);
      this.emit({ type: "store_output", action_id: action.id, outputs: null, truncated: false });
    }
    action.has_outputs = undefined;
    action.outputs_truncated = undefined;
    if (hadLoop) {
      this.items.set(action.id, []);
      this.iterations.delete(action.id);
      this.clearedIterations.add(action.id);
      this.emit({ type: "store_loop_items", action_id: action.id, items: [] });
      this.emit({ type: "clear_iterations", action_id: action.id });
    }
  }

  /** Stores (null: deletes) a multi-step action's progress. */
  storeProgress(actionId: string, progress: unknown): void {
    this.emit({ type: "store_progress", action_id: actionId, progress });
  }

  closeAttempt(
    action: ActionState,
    inFlight: NonNullable<ActionState["in_flight"]>,
    now: number,
    outcome: AttemptOutcome,
    error?: ErrorOutput,
  ): void {
    this.emit({
      type: "close_attempt",
      action_id: action.id,
      iteration: inFlight.iteration,
      attempt: inFlight.number ?? inFlight.attempt,
      started_at: inFlight.started_at,
      outcome,
      ended_at: now,
      ...(error ? { error } : {}),
    });
  }
}

/** An error output as stored: cut to MAX_ERROR_OUTPUT_BYTES (a target's error body can be large). */
export function cappedError(error: ErrorOutput): ErrorOutput {
  if (!error.error_info) return error;
  const capped = capOutput(error.error_info, LIMITS.MAX_ERROR_OUTPUT_BYTES);
  return capped.truncated ? { ...error, error_info: capped.outputs } : error;
}

/** The attempt outcome recorded for an action's result (a step that asks for approval pauses). */
export function attemptOutcomeOf(outcome: Pick<ActionOutcome, "kind"> & { approval?: unknown }): AttemptOutcome {
  switch (outcome.kind) {
    case "wait":
      return "waiting";
    case "cancel_execution":
      return "success";
    case "step":
      return outcome.approval ? "paused" : "success";
    default:
      return outcome.kind;
  }
}
