import { describe, expect, it } from "vitest";
import { advance } from "../../../src/engine/execution/advance";
import { createExecution, type NewExecution } from "../../../src/engine/execution/create";
import { MemoryExecutionData } from "../../../src/engine/execution/data";
import { MAX_RETRY_AFTER_MS } from "../../../src/engine/execution/retry";
import type {
  ActionOutcome,
  Command,
  EngineEvent,
  ExecutionState,
  ExecutionStatus,
  FlowActionDef,
  FlowSnapshot,
  RetryStrategy,
  RunActionCommand,
} from "../../../src/engine/execution/types";
import { LIMITS } from "../../../src/lib/limits";

/**
 * The engine's rules as tables, one row a small flow and a script of events with their times, read
 * without workerd: the same cases as the recorded replays (test/fixtures/replays/), decided by the pure
 * engine alone. Each step names the event; `run` outcomes answer the action run the engine asked for last.
 */

const SEC = 1000;
const MIN = 60 * SEC;
const URL = "https://x.example";

/** An event in a script: a plain engine event, or the outcome of the run the engine asked for last. */
type Step =
  | { at: number; event: EngineEvent }
  | { at: number; run: ActionOutcome }
  | { at: number; interrupt: true }
  /** Retrigger, cancel, resume and cancelSchedule, as the API sends them. */
  | { at: number; retrigger: [actionId: string, strategy: RetryStrategy, conditionId?: string] };

interface Expect {
  status?: ExecutionStatus;
  actions?: ExecutionStatus[];
  /** The command types of this step, in order. */
  commands?: Command["type"][];
  /** Commands this step must contain (partial match). */
  contains?: Partial<Command>[];
}

interface Row {
  name: string;
  flow: Partial<FlowSnapshot> & { actions: FlowActionDef[] };
  input?: Partial<NewExecution>;
  /** Expected after creation. */
  created?: Expect;
  steps: (Step & { expect?: Expect })[];
}

const hook = (id: string, extra: Partial<FlowActionDef> = {}): FlowActionDef => ({
  id,
  type: "call_webhook",
  config: { url: `${URL}/${id}` },
  ...extra,
});
const ok = (outputs: Record<string, unknown> = { status: 200 }): ActionOutcome => ({ kind: "success", outputs });
const fail = (retry: Extract<ActionOutcome, { kind: "failed" }>["retry"] = "policy", status = 500): ActionOutcome => ({
  kind: "failed",
  error: { error_code: "TRIGGER_WEBHOOK_ERROR", error_reason: `answered ${status}` },
  retry,
});
const wake = (at: number, expect?: Expect) => ({ at, event: { type: "wake" } as EngineEvent, expect });

interface Sim {
  state: ExecutionState;
  data: MemoryExecutionData;
  created: Command[];
  steps: Command[][];
}

/** Runs a row: creation, then each step through advance(), the data commands applied as the object would. */
function simulate(row: Row): Sim {
  const input: NewExecution = {
    id: "e",
    org_id: "o",
    entity_id: "r",
    entity: { _id: "r" },
    trigger_event: { type: "manual" },
    ...row.input,
    flow: { id: "f", flow_name: row.name, version: 1, ...row.flow },
  };
  const created = createExecution(input, 0);
  const sim: Sim = { state: created.state, data: new MemoryExecutionData(), created: created.commands, steps: [] };
  sim.data.apply(created.commands);
  check(sim.state, created.commands, row.created, "created");
  let last: RunActionCommand | undefined;
  row.steps.forEach((step, i) => {
    const lastRun = () => {
      if (!last) throw new Error(`step ${i}: no action run to answer`);
      return { action_id: last.action_id, iteration: last.iteration, attempt: last.attempt, run: last.run };
    };
    const event: EngineEvent =
      "event" in step
        ? step.event
        : "run" in step
          ? { type: "action_result", ...lastRun(), outcome: step.run }
          : "interrupt" in step
            ? { type: "action_interrupted", ...lastRun() }
            : { type: "retriggered", action_id: step.retrigger[0], strategy: step.retrigger[1], condition_id: step.retrigger[2] };
    const out = advance(sim.state, event, step.at, sim.data);
    sim.state = out.state;
    sim.data.apply(out.commands);
    sim.steps.push(out.commands);
    last = out.commands.find((c): c is RunActionCommand => c.type === "run_action") ?? last;
    check(sim.state, out.commands, step.expect, `step ${i} (${event.type} at ${step.at})`);
  });
  return sim;
}

function check(state: ExecutionState, commands: Command[], want: Expect | undefined, where: string): void {
  if (!want) return;
  if (want.status) expect(state.status, `${where}: status`).toBe(want.status);
  if (want.actions)
    expect(
      state.actions.map((a) => a.execution_status),
      `${where}: actions`,
    ).toEqual(want.actions);
  if (want.commands)
    expect(
      commands.map((c) => c.type),
      `${where}: commands`,
    ).toEqual(want.commands);
  for (const c of want.contains ?? []) expect(commands, `${where}: commands`).toContainEqual(expect.objectContaining(c));
}

const finishedCount = (sim: Sim) => [sim.created, ...sim.steps].flat().filter((c) => c.type === "finished").length;

// ---- `finished` on every entry into a final status ----------------------------------------------

const FINISHES: (Row & { final: ExecutionStatus })[] = [
  {
    name: "success",
    final: "success",
    flow: { actions: [hook("a")] },
    steps: [
      wake(0, { status: "in_progress", commands: ["write_summary", "run_action"] }),
      {
        at: 10,
        run: ok(),
        expect: { commands: ["write_summary", "store_output", "finished"], contains: [{ type: "finished", status: "success" }] },
      },
    ],
  },
  {
    name: "failed (a 4xx is not retried)",
    final: "failed",
    flow: { actions: [hook("a"), hook("b")] },
    steps: [
      wake(0),
      { at: 10, run: fail("never", 404), expect: { actions: ["failed", "skipped"], commands: ["write_summary", "finished"] } },
    ],
  },
  {
    name: "cancel while an attempt is in flight",
    final: "cancelled",
    flow: { actions: [hook("a"), hook("b")] },
    steps: [
      wake(0),
      {
        at: 10,
        event: { type: "cancelled", reason: "by request" },
        expect: {
          actions: ["cancelled", "cancelled"],
          commands: ["write_summary", "close_attempt", "finished"],
          contains: [{ type: "close_attempt", action_id: "a", outcome: "cancelled", started_at: 0, ended_at: 10 }],
        },
      },
      // The attempt's late result changes nothing and emits nothing.
      { at: 20, run: ok(), expect: { status: "cancelled", commands: [] } },
    ],
  },
  {
    name: "the cancel_execution outcome (cancel-flow-execution)",
    final: "cancelled",
    flow: { actions: [{ id: "stop", type: "cancel-flow-execution" }, hook("b")] },
    steps: [
      wake(0),
      {
        at: 10,
        run: { kind: "cancel_execution", reason: "Duplicate" },
        expect: { actions: ["success", "cancelled"], contains: [{ type: "finished", status: "cancelled" }] },
      },
    ],
  },
  {
    name: "hot, at creation (createExecution)",
    final: "hot",
    flow: { actions: [hook("a")] },
    input: { hot: { message: "The flow is hot", payload: { code: "HOT_FLOW" } } },
    created: { status: "hot", actions: ["skipped"], commands: ["write_summary", "finished"] },
    steps: [],
  },
  {
    name: "skipped (the flow's own conditions are not met)",
    final: "skipped",
    flow: { actions: [hook("a")], conditions: [{ field: "stage", operator: "equals", value: "won" }] },
    input: { entity: { _id: "r", stage: "open" } },
    steps: [wake(0, { actions: ["skipped"], commands: ["write_summary", "finished"] })],
  },
];

describe("`finished` is emitted on every entry into a final status, exactly once", () => {
  it.each(FINISHES)("$name → $final", (row) => {
    const sim = simulate(row);
    expect(sim.state.status).toBe(row.final);
    expect(sim.state.finished_at).toBeDefined();
    expect(finishedCount(sim)).toBe(1);
    expect([sim.created, ...sim.steps].flat()).toContainEqual({ type: "finished", status: row.final });
  });
});

// ---- retriggers ---------------------------------------------------------------------------------

/** a1, a2 under condition c1 (passes), a3 after it; a2 fails for good: the run is failed at t=20. */
const RETRIGGER_FLOW: Row["flow"] = {
  retry_policy: { max_attempts: 1 },
  conditions: [{ id: "c1", statements: [{ source: { origin: "trigger", attribute: "_id" }, operation: "is_empty" }] }],
  actions: [hook("a1", { condition_id: "c1" }), hook("a2", { condition_id: "c1" }), hook("a3")],
};
/** c1 asks for an empty `_id`: the run has no record, as an API start without one. */
const NO_ID: Row["input"] = { entity: null, entity_id: "none" };
const failedAt20: Row["steps"] = [
  wake(0),
  { at: 10, run: ok() },
  { at: 20, run: fail(), expect: { status: "failed", actions: ["success", "failed", "skipped"] } },
];

const RETRIGGERS: (Row & { runs: string[] })[] = [
  {
    name: "RETRY_AND_RESUME: the failed action, then the ones skipped after it",
    flow: RETRIGGER_FLOW,
    input: NO_ID,
    runs: ["a1", "a2", "a2", "a3"],
    steps: [
      ...failedAt20,
      {
        at: 30,
        retrigger: ["a2", "RETRY_AND_RESUME"],
        expect: {
          status: "in_progress",
          actions: ["success", "in_progress", "pending"],
          contains: [{ type: "clear_retention" }],
        },
      },
      { at: 40, run: ok() },
      { at: 50, run: ok(), expect: { status: "success", actions: ["success", "success", "success"] } },
    ],
  },
  {
    name: "RETRY_AND_STOP: only the failed action; the rest stays skipped",
    flow: RETRIGGER_FLOW,
    input: NO_ID,
    runs: ["a1", "a2", "a2"],
    steps: [
      ...failedAt20,
      { at: 30, retrigger: ["a2", "RETRY_AND_STOP"], expect: { contains: [{ type: "clear_retention" }] } },
      { at: 40, run: ok(), expect: { status: "success", actions: ["success", "success", "skipped"] } },
    ],
  },
  {
    name: "RETRY_ALL_PARENT_CONDITION_ACTIONS: every action under the condition, from the first",
    flow: RETRIGGER_FLOW,
    input: NO_ID,
    runs: ["a1", "a2", "a1", "a2", "a3"],
    steps: [
      ...failedAt20,
      {
        at: 30,
        retrigger: ["a2", "RETRY_ALL_PARENT_CONDITION_ACTIONS", "c1"],
        expect: {
          actions: ["in_progress", "pending", "pending"],
          // a1's earlier outputs go: it runs from scratch.
          contains: [{ type: "store_output", action_id: "a1", outputs: null }, { type: "clear_retention" }],
        },
      },
      { at: 40, run: ok() },
      { at: 50, run: ok() },
      { at: 60, run: ok(), expect: { status: "success" } },
    ],
  },
  {
    name: "twice after finish: each exit from a final status clears retention, each entry finishes",
    flow: RETRIGGER_FLOW,
    input: NO_ID,
    runs: ["a1", "a2", "a2", "a2", "a3"],
    steps: [
      ...failedAt20,
      { at: 30, retrigger: ["a2", "RETRY_AND_RESUME"] },
      { at: 40, run: fail(), expect: { status: "failed", contains: [{ type: "finished", status: "failed" }] } },
      { at: 50, retrigger: ["a2", "RETRY_AND_RESUME"], expect: { contains: [{ type: "clear_retention" }] } },
      { at: 60, run: ok() },
      { at: 70, run: ok(), expect: { status: "success", contains: [{ type: "finished", status: "success" }] } },
    ],
  },
];

describe("retriggers", () => {
  it.each(RETRIGGERS)("$name", (row) => {
    const sim = simulate(row);
    const all = [sim.created, ...sim.steps].flat();
    expect(all.filter((c): c is RunActionCommand => c.type === "run_action").map((c) => c.action_id)).toEqual(row.runs);
    const retriggers = row.steps.filter((s) => "retrigger" in s).length;
    expect(all.filter((c) => c.type === "clear_retention")).toHaveLength(retriggers);
    expect(finishedCount(sim)).toBe(retriggers + 1);
  });

  it("a retrigger of an execution that is not final clears no retention", () => {
    const sim = simulate({
      name: "retrigger while waiting",
      flow: { actions: [hook("a")] },
      steps: [
        wake(0),
        { at: 10, run: fail(), expect: { status: "in_progress" } },
        { at: 20, retrigger: ["a", "RETRY_AND_RESUME"], expect: { status: "in_progress" } },
      ],
    });
    expect(sim.steps.flat().map((c) => c.type)).not.toContain("clear_retention");
  });
});

// ---- retries --------------------------------------------------------------------------------------

describe("retries", () => {
  it("a 5xx follows the default ladder (1, 5, 30 minutes after each failure), then fails for good", () => {
    const sim = simulate({
      name: "ladder",
      flow: { actions: [hook("a")] },
      steps: [
        wake(0),
        {
          at: 100,
          run: fail(),
          expect: { status: "in_progress", commands: ["wake_at"], contains: [{ type: "wake_at", at: 100 + 1 * MIN }] },
        },
        // Woken early (another timer), it waits on.
        wake(100 + MIN - 1, { commands: ["wake_at"] }),
        wake(100 + 1 * MIN, { commands: ["run_action"], contains: [{ type: "run_action", attempt: 2, idempotency_key: "e:a" }] }),
        { at: 200 + MIN, run: fail(), expect: { contains: [{ type: "wake_at", at: 200 + 6 * MIN }] } },
        wake(200 + 6 * MIN),
        { at: 300 + 6 * MIN, run: fail(), expect: { contains: [{ type: "wake_at", at: 300 + 36 * MIN }] } },
        wake(300 + 36 * MIN, { contains: [{ type: "run_action", attempt: 4 }] }),
        { at: 400 + 36 * MIN, run: fail(), expect: { status: "failed", actions: ["failed"] } },
      ],
    });
    expect(sim.state.actions[0].attempts_total).toBe(4);
  });

  it("a per-action retry_policy overrides the flow's: 10 s, 20 s, then success", () => {
    const sim = simulate({
      name: "flaky",
      flow: {
        retry_policy: { max_attempts: 2, backoff_seconds: [600] },
        actions: [hook("a", { retry_policy: { max_attempts: 3, backoff_seconds: [10, 20] } })],
      },
      steps: [
        wake(0),
        { at: 0, run: fail(), expect: { contains: [{ type: "wake_at", at: 10 * SEC }] } },
        wake(10 * SEC),
        { at: 10 * SEC, run: fail(), expect: { contains: [{ type: "wake_at", at: 30 * SEC }] } },
        wake(30 * SEC),
        { at: 30 * SEC, run: ok(), expect: { status: "success" } },
      ],
    });
    expect(sim.state.actions[0].error_output).toBeUndefined();
  });

  it.each([
    { name: "as told", after: 120 * SEC, due: 120 * SEC },
    { name: "at most MAX_RETRY_AFTER_MS", after: 7 * 24 * 60 * MIN, due: MAX_RETRY_AFTER_MS },
  ])("a 429's Retry-After is honoured $name", ({ after, due }) => {
    simulate({
      name: "429",
      flow: { actions: [hook("a")] },
      steps: [
        wake(0),
        { at: 1000, run: fail({ after_ms: after }, 429), expect: { contains: [{ type: "wake_at", at: 1000 + due }] } },
        wake(1000 + due - 1, { commands: ["wake_at"] }),
        wake(1000 + due, { contains: [{ type: "run_action", attempt: 2 }] }),
      ],
    });
  });

  it("a Retry-After in the past retries at once", () => {
    simulate({
      name: "429 past",
      flow: { actions: [hook("a")] },
      steps: [wake(0), { at: 1000, run: fail({ after_ms: -5 * SEC }, 429), expect: { commands: ["run_action"] } }],
    });
  });

  it("an interrupted attempt is closed `interrupted` and retried at once with the same key, within the budget", () => {
    simulate({
      name: "crash",
      flow: { actions: [hook("a", { retry_policy: { max_attempts: 2 } })] },
      steps: [
        wake(0),
        {
          at: 50,
          interrupt: true,
          expect: {
            contains: [
              { type: "close_attempt", action_id: "a", attempt: 1, started_at: 0, ended_at: 50, outcome: "interrupted" },
              { type: "run_action", attempt: 2, idempotency_key: "e:a" },
            ],
          },
        },
        { at: 60, interrupt: true, expect: { status: "failed", contains: [{ type: "finished", status: "failed" }] } },
      ],
    });
  });
});

// ---- loops and outputs ------------------------------------------------------------------------

const LOOP_FLOW = (allowFailure: boolean): Row["flow"] => ({
  loops: [{ id: "l", source_path: "items" }],
  actions: [hook("each", { loop_id: "l", allow_failure: allowFailure }), hook("next")],
});
const items = { entity: { _id: "r", items: ["a", "bad", "c"] } };

describe("loops", () => {
  it("allow_failure: a failing item is recorded and the loop goes on; the action fails, the run succeeds", () => {
    const sim = simulate({
      name: "loop allow_failure",
      flow: LOOP_FLOW(true),
      input: items,
      steps: [
        wake(0, {
          contains: [
            { type: "store_loop_items", action_id: "each", items: ["a", "bad", "c"] },
            { type: "run_action", iteration: 0 },
          ],
        }),
        { at: 10, run: ok({ n: 0 }), expect: { contains: [{ type: "run_action", iteration: 1, attempt: 1 }] } },
        { at: 20, run: fail("never", 400), expect: { contains: [{ type: "run_action", iteration: 2 }] } },
        { at: 30, run: ok({ n: 2 }), expect: { actions: ["failed", "in_progress"] } },
        { at: 40, run: ok(), expect: { status: "success" } },
      ],
    });
    expect(sim.data.output("each")).toEqual({ iterations: [{ n: 0 }, null, { n: 2 }] });
    expect(sim.state.actions[0].loop_state).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
  });

  it("without allow_failure: the later items are skipped and the run fails", () => {
    const sim = simulate({
      name: "loop strict",
      flow: LOOP_FLOW(false),
      input: items,
      steps: [
        wake(0),
        { at: 10, run: ok() },
        {
          at: 20,
          run: fail("never", 404),
          expect: {
            status: "failed",
            actions: ["failed", "skipped"],
            contains: [{ type: "store_iteration", action_id: "each", iteration: { index: 2, execution_status: "skipped" } }],
          },
        },
      ],
    });
    expect(sim.state.actions[0].loop_state).toMatchObject({ current_index: 3, failed: 1, succeeded: 1 });
  });

  it("a loop reads its items from an earlier action's outputs", () => {
    simulate({
      name: "loop over outputs",
      flow: {
        loops: [{ id: "l", source_path: "actions.list.outputs.rows" }],
        actions: [hook("list"), hook("each", { loop_id: "l" })],
      },
      steps: [
        wake(0),
        {
          at: 10,
          run: ok({ rows: [{ n: 1 }, { n: 2 }] }),
          expect: { contains: [{ type: "store_loop_items", items: [{ n: 1 }, { n: 2 }] }] },
        },
      ],
    });
  });

  it(`more than ${LIMITS.MAX_LOOP_ITEMS} items fail the action with INVALID_PAYLOAD before any run`, () => {
    const sim = simulate({
      name: "too many",
      flow: LOOP_FLOW(false),
      input: { entity: { _id: "r", items: Array.from({ length: LIMITS.MAX_LOOP_ITEMS + 1 }, (_, i) => i) } },
      steps: [wake(0, { status: "failed", commands: ["write_summary", "finished"] })],
    });
    expect(sim.state.actions[0].error_output?.error_code).toBe("INVALID_PAYLOAD");
  });
});

describe("outputs over their cap are cut and marked truncated", () => {
  it.each([
    { what: "an action's", cap: LIMITS.MAX_ACTION_OUTPUT_BYTES, loop: false },
    { what: "a loop iteration's", cap: LIMITS.MAX_ITERATION_OUTPUT_BYTES, loop: true },
  ])("$what (cap $cap bytes)", ({ cap, loop }) => {
    const sim = simulate({
      name: "big",
      flow: loop
        ? { loops: [{ id: "l", source_path: "items" }], actions: [hook("a", { loop_id: "l" })] }
        : { actions: [hook("a")] },
      input: { entity: { _id: "r", items: [1] } },
      steps: [wake(0), { at: 10, run: ok({ keep: "me", body: "x".repeat(cap + 1024) }), expect: { status: "success" } }],
    });
    const stored = loop ? sim.data.iterationOutputs("a")[0]! : sim.data.output("a")!;
    expect(stored.truncated).toBe(true);
    expect(stored.keep).toBe("me");
    expect(new TextEncoder().encode(JSON.stringify(stored)).length).toBeLessThanOrEqual(cap);
    const command = sim.steps[1].find((c) => c.type === (loop ? "store_iteration" : "store_output"));
    expect(command).toMatchObject({ truncated: true });
    if (!loop) expect(sim.state.actions[0].outputs_truncated).toBe(true);
  });

  it("outputs within the cap are stored as they are", () => {
    const sim = simulate({ name: "small", flow: { actions: [hook("a")] }, steps: [wake(0), { at: 10, run: ok({ body: "x" }) }] });
    expect(sim.data.output("a")).toEqual({ body: "x" });
    expect(sim.state.actions[0].outputs_truncated).toBeUndefined();
  });
});

// ---- waits, pauses, conditions, templates ---------------------------------------------------------

describe("waits, pauses, conditions and templates", () => {
  it("a schedule relative to the trigger waits (scheduled, one wake-up), then runs when due", () => {
    const due = Date.parse("2030-01-08T00:00:00.000Z");
    simulate({
      name: "schedule",
      flow: {
        schedules: [
          {
            id: "s",
            numberOfUnits: 2,
            timePeriod: "days",
            timeRelation: "before",
            source: { id: "t", origin: "trigger", attribute: "end" },
          },
        ],
        actions: [hook("a", { schedule_id: "s" })],
      },
      input: { entity: { _id: "r", end: "2030-01-10T00:00:00.000Z" } },
      steps: [
        wake(0, { status: "scheduled", actions: ["scheduled"], contains: [{ type: "wake_at", at: due }] }),
        wake(due - 1, { status: "scheduled", commands: ["wake_at"] }),
        wake(due, { status: "in_progress", contains: [{ type: "run_action", action_id: "a" }] }),
      ],
    });
  });

  it("cancelSchedule cancels the actions waiting on it; the others run", () => {
    simulate({
      name: "cancel schedule",
      flow: {
        schedules: [
          {
            id: "later",
            numberOfUnits: 1,
            timePeriod: "hours",
            timeRelation: "after",
            source: { id: "x", origin: "automation" },
          },
        ],
        actions: [hook("wait", { schedule_id: "later" }), hook("after")],
      },
      steps: [
        wake(0, { status: "scheduled", contains: [{ type: "wake_at", at: 60 * MIN }] }),
        {
          at: 10,
          event: { type: "schedule_cancelled", schedule_id: "later" },
          expect: {
            status: "in_progress",
            actions: ["cancelled", "in_progress"],
            contains: [{ type: "run_action", action_id: "after" }],
          },
        },
        { at: 20, run: ok(), expect: { status: "success" } },
      ],
    });
  });

  it("a cancel while scheduled ends the run at once, and a later wake changes nothing", () => {
    simulate({
      name: "cancel scheduled",
      flow: {
        schedules: [
          { id: "s", numberOfUnits: 3, timePeriod: "days", timeRelation: "after", source: { id: "x", origin: "automation" } },
        ],
        actions: [hook("a", { schedule_id: "s" })],
      },
      steps: [
        wake(0, { status: "scheduled" }),
        {
          at: 10,
          event: { type: "cancelled" },
          expect: { status: "cancelled", actions: ["cancelled"], commands: ["write_summary", "finished"] },
        },
        wake(4 * 24 * 60 * MIN, { status: "cancelled", commands: [] }),
      ],
    });
  });

  it("a delay's wait: scheduled until then, then the action succeeds with `waited_until`", () => {
    const sim = simulate({
      name: "delay",
      flow: { actions: [{ id: "d", type: "delay", config: { duration: 5, unit: "minutes" } }, hook("after")] },
      steps: [
        wake(0),
        {
          at: 10,
          run: { kind: "wait", until: 10 + 5 * MIN },
          expect: { status: "scheduled", contains: [{ type: "wake_at", at: 10 + 5 * MIN }] },
        },
        wake(10 + 5 * MIN, { actions: ["success", "in_progress"] }),
      ],
    });
    expect(sim.data.output("d")).toEqual({ waited_until: new Date(10 + 5 * MIN).toISOString() });
  });

  it("a pause waits for its resume; the resume completes the action with the payload and the run goes on", () => {
    const sim = simulate({
      name: "pause",
      flow: { actions: [{ id: "ask", type: "custom-action" }, hook("then")] },
      steps: [
        wake(0),
        {
          at: 10,
          run: { kind: "paused", token_hash: "h", outputs: { waiting_for_callback: true } },
          expect: { status: "paused", commands: ["write_summary", "store_output"] },
        },
        // Only the paused action's resume is taken.
        { at: 15, event: { type: "resumed", action_id: "then" }, expect: { status: "paused", commands: [] } },
        {
          at: 20,
          event: { type: "resumed", action_id: "ask", payload: { ok: true } },
          expect: { status: "in_progress", actions: ["success", "in_progress"] },
        },
      ],
    });
    expect(sim.data.output("ask")).toMatchObject({ waiting_for_callback: true, resumed: true, payload: { ok: true } });
    expect(sim.state.resume).toBeUndefined();
  });

  it("a condition that fails skips its action with the explanation; one that passes runs it", () => {
    const number = (operation: string) => ({
      source: { origin: "trigger", attribute: "value", attributeType: "number" },
      operation,
      values: ["1000"],
    });
    const sim = simulate({
      name: "gated",
      flow: {
        conditions: [
          { id: "big", statements: [number("greater_than")] },
          { id: "small", statements: [number("less_than")] },
        ],
        actions: [hook("a", { condition_id: "big" }), hook("b", { condition_id: "small" })],
      },
      input: { entity: { _id: "r", value: 500 } },
      steps: [wake(0, { actions: ["skipped", "in_progress"], contains: [{ type: "run_action", action_id: "b" }] })],
    });
    expect(sim.state.actions[0].reason?.payload?.statements).toEqual([
      expect.objectContaining({ passed: false, actual_value: 500 }),
    ]);
  });

  it("a template that fails to render fails its action with TEMPLATE_ERROR; nothing is run", () => {
    const sim = simulate({
      name: "template",
      flow: { actions: [hook("a", { config: { url: `${URL}/{{ record._id | nosuchfilter }}` } })] },
      steps: [wake(0, { status: "failed", commands: ["write_summary", "finished"] })],
    });
    expect(sim.state.actions[0].error_output?.error_code).toBe("TEMPLATE_ERROR");
    expect(sim.state.actions[0].attempts_total).toBe(0);
  });
});
