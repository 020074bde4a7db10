import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import {
  SINK,
  createFlow,
  createRecord,
  executionStub,
  getExecution,
  sinkRequests,
  sinkReset,
  startExec,
  untilSinkSaw,
} from "../support/engine";
import { recordReplay } from "../support/replays";
import { settle, stateOf } from "./settle";

/**
 * Real runs through the Worker, one per scenario, each recorded as a replay fixture
 * (test/fixtures/replays/<name>.json) after asserting its own outcome. `npm run replays:record` writes the
 * files; a plain run only checks that every log replays to the stored state (test/support/replays.ts).
 * test/engine/execution/replay.test.ts replays the committed fixtures on every test run.
 */

beforeEach(sinkReset);

const MIN = 60_000;
const DAY = 86_400_000;
const statuses = (exec: { actions: { execution_status: string }[] }) => exec.actions.map((a) => a.execution_status);

async function retrigger(id: string, actionId: string, body: Record<string, unknown>): Promise<void> {
  const res = await call("POST", `/v1/automation/executions/${id}/${actionId}/retrigger`, { body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** a1, a2 under condition c1 (always true), a3 after; a2 calls `url2` once and fails (no retries): the run ends failed. */
async function failedRun(name: string, url2: string): Promise<string> {
  const flow = await createFlow({
    flow_name: name,
    retry_policy: { max_attempts: 1 },
    conditions: [{ id: "c1", statements: [{ source: { origin: "trigger", attribute: "_id" }, operation: "is_empty" }] }],
    actions: [
      { id: "a1", type: "call_webhook", condition_id: "c1", config: { url: `${SINK}/ok/a1` } },
      { id: "a2", type: "call_webhook", condition_id: "c1", config: { url: url2 } },
      { id: "a3", type: "call_webhook", config: { url: `${SINK}/ok/a3` } },
    ],
  });
  const id = await startExec(flow.id);
  const exec = await settle(id);
  expect(exec.execution_status).toBe("failed");
  expect(statuses(exec)).toEqual(["success", "failed", "skipped"]);
  return id;
}

describe("loops", () => {
  it("loop-allow-failure: a failing item under allow_failure; the flow goes on and succeeds", async () => {
    const rec = await createRecord("order", { name: "o", items: [{ sku: "a" }, { sku: "bad" }, { sku: "c" }] });
    const flow = await createFlow({
      flow_name: "loop allow_failure",
      loops: [{ id: "each", source_path: "items" }],
      actions: [
        {
          id: "per-item",
          type: "call_webhook",
          loop_id: "each",
          allow_failure: true,
          config: {
            url: `${SINK}/{% if loop.item.sku == "bad" %}status/400{% else %}item/{{ loop.item.sku }}{% endif %}`,
            body: { i: "{{ loop.index }}" },
          },
        },
        { id: "next", type: "call_webhook", config: { url: `${SINK}/next` } },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].iterations.map((i: { execution_status: string }) => i.execution_status)).toEqual([
      "success",
      "failed",
      "success",
    ]);
    expect(statuses(exec)).toEqual(["failed", "success"]);
    await recordReplay(
      id,
      "loop-allow-failure",
      "A loop of three items whose second fails (400) under allow_failure; the next action runs",
    );
  });

  it("loop-fails-rest-skipped: a failing item without allow_failure skips the later items and fails the run", async () => {
    const rec = await createRecord("order", { name: "o", items: [{ sku: "a" }, { sku: "bad" }, { sku: "c" }] });
    const flow = await createFlow({
      flow_name: "loop strict",
      loops: [{ id: "each", source_path: "items" }],
      actions: [
        {
          id: "per-item",
          type: "call_webhook",
          loop_id: "each",
          config: { url: `${SINK}/{% if loop.item.sku == "bad" %}status/404{% else %}item/{{ loop.item.sku }}{% endif %}` },
        },
        { id: "next", type: "call_webhook", config: { url: `${SINK}/next` } },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].iterations.map((i: { execution_status: string }) => i.execution_status)).toEqual([
      "success",
      "failed",
      "skipped",
    ]);
    expect(statuses(exec)).toEqual(["failed", "skipped"]);
    expect((await sinkRequests("/item")).map((r) => r.path)).toEqual(["/item/a"]);
    await recordReplay(
      id,
      "loop-fails-rest-skipped",
      "A loop item fails (404) without allow_failure: later items and actions are skipped",
    );
  });

  it("loop-over-action-outputs: a loop iterates over an earlier action's outputs, and a later action reads the loop's", async () => {
    const flow = await createFlow({
      flow_name: "loop over outputs",
      loops: [{ id: "rows", source_path: "actions.list.outputs.body.received.rows" }],
      actions: [
        { id: "list", type: "call_webhook", config: { url: `${SINK}/list`, body: { rows: [{ n: 1 }, { n: 2 }, { n: 3 }] } } },
        { id: "each", type: "call_webhook", loop_id: "rows", config: { url: `${SINK}/row/{{ loop.item.n }}` } },
        {
          id: "sum",
          type: "call_webhook",
          config: { url: `${SINK}/sum`, body: { count: "{{ actions.each.outputs.iterations | size }}" } },
        },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect((await sinkRequests("/row")).map((r) => r.path)).toEqual(["/row/1", "/row/2", "/row/3"]);
    expect(JSON.parse((await sinkRequests("/sum"))[0].body)).toEqual({ count: 3 });
    await recordReplay(
      id,
      "loop-over-action-outputs",
      "A loop over an array in an earlier action's outputs; a later template reads the loop's outputs",
    );
  });

  it("loop-iteration-output-truncated: an iteration's output over its cap is cut and marked truncated", async () => {
    const rec = await createRecord("batch", { name: "one", items: [1] });
    const flow = await createFlow({
      flow_name: "big iteration",
      loops: [{ id: "one", source_path: "items" }],
      actions: [
        {
          id: "big",
          type: "call_webhook",
          loop_id: "one",
          config: { url: `${SINK}/big/${LIMITS.MAX_ITERATION_OUTPUT_BYTES + 2048}`, method: "GET" },
        },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    const [iteration] = exec.actions[0].iterations;
    expect(iteration.outputs_truncated).toBe(true);
    expect(iteration.outputs.truncated).toBe(true);
    expect(JSON.stringify(iteration.outputs).length).toBeLessThanOrEqual(LIMITS.MAX_ITERATION_OUTPUT_BYTES);
    await recordReplay(
      id,
      "loop-iteration-output-truncated",
      "One loop iteration answers more than MAX_ITERATION_OUTPUT_BYTES: its output is cut and marked truncated",
    );
  });
});

describe("retries", () => {
  it("retry-backoff-then-success: two 5xx on a 10 s, 20 s ladder, then success", async () => {
    const flow = await createFlow({
      flow_name: "flaky",
      actions: [
        {
          id: "h",
          type: "call_webhook",
          retry_policy: { max_attempts: 3, backoff_seconds: [10, 20] },
          config: { url: `${SINK}/flaky/2/replay-flaky` },
        },
      ],
    });
    const id = await startExec(flow.id);
    await settle(id);
    let state = await stateOf(id);
    const firstFailed = state.actions[0].updated_at!;
    expect(state.actions[0].next_attempt_at).toBe(firstFailed + 10_000);
    await settle(id, firstFailed + 10_000);
    state = await stateOf(id);
    expect(state.actions[0].next_attempt_at).toBe(firstFailed + 30_000);
    const exec = await settle(id, firstFailed + 30_000);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["failed", "failed", "success"]);
    await recordReplay(
      id,
      "retry-backoff-then-success",
      "A 5xx twice, retried after 10 s and 20 s (action retry_policy), then success",
    );
  });

  it("retry-backoff-exhausted: a 5xx on the default 1, 5, 30 minute ladder until the attempts run out", async () => {
    const flow = await createFlow({
      flow_name: "ladder",
      actions: [{ id: "h", type: "call_webhook", config: { url: `${SINK}/status/503` } }],
    });
    const id = await startExec(flow.id);
    await settle(id);
    const failedAt = (await stateOf(id)).actions[0].updated_at!;
    // Each retry is due the ladder's step after the previous failure: 1, then 5, then 30 minutes.
    for (const [after, nextIn] of [
      [0, 1 * MIN],
      [1 * MIN, 5 * MIN],
      [6 * MIN, 30 * MIN],
    ]) {
      if (after > 0) await settle(id, failedAt + after);
      const state = await stateOf(id);
      expect(state.status).toBe("in_progress");
      expect(state.actions[0].next_attempt_at).toBe(failedAt + after + nextIn);
    }
    const exec = await settle(id, failedAt + 36 * MIN);
    expect(exec.execution_status).toBe("failed");
    expect((await sinkRequests("/status/503")).length).toBe(4);
    await recordReplay(
      id,
      "retry-backoff-exhausted",
      "A 5xx on every attempt of the default ladder (1, 5, 30 min): the run fails",
    );
  });

  it("retry-after-429: a 429 waits for its Retry-After, twice, then fails under allow_failure", async () => {
    const flow = await createFlow({
      flow_name: "429",
      actions: [
        {
          id: "limited",
          type: "call_webhook",
          allow_failure: true,
          retry_policy: { max_attempts: 2 },
          config: { url: `${SINK}/retry-after/120` },
        },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after-429` } },
      ],
    });
    const id = await startExec(flow.id);
    await settle(id);
    const limitedAt = (await stateOf(id)).actions[0].updated_at!;
    expect((await stateOf(id)).actions[0].next_attempt_at).toBe(limitedAt + 120_000);
    const exec = await settle(id, limitedAt + 120_000);
    expect(exec.execution_status).toBe("success");
    expect(statuses(exec)).toEqual(["failed", "success"]);
    await recordReplay(
      id,
      "retry-after-429",
      "A 429 with Retry-After: 120 is retried after 120 s, fails again and is allowed to fail",
    );
  });

  it("client-error-no-retry: a 4xx fails at once, without a retry", async () => {
    const flow = await createFlow({
      flow_name: "404",
      actions: [{ id: "nf", type: "call_webhook", config: { url: `${SINK}/status/404` } }],
    });
    const id = await startExec(flow.id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].attempts).toHaveLength(1);
    await recordReplay(id, "client-error-no-retry", "A 404 is not retryable: one attempt, the run fails");
  });

  it("interrupted-attempt: the runtime dies mid-request; the attempt is interrupted and retried with the same key", async () => {
    const flow = await createFlow({
      flow_name: "crashy",
      actions: [
        { id: "slow", type: "call_webhook", config: { url: `${SINK}/slow/400`, timeout_ms: 5000 } },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after-crash` } },
      ],
    });
    const id = await startExec(flow.id);
    const running = runDurableObjectAlarm(executionStub(id)).catch((e: unknown) => e);
    await untilSinkSaw("/slow");
    await abortAllDurableObjects();
    await running;
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["interrupted", "success"]);
    const fixture = await recordReplay(
      id,
      "interrupted-attempt",
      "The object is aborted while an attempt is in flight: recorded interrupted, retried",
    );
    expect(fixture.events.map((e) => e.type)).toContain("action_interrupted");
  });
});

describe("retrigger", () => {
  it("retrigger-resume: RETRY_AND_RESUME re-runs the failed action and the skipped ones after it", async () => {
    const id = await failedRun("retrigger resume", `${SINK}/flaky/1/replay-resume`);
    await retrigger(id, "a2", { retry_strategy: "RETRY_AND_RESUME" });
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect(statuses(exec)).toEqual(["success", "success", "success"]);
    await recordReplay(
      id,
      "retrigger-resume",
      "A failed run retriggered with RETRY_AND_RESUME: the failed action and the rest run",
    );
  });

  it("retrigger-stop: RETRY_AND_STOP re-runs only the failed action", async () => {
    const id = await failedRun("retrigger stop", `${SINK}/flaky/1/replay-stop`);
    await retrigger(id, "a2", { retry_strategy: "RETRY_AND_STOP" });
    const exec = await settle(id);
    expect(statuses(exec)).toEqual(["success", "success", "skipped"]);
    expect((await sinkRequests("/ok/a3")).length).toBe(0);
    await recordReplay(id, "retrigger-stop", "A failed run retriggered with RETRY_AND_STOP: only the failed action runs again");
  });

  it("retrigger-parent-condition: RETRY_ALL_PARENT_CONDITION_ACTIONS re-runs every action under the condition", async () => {
    const id = await failedRun("retrigger parent", `${SINK}/flaky/1/replay-parent`);
    await retrigger(id, "a2", { retry_strategy: "RETRY_ALL_PARENT_CONDITION_ACTIONS", condition_id: "c1" });
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect((await sinkRequests("/ok/a1")).length).toBe(2);
    await recordReplay(
      id,
      "retrigger-parent-condition",
      "A failed run retriggered with RETRY_ALL_PARENT_CONDITION_ACTIONS (c1): a1 and a2 run again, then a3",
    );
  });

  it("retrigger-twice-after-finish: fails, is retriggered, fails again, is retriggered and succeeds", async () => {
    const id = await failedRun("retrigger twice", `${SINK}/flaky/2/replay-twice`);
    await retrigger(id, "a2", { retry_strategy: "RETRY_AND_RESUME" });
    let exec = await settle(id);
    expect(exec.execution_status).toBe("failed");
    await retrigger(id, "a2", { retry_strategy: "RETRY_AND_RESUME" });
    exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    const fixture = await recordReplay(
      id,
      "retrigger-twice-after-finish",
      "success, fail (final), retrigger, fail again (final), retrigger, success: each exit from a final status clears retention",
    );
    expect(fixture.events.filter((e) => e.type === "retriggered")).toHaveLength(2);
  });
});

describe("schedules, delays, pauses and cancels", () => {
  it("schedule-relative-to-trigger: waits until 2 days before a date on the record, then runs", async () => {
    const due = Date.now() + 5 * DAY;
    const rec = await createRecord("contract", { name: "C", end_date: new Date(due).toISOString() });
    const flow = await createFlow({
      flow_name: "reminder",
      schedules: [
        {
          id: "s1",
          numberOfUnits: 2,
          timePeriod: "days",
          timeRelation: "before",
          source: { id: "t", origin: "trigger", attribute: "end_date" },
        },
      ],
      actions: [{ id: "remind", type: "call_webhook", schedule_id: "s1", config: { url: `${SINK}/remind` } }],
    });
    const id = await startExec(flow.id, rec._id);
    let exec = await settle(id);
    expect(exec.execution_status).toBe("scheduled");
    expect(Date.parse(exec.actions[0].scheduled_for)).toBe(due - 2 * DAY);
    exec = await settle(id, due - 2 * DAY - 1000);
    expect(exec.execution_status).toBe("scheduled");
    exec = await settle(id, due - 2 * DAY);
    expect(exec.execution_status).toBe("success");
    await recordReplay(
      id,
      "schedule-relative-to-trigger",
      "A schedule 2 days before the trigger record's end_date: scheduled, then run at that time",
    );
  });

  it("schedule-after-action: waits 10 minutes after an earlier action finished", async () => {
    const flow = await createFlow({
      flow_name: "follow-up",
      schedules: [
        { id: "s10", numberOfUnits: 10, timePeriod: "minutes", timeRelation: "after", source: { id: "first", origin: "action" } },
      ],
      actions: [
        { id: "first", type: "call_webhook", config: { url: `${SINK}/first` } },
        { id: "second", type: "call_webhook", schedule_id: "s10", config: { url: `${SINK}/second` } },
      ],
    });
    const id = await startExec(flow.id);
    let exec = await settle(id);
    expect(statuses(exec)).toEqual(["success", "scheduled"]);
    const firstDone = (await stateOf(id)).actions[0].updated_at!;
    expect(Date.parse(exec.actions[1].scheduled_for)).toBe(firstDone + 10 * MIN);
    exec = await settle(id, firstDone + 10 * MIN);
    expect(exec.execution_status).toBe("success");
    await recordReplay(id, "schedule-after-action", "A schedule 10 minutes after an earlier action: scheduled, then run");
  });

  it("cancel-schedule: cancelSchedule cancels the waiting action and lets the rest finish", async () => {
    const flow = await createFlow({
      flow_name: "cancel schedule",
      schedules: [
        { id: "later", numberOfUnits: 1, timePeriod: "hours", timeRelation: "after", source: { id: "x", origin: "automation" } },
      ],
      actions: [
        { id: "wait", type: "call_webhook", schedule_id: "later", config: { url: `${SINK}/later` } },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after-schedule` } },
      ],
    });
    const id = await startExec(flow.id);
    expect((await settle(id)).execution_status).toBe("scheduled");
    expect((await call("DELETE", `/v1/automation/executions/${id}/schedules/later`)).status).toBe(200);
    const exec = await settle(id);
    expect(statuses(exec)).toEqual(["cancelled", "success"]);
    expect(exec.execution_status).toBe("success");
    await recordReplay(
      id,
      "cancel-schedule",
      "cancelSchedule on a waiting schedule: its action is cancelled, the next runs, the run succeeds",
    );
  });

  it("cancel-while-scheduled: cancelling a scheduled execution cancels it; its due time passes without a run", async () => {
    const flow = await createFlow({
      flow_name: "cancel while scheduled",
      schedules: [
        { id: "s", numberOfUnits: 3, timePeriod: "days", timeRelation: "after", source: { id: "x", origin: "automation" } },
      ],
      actions: [{ id: "a", type: "call_webhook", schedule_id: "s", config: { url: `${SINK}/cancelled` } }],
    });
    const id = await startExec(flow.id);
    expect((await settle(id)).execution_status).toBe("scheduled");
    const dueAt = (await stateOf(id)).actions[0].scheduled_for!;
    const res = await call("DELETE", `/v1/automation/executions/${id}`);
    expect(res.status).toBe(200);
    const exec = await settle(id, dueAt + DAY);
    expect(exec.execution_status).toBe("cancelled");
    expect((await sinkRequests("/cancelled")).length).toBe(0);
    await recordReplay(id, "cancel-while-scheduled", "An execution cancelled while it waits for a 3-day schedule");
  });

  it("delay-action: a delay waits on the engine clock, then the next action runs", async () => {
    const flow = await createFlow({
      flow_name: "delay",
      actions: [
        { id: "d", type: "delay", config: { duration: 5, unit: "minutes" } },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after-delay` } },
      ],
    });
    const id = await startExec(flow.id);
    let exec = await settle(id);
    expect(exec.execution_status).toBe("scheduled");
    const state = await stateOf(id);
    const until = state.actions[0].wait_until!;
    expect(until).toBe(Date.parse(exec.actions[0].attempts[0].started_at) + 5 * MIN);
    exec = await settle(id, until - 1);
    expect(exec.execution_status).toBe("scheduled");
    exec = await settle(id, until);
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].outputs.waited_until).toBe(new Date(until).toISOString());
    await recordReplay(id, "delay-action", "A 5-minute delay action, then a call");
  });

  it("pause-resume: a custom action waits for its callback, is resumed with its token, and the run finishes", async () => {
    const flow = await createFlow({
      flow_name: "approval",
      actions: [
        { id: "ask", type: "custom-action", config: { name: "Approve", wait_for_callback: true, url: `${SINK}/approve` } },
        {
          id: "then",
          type: "call_webhook",
          config: { url: `${SINK}/then`, body: { resumed: "{{ actions.ask.outputs.resumed }}" } },
        },
      ],
    });
    const id = await startExec(flow.id);
    let exec = await settle(id);
    expect(exec.execution_status).toBe("paused");
    const token = exec.resume_token as string;
    expect(token.startsWith(`${id}.`)).toBe(true);
    const res = await call("POST", "/v1/automation/public/executions:resume", {
      token: null,
      body: { resume_token: token },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect(JSON.parse((await sinkRequests("/then"))[0].body)).toEqual({ resumed: true });
    const fixture = await recordReplay(
      id,
      "pause-resume",
      "custom-action wait_for_callback pauses; resumed with its token, the next action reads the resumed outputs",
    );
    // Only the token's hash is logged: a committed fixture holds no live credential.
    expect(JSON.stringify(fixture)).not.toContain(token);
  });

  it("cancel-while-paused: a paused execution is cancelled", async () => {
    const flow = await createFlow({
      flow_name: "cancel paused",
      actions: [
        { id: "w", type: "custom-action", config: { wait_for_callback: true } },
        { id: "never", type: "call_webhook", config: { url: `${SINK}/never-paused` } },
      ],
    });
    const id = await startExec(flow.id);
    expect((await settle(id)).execution_status).toBe("paused");
    expect((await call("DELETE", `/v1/automation/executions/${id}`)).status).toBe(200);
    const exec = await getExecution(id);
    expect(exec.execution_status).toBe("cancelled");
    expect(statuses(exec)).toEqual(["cancelled", "cancelled"]);
    await recordReplay(id, "cancel-while-paused", "An execution paused for a callback is cancelled by request");
  });

  it("cancel-flow-execution-action: a cancel-flow-execution action ends the run cancelled", async () => {
    const flow = await createFlow({
      flow_name: "cancel action",
      actions: [
        {
          id: "stop",
          type: "cancel-flow-execution",
          config: { selected_reasons: [{ id: "r", title: "Duplicate" }], extra_description: "seen before" },
        },
        { id: "never", type: "call_webhook", config: { url: `${SINK}/never` } },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("cancelled");
    expect(exec.cancel_reason).toBe("Duplicate: seen before");
    expect(statuses(exec)).toEqual(["success", "cancelled"]);
    await recordReplay(
      id,
      "cancel-flow-execution-action",
      "A cancel-flow-execution action: the run ends cancelled with its reason",
    );
  });
});

describe("conditions, hot flows, templates", () => {
  it("conditions-pass-and-fail: one action's condition fails (skipped), another's passes (run)", async () => {
    const rec = await createRecord("deal", { name: "Big", value: 500 });
    const number = (operation: string) => ({
      source: { origin: "trigger", attribute: "value", attributeType: "number" },
      operation,
      values: ["1000"],
    });
    const flow = await createFlow({
      flow_name: "gated",
      conditions: [
        { id: "c-big", statements: [number("greater_than")] },
        { id: "c-small", statements: [number("less_than")] },
      ],
      actions: [
        { id: "big", type: "call_webhook", condition_id: "c-big", config: { url: `${SINK}/big-deal` } },
        { id: "small", type: "call_webhook", condition_id: "c-small", config: { url: `${SINK}/small-deal` } },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect(statuses(exec)).toEqual(["skipped", "success"]);
    expect((await sinkRequests("/big-deal")).length).toBe(0);
    await recordReplay(
      id,
      "conditions-pass-and-fail",
      "Two gated actions: value 500 fails `> 1000` (skipped) and passes `< 1000` (run)",
    );
  });

  it("flow-condition-skipped: the flow's own (Coherence) conditions are not met; the run ends skipped", async () => {
    const rec = await createRecord("deal", { name: "Small", stage: "open" });
    const flow = await createFlow({
      flow_name: "flow-level",
      conditions: [{ field: "stage", operator: "equals", value: "won" }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/never-flow` } }],
    });
    const id = await startExec(flow.id, rec._id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("skipped");
    await recordReplay(
      id,
      "flow-condition-skipped",
      "A Coherence flow condition (stage equals won) on an open deal: every action skipped, the run skipped",
    );
  });

  it("hot-flow: over max_executions the execution is created hot and runs nothing", async () => {
    const flow = await createFlow({
      flow_name: "hot",
      max_executions: { count: 1, window: "PT1H" },
      actions: [{ id: "call", type: "call_webhook", config: { url: `${SINK}/hot` } }],
    });
    const first = await startExec(flow.id, "e1");
    const res = await call("POST", "/v1/automation/executions", { body: { flow_id: flow.id, entity_id: "e2" } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.execution_status).toBe("hot");
    expect((await settle(first)).execution_status).toBe("success");
    // Not driven: a hot execution has nothing to run (its only alarm is its retention).
    expect((await getExecution(res.body.id)).execution_status).toBe("hot");
    expect((await sinkRequests("/hot")).length).toBe(1);
    const fixture = await recordReplay(
      res.body.id,
      "hot-flow",
      "The second start within a max_executions window of 1: created hot, nothing runs",
    );
    expect(fixture.events.map((e) => e.type)).toEqual(["created"]);
    await recordReplay(first, "hot-flow-first", "The first start within a max_executions window of 1: it runs");
  });

  it("template-error: a template that fails while rendering fails its action with TEMPLATE_ERROR", async () => {
    const rec = await createRecord("contact", { name: "Ada", follow_up_days: "soon" });
    const flow = await createFlow({
      flow_name: "template error",
      actions: [
        { id: "ok", type: "call_webhook", config: { url: `${SINK}/before-error` } },
        {
          id: "broken",
          type: "call_webhook",
          // Parses (the flow saves), but add_days refuses a non-number when it renders.
          config: { url: `${SINK}/x`, body: { due: "{{ now | add_days: record.follow_up_days }}" } },
        },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[1].error_output.error_code).toBe("TEMPLATE_ERROR");
    expect(exec.actions[1].error_output.error_reason).toMatch(/add_days needs a number of days/);
    expect(exec.actions[1].attempts).toHaveLength(0);
    await recordReplay(
      id,
      "template-error",
      "A template that parses but fails to render (add_days of a text): TEMPLATE_ERROR, no attempt, the run fails",
    );
  });

  it("templates-chain: a later action's config reads an earlier action's outputs and the trigger record", async () => {
    const rec = await createRecord("contact", { name: "Ada" });
    const flow = await createFlow({
      flow_name: "chain",
      actions: [
        { id: "first", type: "call_webhook", config: { url: `${SINK}/first-chain`, body: { who: "{{ record.name }}" } } },
        {
          id: "second",
          type: "call_webhook",
          config: { url: `${SINK}/second-chain`, body: { echoed: "{{ actions.first.outputs.body.received.who | upcase }}" } },
        },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    const exec = await settle(id);
    expect(exec.execution_status).toBe("success");
    expect(JSON.parse((await sinkRequests("/second-chain"))[0].body)).toEqual({ echoed: "ADA" });
    await recordReplay(id, "templates-chain", "Two calls; the second's body renders the first's outputs");
  });
});
