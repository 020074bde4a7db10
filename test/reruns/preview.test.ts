import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, drive, executionStub, getExecution, sinkRequests, sinkReset, startExec } from "../support/engine";
import { identity, ledger, preview, retrigger } from "./support";

/**
 * The preview of a rerun against the rerun itself: run the preview, then the retrigger with the same body,
 * and compare the preview's effects with the ledger entries the rerun added. They are the same.
 */

beforeEach(sinkReset);

const T0 = Date.parse("2026-04-01T08:00:00Z");
let n = 0;
const uniq = () => `p${++n}-${crypto.randomUUID().slice(0, 8)}`;

/** Previews, retriggers with the same body, drives the rerun to its end at `at`; returns the preview, the added ledger entries and the execution. */
async function previewThenRerun(id: string, actionId: string, body: Record<string, unknown>, at: number | number[]) {
  const before = await ledger(id);
  const sentBefore = (await sinkRequests("/")).length;
  const eventsBefore = ((await executionStub(id).eventLog()) as unknown[]).length;
  const statusBefore = (await getExecution(id)).execution_status;
  const p = await preview(id, actionId, body);
  // The preview sent nothing and changed nothing.
  expect((await sinkRequests("/")).length).toBe(sentBefore);
  expect(((await executionStub(id).eventLog()) as unknown[]).length).toBe(eventsBefore);
  expect((await getExecution(id)).execution_status).toBe(statusBefore);

  await retrigger(id, actionId, body);
  let exec: any;
  for (const t of [at].flat()) exec = await drive(id, t);
  const after = await ledger(id);
  const added = after.effects.slice(before.total);
  // Every request the rerun sent is in the ledger.
  expect((await sinkRequests("/")).length - sentBefore).toBe(added.filter((e: any) => e.kind === "http").length);
  return { p, added, exec, after };
}

/** a1 (ok) → a2 (fails once) → a3, a1 and a2 under condition c1; the run fails at a2. */
async function failedRun() {
  const u = uniq();
  const flow = await createFlow({
    flow_name: "three steps",
    retry_policy: { max_attempts: 1 },
    conditions: [{ id: "c1", statements: [{ source: { origin: "trigger", attribute: "_id" }, operation: "is_empty" }] }],
    actions: [
      { id: "a1", name: "Create order", type: "call_webhook", condition_id: "c1", config: { url: `${SINK}/ok/${u}/a1` } },
      { id: "a2", name: "Charge card", type: "call_webhook", condition_id: "c1", config: { url: `${SINK}/flaky/1/${u}` } },
      {
        id: "a3",
        type: "call_webhook",
        config: { url: `${SINK}/ok/${u}/a3`, body: { charged: "{{ actions.a2.outputs.status }}" } },
      },
    ],
  });
  const id = await startExec(flow.id);
  expect((await drive(id, T0)).execution_status).toBe("failed");
  return { id, u };
}

describe("preview = rerun, for each retrigger strategy", () => {
  it("RETRY_AND_RESUME: the failed action again (same key: a deduplicating receiver drops it), then what its failure skipped", async () => {
    const { id, u } = await failedRun();
    const { p, added, exec } = await previewThenRerun(id, "a2", { retry_strategy: "RETRY_AND_RESUME" }, T0 + 60_000);
    expect(exec.execution_status).toBe("success");
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(p.effects.map((e: any) => [e.action_id, e.attempt, e.target, e.repeats_idempotency_key])).toEqual([
      ["a2", 2, `sink.test/flaky/1/${u}`, true],
      ["a3", 1, `sink.test/ok/${u}/a3`, false],
    ]);
    expect(p.actions.map((a: any) => [a.action_id, a.action_name, a.decision])).toEqual([
      ["a1", "Create order", "reuse-output"],
      ["a2", "Charge card", "re-execute"],
      ["a3", "a3", "re-execute"],
    ]);
    expect(p).toMatchObject({ status_before: "failed", status_after: "success", complete: true });
    expect(p.totals).toMatchObject({ effects: 2, repeated_idempotency_keys: 1 });
    expect(p.totals.by_target).toEqual([
      { kind: "http", target: `sink.test/flaky/1/${u}`, count: 1, repeated: 1 },
      { kind: "http", target: `sink.test/ok/${u}/a3`, count: 1, repeated: 0 },
    ]);
  });

  it("RETRY_AND_STOP: only the failed action", async () => {
    const { id } = await failedRun();
    const { p, added, exec } = await previewThenRerun(id, "a2", { retry_strategy: "RETRY_AND_STOP" }, T0 + 60_000);
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["success", "success", "skipped"]);
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(p.effects.map((e: any) => e.action_id)).toEqual(["a2"]);
    expect(p.actions.map((a: any) => a.decision)).toEqual(["reuse-output", "re-execute", "skip"]);
    expect(p.actions[2].reason).toMatch(/a2 failed/);
  });

  it("RETRY_ALL_PARENT_CONDITION_ACTIONS: every action under the condition, then the rest", async () => {
    const { id } = await failedRun();
    const body = { retry_strategy: "RETRY_ALL_PARENT_CONDITION_ACTIONS", condition_id: "c1" };
    const { p, added } = await previewThenRerun(id, "a2", body, T0 + 60_000);
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(p.effects.map((e: any) => [e.action_id, e.attempt, e.repeats_idempotency_key])).toEqual([
      ["a1", 2, true],
      ["a2", 2, true],
      ["a3", 1, false],
    ]);
  });
});

describe("preview = rerun, for every kind of effect", () => {
  it("a rerun through a delay that writes a record, emits an event, notifies and starts a child execution", async () => {
    const u = uniq();
    const child = await createFlow({ flow_name: "child", actions: [] });
    const flow = await createFlow({
      flow_name: "kinds",
      retry_policy: { max_attempts: 1 },
      actions: [
        { id: "hook", type: "call_webhook", config: { url: `${SINK}/flaky/1/${u}` } },
        { id: "pause", type: "delay", config: { duration: 1, unit: "minutes" } },
        { id: "rec", type: "create_record", config: { module: "ticket", data: { title: "t" } } },
        { id: "evt", type: "trigger-event", config: { event_name: `done-${u}` } },
        { id: "note", type: "send_notification", config: { user_id: "u1", title: "done" } },
        { id: "kid", type: "trigger-workflow", config: { target_workflow: child.id } },
      ],
    });
    const id = await startExec(flow.id);
    expect((await drive(id, T0)).execution_status).toBe("failed");
    const { p, added, exec } = await previewThenRerun(id, "hook", {}, [T0 + 60_000, T0 + 180_000]);
    expect(exec.execution_status).toBe("success");
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(p.effects.map((e: any) => [e.action_id, e.kind, e.target, e.dedupe])).toEqual([
      ["hook", "http", `sink.test/flaky/1/${u}`, "receiver"],
      ["rec", "record", "ticket", "none"],
      ["evt", "event", `event/done-${u}`, "engine"],
      ["note", "notification", "user/u1", "engine"],
      ["kid", "execution", `flow/${child.id}`, "engine"],
    ]);
    expect(p.actions.find((a: any) => a.action_id === "pause")).toMatchObject({ decision: "re-execute", calls: 1, effects: 0 });
  });
});

describe("reruns from any step, reusing outputs", () => {
  it("restarts a succeeded execution from its first step, reusing one action's recorded outputs for the steps after it", async () => {
    const u = uniq();
    const flow = await createFlow({
      flow_name: "quote",
      actions: [
        { id: "lookup", type: "call_webhook", config: { url: `${SINK}/lookup/${u}`, body: { price: 42 } } },
        { id: "quote", type: "call_webhook", config: { url: `${SINK}/quote/${u}`, body: { n: 1 } } },
        {
          id: "send",
          type: "call_webhook",
          config: { url: `${SINK}/send/${u}`, body: { price: "{{ actions.lookup.outputs.body.received.price }}" } },
        },
      ],
    });
    const id = await startExec(flow.id);
    expect((await drive(id, T0)).execution_status).toBe("success");
    const body = { retry_strategy: "RETRY_AND_RESUME", reuse_outputs: ["lookup", "quote"] };
    const { p, added, exec } = await previewThenRerun(id, "lookup", body, T0 + 60_000);
    expect(p.actions.map((a: any) => [a.action_id, a.decision])).toEqual([
      ["lookup", "reuse-output"],
      ["quote", "reuse-output"],
      ["send", "re-execute"],
    ]);
    expect(p.actions[0].reason).toMatch(/reuse_outputs/);
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(added.map((e: any) => e.action_id)).toEqual(["send"]);
    expect(exec.execution_status).toBe("success");
    // The recorded output fed the later step; the reused steps were not sent again.
    const sends = await sinkRequests(`/send/${u}`);
    expect(sends.map((r) => JSON.parse(r.body))).toEqual([{ price: 42 }, { price: 42 }]);
    expect((await sinkRequests(`/lookup/${u}`)).length).toBe(1);
    expect((await sinkRequests(`/quote/${u}`)).length).toBe(1);
  });

  it("restarts from a succeeded middle step: it and every step after it run again", async () => {
    const u = uniq();
    const flow = await createFlow({
      flow_name: "restart",
      actions: ["x", "y", "z"].map((s) => ({ id: s, type: "call_webhook", config: { url: `${SINK}/r/${u}/${s}` } })),
    });
    const id = await startExec(flow.id);
    await drive(id, T0);
    const { p, added, exec } = await previewThenRerun(id, "y", {}, T0 + 60_000);
    expect(exec.execution_status).toBe("success");
    expect(p.actions.map((a: any) => a.decision)).toEqual(["reuse-output", "re-execute", "re-execute"]);
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(added.map((e: any) => [e.action_id, e.attempt, e.repeats_idempotency_key])).toEqual([
      ["y", 2, true],
      ["z", 2, true],
    ]);
  });

  it("refuses reuse_outputs naming an unknown action (400) or one without outputs (409), and changes nothing", async () => {
    const { id } = await failedRun();
    for (const path of ["retrigger", "retrigger:preview"]) {
      const unknown = await call("POST", `/v1/automation/executions/${id}/a2/${path}`, { body: { reuse_outputs: ["nope"] } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toMatch(/nope is not part of this execution/);
      const failed = await call("POST", `/v1/automation/executions/${id}/a1/${path}`, { body: { reuse_outputs: ["a2"] } });
      expect(failed.status).toBe(409);
      const bad = await call("POST", `/v1/automation/executions/${id}/a2/${path}`, { body: { reuse_outputs: "a1" } });
      expect(bad.status).toBe(400);
    }
    expect((await getExecution(id)).execution_status).toBe("failed");
    expect((await call("POST", `/v1/automation/executions/${id}/zzz/retrigger:preview`, { body: {} })).status).toBe(404);
    expect((await call("POST", `/v1/automation/executions/${id}/a2/retrigger:preview`, { org: "org-b", body: {} })).status).toBe(
      404,
    );
  });
});

describe("a flow with a loop", () => {
  /** list → each (a loop over list's outputs; item "b" fails once) → after. */
  async function loopRun() {
    const u = uniq();
    const flow = await createFlow({
      flow_name: "fan out",
      retry_policy: { max_attempts: 1 },
      loops: [{ id: "items", source_path: "actions.list.outputs.body.received.items" }],
      actions: [
        {
          id: "list",
          name: "Fetch items",
          type: "call_webhook",
          config: { url: `${SINK}/list/${u}`, body: { items: ["a", "b", "c"] } },
        },
        {
          id: "each",
          name: "Push item",
          type: "call_webhook",
          loop_id: "items",
          config: {
            url: `${SINK}/{% if loop.item == "b" %}flaky/1/${u}-b{% else %}item/${u}/{{ loop.item }}{% endif %}`,
            body: { item: "{{ loop.item }}" },
          },
        },
        { id: "after", name: "Report", type: "call_webhook", config: { url: `${SINK}/after/${u}` } },
      ],
    });
    const id = await startExec(flow.id);
    const exec = await drive(id, T0);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[1].iterations.map((i: any) => i.execution_status)).toEqual(["success", "failed", "skipped"]);
    return { id, u };
  }

  it("RETRY_AND_RESUME of the loop: every item again (attempts numbered on), then the rest", async () => {
    const { id, u } = await loopRun();
    const { p, added, exec, after } = await previewThenRerun(id, "each", {}, T0 + 60_000);
    expect(exec.execution_status).toBe("success");
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(p.effects.map((e: any) => [e.action_id, e.iteration, e.attempt, e.target, e.repeats_idempotency_key])).toEqual([
      ["each", 0, 3, `sink.test/item/${u}/a`, true],
      ["each", 1, 3, `sink.test/flaky/1/${u}-b`, true],
      ["each", 2, 3, `sink.test/item/${u}/c`, false],
      ["after", null, 1, `sink.test/after/${u}`, false],
    ]);
    expect(p.actions.find((a: any) => a.action_id === "each")).toMatchObject({ decision: "re-execute", calls: 3, effects: 3 });
    // The first run's attempts are still in the ledger: nothing was overwritten.
    expect(after.effects.slice(0, 3).map((e: any) => [e.action_id, e.iteration, e.attempt, e.outcome])).toEqual([
      ["list", null, 1, "ok"],
      ["each", 0, 1, "ok"],
      ["each", 1, 1, "failed"],
    ]);
  });

  it("restart from the list, reusing its outputs: the loop runs over the recorded items", async () => {
    const { id, u } = await loopRun();
    await retrigger(id, "each", {});
    await drive(id, T0 + 30_000);
    const { p, added } = await previewThenRerun(id, "list", { reuse_outputs: ["list"] }, T0 + 60_000);
    expect(p.actions.map((a: any) => [a.action_id, a.decision, a.calls])).toEqual([
      ["list", "reuse-output", 0],
      ["each", "re-execute", 3],
      ["after", "re-execute", 1],
    ]);
    expect(added.map(identity)).toEqual(p.effects.map(identity));
    expect(p.totals.by_target.map((t: any) => [t.target, t.count, t.repeated])).toEqual([
      [`sink.test/item/${u}/a`, 1, 1],
      [`sink.test/flaky/1/${u}-b`, 1, 1],
      [`sink.test/item/${u}/c`, 1, 1],
      [`sink.test/after/${u}`, 1, 1],
    ]);
  });
});
