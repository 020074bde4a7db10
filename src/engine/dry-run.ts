import { LIMITS } from "../lib/limits";
import { DelayRunConfig, delayUntil } from "./delay";
import { advance } from "./execution/advance";
import { createExecution, type NewExecution } from "./execution/create";
import { MemoryExecutionData } from "./execution/data";
import { isFinal } from "./execution/types";
import type {
  ActionOutcome,
  ActionState,
  EngineEvent,
  ErrorOutput,
  ExecutionState,
  ExecutionStatus,
  FlowActionDef,
  LoopDef,
  RunActionCommand,
  StatementExplanation,
} from "./execution/types";

export interface ActionPreview {
  action_id: string;
  action_type: string;
  name?: string;
  /** The action's handler would be called (at least once), or it would succeed without a call (a loop over no items). */
  would_run: boolean;
  /** The action's status at the end of the simulated run. */
  status: ExecutionStatus;
  skip_reason?: string;
  condition?: { condition_id: string; passed: boolean; statements: StatementExplanation[] };
  /** The config of its first call (the first item of a loop), templates rendered. */
  rendered_config?: Record<string, unknown>;
  template_error?: string;
  /** Why the action would fail (template error, loop source not a list, bad schedule, a delay's bad config). */
  error?: ErrorOutput;
  /** The due time of its schedule, as the run computes it (may be in the past: the action then runs at once). */
  scheduled_for?: string;
  /** When its first call would be made, on the simulated clock. */
  runs_at?: string;
  /** A `delay` action: when the wait would be over. */
  waits_until?: string;
  /** Number of loop items, hence of iterations. */
  loop_items?: number;
  /** What the preview cannot know (e.g. a loop over outputs a dry run does not have). */
  note?: string;
}

export interface DryRunResult {
  would_execute: boolean;
  conditions_passed: boolean;
  conditions_evaluated: StatementExplanation[];
  actions_preview: ActionPreview[];
  /** The execution's status at the end of the simulated run. */
  status: ExecutionStatus;
  /** False when the simulation stopped before a final status (the step limit). */
  complete: boolean;
  /** When the run would finish, on the simulated clock (schedules and delays are not waited for, only added up). */
  finishes_at?: string;
}

export interface DryRunOptions {
  /**
   * Sample outputs per action id, used as that action's (and each of its iterations') outputs instead of
   * the synthetic `{ dry_run: true, config }`, so later templates, conditions and loops can read them.
   */
  outputs?: Record<string, Record<string, unknown>>;
}

// ---- the engine, driven with synthetic outcomes ----------------------------------------------------

interface Simulation {
  input: NewExecution;
  /** Undefined until the execution is created (the first step). */
  state?: ExecutionState;
  now: number;
  /** Outputs and loop items, kept outside the state as the object keeps them in rows. */
  data: MemoryExecutionData;
}

interface StepResult {
  runs: RunActionCommand[];
  wakeAt?: number;
  finished: boolean;
}

/**
 * The one place the dry run meets the engine: creates the execution (no event) or applies one event
 * through `advance()`, as the object does, and keeps the commands a preview acts on. Anything else
 * (write_summary, storage and retention commands) is the object's business and ignored, as is any
 * command type added later.
 */
function step(sim: Simulation, event?: EngineEvent): StepResult {
  const { state, commands } =
    sim.state && event ? advance(sim.state, event, sim.now, sim.data) : createExecution(sim.input, sim.now);
  sim.state = state;
  sim.data.apply(commands);
  const out: StepResult = { runs: [], finished: false };
  for (const c of commands) {
    if (c.type === "run_action") out.runs.push(c);
    else if (c.type === "wake_at") out.wakeAt = Math.min(out.wakeAt ?? c.at, c.at);
    else if (c.type === "finished") out.finished = true;
  }
  return out;
}

/**
 * What the action "answers" in a dry run. A delay waits (its wake-up is computed as the handler does),
 * cancel-flow-execution cancels, every other action succeeds with synthetic (or sample) outputs: a
 * preview cannot know what a target would answer, so it assumes success, including for pauses.
 */
function syntheticOutcome(cmd: RunActionCommand, now: number, options: DryRunOptions): ActionOutcome {
  if (cmd.action_type === "delay") {
    const parsed = DelayRunConfig.safeParse(cmd.config);
    if (!parsed.success) {
      return {
        kind: "failed",
        error: {
          error_code: "BAD_CONFIG",
          error_reason: "Invalid config for delay",
          error_info: { details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
        },
        retry: "never",
      };
    }
    return { kind: "wait", until: delayUntil(parsed.data, now) };
  }
  if (cmd.action_type === "cancel-flow-execution")
    return { kind: "cancel_execution", reason: `Cancelled by action ${cmd.action_id}` };
  return { kind: "success", outputs: options.outputs?.[cmd.action_id] ?? { dry_run: true, config: cmd.config } };
}

interface ActionTrace {
  first?: { config: Record<string, unknown>; at: number };
  waitsUntil?: number;
}

interface Simulated {
  state: ExecutionState;
  traces: Map<string, ActionTrace>;
}

/** Runs the execution from its creation to a final status (or the step limit), answering every command at once. */
function simulate(input: NewExecution, now: number, options: DryRunOptions): Simulated {
  const sim: Simulation = { input, now, data: new MemoryExecutionData() };
  const traces = new Map<string, ActionTrace>();
  const events: EngineEvent[] = [];
  let out = step(sim);
  // The limit is read at call time (not captured at load), so the bound in force applies, tests included.
  for (let steps = 0; !out.finished; steps++) {
    for (const cmd of out.runs) {
      const trace = traces.get(cmd.action_id) ?? {};
      trace.first ??= { config: cmd.config, at: sim.now };
      const outcome = syntheticOutcome(cmd, sim.now, options);
      if (outcome.kind === "wait") trace.waitsUntil = outcome.until;
      traces.set(cmd.action_id, trace);
      const { action_id, iteration, attempt, run } = cmd;
      events.push({ type: "action_result", action_id, iteration, attempt, run, outcome });
    }
    // Schedules and delays are not waited for: the clock jumps to the wake-up.
    if (out.runs.length === 0 && out.wakeAt !== undefined) {
      sim.now = Math.max(sim.now, out.wakeAt);
      events.push({ type: "wake" });
    }
    if (events.length === 0 || steps >= LIMITS.MAX_DRY_RUN_STEPS) break;
    out = step(sim, events.shift());
  }
  return { state: sim.state!, traces };
}

// ---- the preview ------------------------------------------------------------------------------------

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The action a loop's source path reads outputs from (`actions.<id>.outputs...`), if any. */
function outputsSourceOf(loop: LoopDef | undefined): string | undefined {
  return loop?.source_path.trim().match(/^actions\.([^.[\s]+)\.outputs/)?.[1];
}

function skipReason(action: ActionState, complete: boolean): string | undefined {
  if (action.reason) return action.reason.message;
  if (action.execution_status === "cancelled") return "The execution would be cancelled before this action";
  if (!complete && !isFinal(action.execution_status)) {
    return `Not reached: the dry run stops after ${LIMITS.MAX_DRY_RUN_STEPS} steps`;
  }
  return undefined;
}

function previewOf(
  def: FlowActionDef,
  action: ActionState,
  trace: ActionTrace | undefined,
  sim: Simulated,
  options: DryRunOptions,
): ActionPreview {
  const complete = isFinal(sim.state.status);
  const wouldRun = trace?.first !== undefined || action.execution_status === "success";
  const preview: ActionPreview = {
    action_id: def.id,
    action_type: def.type,
    name: def.name,
    would_run: wouldRun,
    status: action.execution_status,
  };
  if (!wouldRun) preview.skip_reason = skipReason(action, complete);
  if (action.condition_result) preview.condition = action.condition_result;
  if (trace?.first) {
    preview.rendered_config = trace.first.config;
    preview.runs_at = iso(trace.first.at);
  }
  if (trace?.waitsUntil !== undefined) preview.waits_until = iso(trace.waitsUntil);
  if (action.scheduled_for !== undefined) preview.scheduled_for = iso(action.scheduled_for);
  if (action.loop_state) preview.loop_items = action.loop_state.total;
  if (action.execution_status === "failed" && action.error_output) {
    preview.error = action.error_output;
    if (action.error_output.error_code === "TEMPLATE_ERROR") preview.template_error = action.error_output.error_reason;
  }
  const source = outputsSourceOf(sim.state.flow.loops?.find((l) => l.id === def.loop_id));
  if (source && !options.outputs?.[source]) {
    preview.note =
      `The loop reads outputs of action ${source}, which a dry run does not have: ` +
      `pass sample outputs in \`outputs.${source}\` to preview its items`;
  }
  return preview;
}

/**
 * The dry run: the flow runs through the engine's own `advance()`, from `started` to its end, with every
 * action answered at once by a synthetic outcome (see syntheticOutcome) and the clock jumping over schedules
 * and delays. Conditions, schedules, loops and skips are therefore decided by the same code as in a run;
 * only what actions answer is made up. Nothing runs and nothing is stored.
 */
export function dryRun(input: NewExecution, now: number, options: DryRunOptions = {}): DryRunResult {
  const sim = simulate(input, now, options);
  const { state } = sim;
  const previews = state.flow.actions.map((def, i) => previewOf(def, state.actions[i], sim.traces.get(def.id), sim, options));
  const flowLevel = state.conditions_evaluated ?? { passed: true, statements: [] };
  const actionStatements = previews.flatMap((p) => p.condition?.statements ?? []);
  return {
    would_execute: flowLevel.passed && previews.some((p) => p.would_run),
    conditions_passed: flowLevel.passed && previews.every((p) => !p.condition || p.condition.passed),
    conditions_evaluated: [...flowLevel.statements, ...actionStatements],
    actions_preview: previews,
    status: state.status,
    complete: isFinal(state.status),
    finishes_at: iso(state.finished_at),
  };
}
