import { describe, expect, it } from "vitest";
import { advance } from "../../src/engine/execution/advance";
import { retriggerRefusal } from "../../src/engine/execution/apply";
import { createExecution } from "../../src/engine/execution/create";
import { MemoryExecutionData } from "../../src/engine/execution/data";
import type {
  ActionOutcome,
  EngineEvent,
  ExecutionState,
  FlowActionDef,
  RunActionCommand,
} from "../../src/engine/execution/types";
import { OverlayExecutionData } from "../../src/engine/reruns/overlay-data";
import { previewRerun, type EffectPlanner } from "../../src/engine/reruns/preview";
import { httpEffect } from "../../src/engine/reruns/side-effects";

/** Reruns in the pure engine: the restart and reuse rules, attempt numbering, the preview's simulation. */

const hook = (id: string, extra: Partial<FlowActionDef> = {}): FlowActionDef => ({
  id,
  type: "call_webhook",
  config: { url: `https://x.test/${id}` },
  ...extra,
});

interface Run {
  state: ExecutionState;
  data: MemoryExecutionData;
  runs: RunActionCommand[];
}

/** Drives an execution from `event` until it waits for nothing, answering each run with `answer`. */
function drive(run: Run, event: EngineEvent, now: number, answer: (cmd: RunActionCommand) => ActionOutcome): Run {
  let next: EngineEvent | null = event;
  while (next) {
    const out = advance(run.state, next, now, run.data);
    run.state = out.state;
    run.data.apply(out.commands);
    const cmd = out.commands.find((c): c is RunActionCommand => c.type === "run_action");
    if (cmd) run.runs.push(cmd);
    next = cmd
      ? {
          type: "action_result",
          action_id: cmd.action_id,
          iteration: cmd.iteration,
          attempt: cmd.attempt,
          run: cmd.run,
          outcome: answer(cmd),
        }
      : null;
  }
  return run;
}

function start(actions: FlowActionDef[], extra: Record<string, unknown> = {}): Run {
  const created = createExecution(
    {
      id: "e",
      org_id: "o",
      entity_id: "r",
      entity: { _id: "r", items: ["a", "b"] },
      trigger_event: { type: "manual" },
      flow: { id: "f", flow_name: "f", version: 1, actions, retry_policy: { max_attempts: 1 }, ...extra },
    },
    0,
  );
  const run: Run = { state: created.state, data: new MemoryExecutionData(), runs: [] };
  run.data.apply(created.commands);
  return run;
}

const ok = (cmd: RunActionCommand): ActionOutcome => ({
  kind: "success",
  outputs: { from: cmd.action_id, item: cmd.iteration ?? null },
});
const failB = (cmd: RunActionCommand): ActionOutcome =>
  cmd.action_id === "b"
    ? { kind: "failed", error: { error_code: "TRIGGER_WEBHOOK_ERROR", error_reason: "500" }, retry: "never" }
    : ok(cmd);
type Retriggered = Extract<EngineEvent, { type: "retriggered" }>;
const retrigger = (action_id: string, extra: Partial<Retriggered> = {}): Retriggered => ({
  type: "retriggered",
  action_id,
  strategy: "RETRY_AND_RESUME",
  ...extra,
});

describe("the rerun rules", () => {
  it("a succeeded action of an ended execution restarts the run from it: it and every action after it", () => {
    const run = drive(start([hook("a"), hook("b"), hook("c")]), { type: "wake" }, 1, ok);
    run.runs = [];
    drive(run, retrigger("b"), 2, ok);
    expect(run.runs.map((r) => [r.action_id, r.number])).toEqual([
      ["b", 2],
      ["c", 2],
    ]);
    expect(run.state.status).toBe("success");
  });

  it("reuse_outputs keeps an action as it was, its outputs feeding later templates", () => {
    const run = drive(
      start([hook("a"), hook("b"), hook("c", { config: { url: "https://x.test/{{ actions.b.outputs.from }}" } })]),
      { type: "wake" },
      1,
      ok,
    );
    run.runs = [];
    drive(run, retrigger("a", { reuse_outputs: ["b"] }), 2, ok);
    expect(run.runs.map((r) => r.action_id)).toEqual(["a", "c"]);
    expect(run.runs[1].config.url).toBe("https://x.test/b");
    expect(run.data.output("b")).toEqual({ from: "b", item: null });
  });

  it("a failed action still resumes only what its failure skipped; a succeeded one waits for the run to end", () => {
    const run = drive(start([hook("a"), hook("b"), hook("c"), hook("d", { allow_failure: true })]), { type: "wake" }, 1, failB);
    expect(run.state.actions.map((a) => a.execution_status)).toEqual(["success", "failed", "skipped", "skipped"]);
    run.runs = [];
    drive(run, retrigger("b"), 2, ok);
    expect(run.runs.map((r) => r.action_id)).toEqual(["b", "c", "d"]);

    const running = start([hook("a"), { id: "w", type: "delay", config: { duration: 1, unit: "hours" } }]);
    drive(running, { type: "wake" }, 1, (cmd) => (cmd.action_type === "delay" ? { kind: "wait", until: 3_600_001 } : ok(cmd)));
    expect(running.state.status).toBe("scheduled");
    expect(retriggerRefusal(running.state, "a", "RETRY_AND_RESUME")).toMatch(/once the execution has ended/);
  });

  it("a looped action rerun numbers its items' attempts on after every attempt it made (attempt_base)", () => {
    const loopFlow = { loops: [{ id: "l", source_path: "entity.items" }] };
    const run = drive(start([hook("each", { loop_id: "l" })], loopFlow), { type: "wake" }, 1, ok);
    expect(run.runs.map((r) => [r.iteration, r.number])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    run.runs = [];
    drive(run, retrigger("each"), 2, ok);
    expect(run.runs.map((r) => [r.iteration, r.number])).toEqual([
      [0, 3],
      [1, 3],
    ]);
    expect(run.state.actions[0].attempt_base).toBe(2);
  });
});

describe("the preview's simulation", () => {
  const plan: EffectPlanner = async (_s, cmd) => ({
    effects: [httpEffect("POST", String(cmd.config.url), cmd.idempotency_key)],
  });

  it("applies the same event to a copy: the state and the stored data are untouched, the runs are the rerun's", async () => {
    const run = drive(start([hook("a"), hook("b"), hook("c")]), { type: "wake" }, 1, failB);
    const before = structuredClone(run.state);
    const outputsBefore = [...run.data.outputs.keys()];
    const event = retrigger("b");
    const p = await previewRerun(run.state, event, 2, run.data, plan, new Set(["e:a", "e:b"]));
    expect(run.state).toEqual(before);
    expect([...run.data.outputs.keys()]).toEqual(outputsBefore);
    run.runs = [];
    drive(run, event, 2, ok);
    expect(p.effects.map((e) => [e.action_id, e.attempt, e.target, e.idempotency_key, e.repeats_idempotency_key])).toEqual(
      run.runs.map((r) => [r.action_id, r.number, `x.test/${r.action_id}`, r.idempotency_key, r.action_id === "b"]),
    );
    expect(p.actions.map((a) => a.decision)).toEqual(["reuse-output", "re-execute", "re-execute"]);
  });

  it("an action the planner refuses fails in the preview as in the run: what follows is skipped", async () => {
    const run = drive(start([hook("a"), hook("b"), hook("c")]), { type: "wake" }, 1, failB);
    const refusing: EffectPlanner = async (s, cmd) =>
      cmd.action_id === "b" ? { effects: [], failure: { error_code: "BAD_CONFIG", error_reason: "refused" } } : plan(s, cmd);
    const p = await previewRerun(run.state, retrigger("b"), 2, run.data, refusing, new Set());
    expect(p.status_after).toBe("failed");
    expect(p.effects).toEqual([]);
    expect(p.actions.map((a) => [a.decision, a.calls])).toEqual([
      ["reuse-output", 0],
      ["re-execute", 1],
      ["skip", 0],
    ]);
  });

  it("an overlay shadows deleted outputs and cleared loops, and reads the rest from the stored data", () => {
    const base = new MemoryExecutionData();
    base.outputs.set("a", { v: 1 });
    base.outputs.set("b", { v: 2 });
    base.iterations.set("l", new Map([[0, { i: 0 }]]));
    const overlay = new OverlayExecutionData(base);
    overlay.apply([
      { type: "store_output", action_id: "a", outputs: null, truncated: false },
      { type: "clear_iterations", action_id: "l" },
      { type: "store_iteration", action_id: "l", iteration: { index: 1, execution_status: "success" }, outputs: { i: 1 } },
    ]);
    expect(overlay.output("a")).toBeUndefined();
    expect(overlay.output("b")).toEqual({ v: 2 });
    expect(overlay.iterationOutputs("l")).toEqual([null, { i: 1 }]);
    expect(base.output("a")).toEqual({ v: 1 });
  });
});
