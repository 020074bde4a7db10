import { LIMITS } from "../../lib/limits";
import { DelayRunConfig, delayUntil } from "../delay";
import { advance } from "../execution/advance";
import type {
  ActionOutcome,
  ErrorOutput,
  ExecutionData,
  ExecutionState,
  ExecutionStatus,
  RunActionCommand,
} from "../execution/types";
import { isFinal } from "../execution/types";
import { ledgerTotals, type LedgerTotals } from "./ledger";
import { OverlayExecutionData } from "./overlay-data";
import type { SideEffect } from "./side-effects";

/**
 * The preview of a rerun: the `retriggered` event applied by the engine's own advance(), as the real rerun
 * applies it, then the execution simulated to its end with every action answered at once (the clock jumps
 * over delays and schedules). Nothing is sent: what each action would send comes from `plan` (the action
 * types' own description of their effects), what it answers is what it answered last time (its recorded
 * outputs), so later templates and loops see what they saw. Pure: `plan` is the caller's.
 */

/** What an action run would send, or why it would fail before sending anything. */
export interface PlannedEffects {
  effects: SideEffect[];
  failure?: ErrorOutput;
}
export type EffectPlanner = (state: ExecutionState, cmd: RunActionCommand) => Promise<PlannedEffects>;

export type RerunDecision = "re-execute" | "reuse-output" | "skip";

export interface ActionDecision {
  action_id: string;
  action_name: string;
  action_type: string;
  decision: RerunDecision;
  status_before: ExecutionStatus;
  status_after: ExecutionStatus;
  /** Handler calls the rerun would make (one per loop item). */
  calls: number;
  effects: number;
  reason?: string;
}

export interface PreviewEffect extends Omit<SideEffect, "outcome" | "status" | "ref" | "tokens" | "requests"> {
  action_id: string;
  action_name: string;
  action_type: string;
  iteration: number | null;
  attempt: number;
  repeats_idempotency_key: boolean;
}

export interface RerunPreview {
  execution_id: string;
  action_id: string;
  retry_strategy: string;
  condition_id?: string;
  reuse_outputs: string[];
  status_before: ExecutionStatus;
  /** The execution's status at the end of the simulated rerun. */
  status_after: ExecutionStatus;
  /** False when the simulation stopped before a final status (the step limit). */
  complete: boolean;
  actions: ActionDecision[];
  effects: PreviewEffect[];
  totals: LedgerTotals;
  /** What the preview assumes. */
  assumptions: string[];
}

const ASSUMPTIONS = [
  "Each action re-executed answers as it did last time (its recorded outputs) and succeeds at its first attempt.",
  "Delays and schedules are not waited for; an action that pauses for a callback is taken as resumed.",
];

/** What an action "answers" in the preview (see above). */
function answer(cmd: RunActionCommand, planned: PlannedEffects, recorded: ExecutionData, now: number): ActionOutcome {
  if (planned.failure) return { kind: "failed", error: planned.failure, retry: "never" };
  if (cmd.action_type === "delay") {
    const parsed = DelayRunConfig.safeParse(cmd.config);
    if (!parsed.success)
      return { kind: "failed", error: { error_code: "BAD_CONFIG", error_reason: "Invalid config for delay" }, retry: "never" };
    return { kind: "wait", until: delayUntil(parsed.data, now) };
  }
  if (cmd.action_type === "cancel-flow-execution")
    return { kind: "cancel_execution", reason: `Cancelled by action ${cmd.action_id}` };
  const outputs =
    cmd.iteration === undefined ? recorded.output(cmd.action_id) : recorded.iterationOutputs(cmd.action_id)[cmd.iteration];
  return { kind: "success", outputs: outputs ?? {} };
}

/** Recorded iteration outputs are read once per action (a loop asks for each item's). */
function memoized(base: ExecutionData): ExecutionData {
  const iterations = new Map<string, (Record<string, unknown> | null)[]>();
  return {
    output: (id) => base.output(id),
    loopItem: (id, i) => base.loopItem(id, i),
    iterationOutputs: (id) => {
      if (!iterations.has(id)) iterations.set(id, base.iterationOutputs(id));
      return iterations.get(id)!;
    },
  };
}

export async function previewRerun(
  before: ExecutionState,
  event: Extract<Parameters<typeof advance>[1], { type: "retriggered" }>,
  now: number,
  stored: ExecutionData,
  plan: EffectPlanner,
  /** Idempotency keys the execution already sent (its ledger). */
  sentKeys: ReadonlySet<string>,
): Promise<RerunPreview> {
  const recorded = memoized(stored);
  const data = new OverlayExecutionData(recorded);
  const first = advance(before, event, now, data);
  data.apply(first.commands);
  let state = first.state;
  let commands = first.commands;
  const reset = new Set(
    state.actions
      .filter((a, i) => a.execution_status === "pending" && before.actions[i].execution_status !== "pending")
      .map((a) => a.id),
  );
  const calls = new Map<string, number>();
  const effects: PreviewEffect[] = [];
  const seen = new Set(sentKeys);
  const defs = new Map(state.flow.actions.map((d) => [d.id, d]));
  let clock = now;

  for (let steps = 0; !isFinal(state.status) && steps < LIMITS.MAX_DRY_RUN_STEPS; steps++) {
    const run = commands.find((c): c is RunActionCommand => c.type === "run_action");
    let next: Parameters<typeof advance>[1];
    if (run) {
      const planned = await plan(state, run);
      calls.set(run.action_id, (calls.get(run.action_id) ?? 0) + 1);
      const def = defs.get(run.action_id);
      for (const e of planned.effects) {
        const key = e.idempotency_key;
        effects.push({
          action_id: run.action_id,
          action_name: def?.name || run.action_id,
          action_type: run.action_type,
          iteration: run.iteration ?? null,
          attempt: run.number ?? run.attempt,
          kind: e.kind,
          target: e.target,
          ...(e.method ? { method: e.method } : {}),
          idempotency_key: key,
          dedupe: e.dedupe,
          ...(e.operation ? { operation: e.operation } : {}),
          ...(e.note ? { note: e.note } : {}),
          repeats_idempotency_key: key !== null && seen.has(key),
        });
        if (key !== null) seen.add(key);
      }
      const { action_id, iteration, attempt } = run;
      next = {
        type: "action_result",
        action_id,
        iteration,
        attempt,
        run: run.run,
        outcome: answer(run, planned, recorded, clock),
      };
    } else {
      const wake = commands.filter((c) => c.type === "wake_at").map((c) => (c as { at: number }).at);
      if (wake.length === 0) break; // paused, or waiting for nothing the simulation can give
      clock = Math.max(clock, Math.min(...wake));
      next = { type: "wake" };
    }
    ({ state, commands } = advance(state, next, clock, data));
    data.apply(commands);
  }

  const effectsOf = (id: string) => effects.filter((e) => e.action_id === id).length;
  const actions: ActionDecision[] = state.actions.map((a, i) => {
    const was = before.actions[i];
    const n = calls.get(a.id) ?? 0;
    const base = {
      action_id: a.id,
      action_name: defs.get(a.id)?.name || a.id,
      action_type: a.type,
      status_before: was.execution_status,
      status_after: a.execution_status,
      calls: n,
      effects: effectsOf(a.id),
    };
    if (n > 0 || (reset.has(a.id) && a.execution_status === "success")) return { ...base, decision: "re-execute" as const };
    if (a.execution_status === "success") {
      const reason = event.reuse_outputs?.includes(a.id)
        ? "reuse_outputs: its recorded outputs are used"
        : "kept from the earlier run: its recorded outputs are used";
      return { ...base, decision: "reuse-output" as const, reason };
    }
    const reason =
      a.reason?.message ??
      (isFinal(a.execution_status) ? `kept as it was (${a.execution_status})` : "not reached by the simulation");
    return { ...base, decision: "skip" as const, reason };
  });

  return {
    execution_id: before.id,
    action_id: event.action_id,
    retry_strategy: event.strategy,
    ...(event.condition_id ? { condition_id: event.condition_id } : {}),
    reuse_outputs: event.reuse_outputs ?? [],
    status_before: before.status,
    status_after: state.status,
    complete: isFinal(state.status),
    actions,
    effects,
    totals: ledgerTotals(effects),
    assumptions: ASSUMPTIONS,
  };
}
