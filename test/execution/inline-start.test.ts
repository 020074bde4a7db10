import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { LIMITS } from "../../src/lib/limits";
import { startExecution } from "../../src/services/executions";
import { getExecutionRow } from "../../src/store/executions";
import { getFlow } from "../../src/store/flows";
import { countingDb } from "../support/d1-count";
import { SINK, createFlow, drive, executionStub, sinkRequests, sinkReset, untilSinkSaw } from "../support/engine";
import { call } from "../helpers";

/**
 * Production's first step: ExecutionObject.start() runs it in the same invocation, after answering,
 * with the alarm armed as a watchdog (the rest of the suite leaves it to the alarm, which tests fire).
 */

beforeEach(sinkReset);

type Counter = { statements: number; batches: number };
interface Prepared {
  id: string;
  counter: Counter;
}

/** A fresh execution id whose object runs inline (as in production), its D1 writes counted. */
async function prepareInline(options: { clock?: () => number } = {}): Promise<Prepared> {
  const id = crypto.randomUUID();
  const counter: Counter = { statements: 0, batches: 0 };
  await runInDurableObject(executionStub(id), (o: ExecutionObject) => {
    const self = o as unknown as { env: typeof env };
    self.env = { ...self.env, EXECUTION_INLINE_START: "1", DB: countingDb(self.env.DB, counter) };
    if (options.clock) o.clock = options.clock;
  });
  return { id, counter };
}

async function start(flowId: string, id: string) {
  const flow = (await getFlow(env.DB, "org-a", flowId))!;
  return startExecution(env, { orgId: "org-a", flow, triggerEvent: { type: "manual" }, executionId: id, entity: null });
}

const twoCalls = (prefix: string, first = `${SINK}/${prefix}/one`) => ({
  flow_name: `inline ${prefix}`,
  actions: [
    { id: "one", type: "call_webhook", config: { url: first, timeout_ms: 5000 } },
    {
      id: "two",
      type: "call_webhook",
      config: { url: `${SINK}/${prefix}/two`, body: { prev: "{{ actions.one.outputs.status }}" } },
    },
  ],
});

async function alarmAt(id: string): Promise<number | null> {
  return runInDurableObject(executionStub(id), (_o: ExecutionObject, state: DurableObjectState) => state.storage.getAlarm());
}

describe("inline first step", () => {
  it("runs a short execution to success with no alarm fired, writing D1 once: the finish (the pending row folds into it)", async () => {
    const flow = await createFlow(twoCalls("short"));
    const { id, counter } = await prepareInline();
    const res = await start(flow.id, id);
    expect(res).toMatchObject({ id, created: true, status: "pending" });
    expect(res.snapshot?.state.status).toBe("pending"); // the answer carries the execution as created

    expect(await executionStub(id).waitUntilSettled(10_000)).toBe("success");
    expect((await sinkRequests("/short")).map((r) => r.path)).toEqual(["/short/one", "/short/two"]);
    // Flow statistics and the summary row, in one batch; the "pending" and "running" rows were never due.
    expect(counter).toEqual({ statements: 2, batches: 1 });
    const row = await getExecutionRow(env.DB, "org-a", id);
    expect(row).toMatchObject({ status: "success", actions_executed: 2 });
    // The watchdog gave way to the retention timer.
    expect((await alarmAt(id))! - Date.now()).toBeGreaterThan(86_400_000);
    const stats = await env.DB.prepare(`SELECT runs, success_count FROM flows WHERE id = ?`).bind(flow.id).first();
    expect(stats).toEqual({ runs: 1, success_count: 1 });
  });

  it("arms the watchdog, not an immediate alarm, while the first step runs", async () => {
    const flow = await createFlow(twoCalls("watch", `${SINK}/slow/300`));
    const { id } = await prepareInline();
    const before = Date.now();
    await start(flow.id, id);
    await untilSinkSaw("/slow");
    const at = await alarmAt(id);
    expect(at).not.toBeNull();
    expect(at! - before).toBeGreaterThanOrEqual(LIMITS.WATCHDOG_MS - 1_000);
    expect(await executionStub(id).waitUntilSettled(10_000)).toBe("success");
  });

  it("a crash during the inline step loses nothing: the watchdog alarm records the attempt as interrupted and retries it once", async () => {
    const flow = await createFlow(twoCalls("crash", `${SINK}/slow/400`));
    const { id } = await prepareInline();
    await start(flow.id, id);
    await untilSinkSaw("/slow");
    await abortAllDurableObjects(); // the invocation running the first step dies mid-request

    const exec = await drive(id); // fires the (watchdog) alarm on purpose
    expect(exec.execution_status).toBe("success");
    expect(exec.actions[0].attempts.map((a: any) => a.outcome)).toEqual(["interrupted", "success"]);
    const hits = await sinkRequests("/slow");
    expect(hits.length).toBe(2); // one request per recorded attempt, the same key
    expect(new Set(hits.map((h) => h.headers["idempotency-key"]))).toEqual(new Set([`${id}:one`]));
    expect((await sinkRequests("/crash/two")).length).toBe(1);
  });

  it("a second start of the same id while it runs changes nothing and runs nothing twice", async () => {
    const flow = await createFlow(twoCalls("again", `${SINK}/slow/200`));
    const { id } = await prepareInline();
    const first = await start(flow.id, id);
    const second = await start(flow.id, id);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(await executionStub(id).waitUntilSettled(10_000)).toBe("success");
    expect((await sinkRequests("/slow")).length).toBe(1);
    expect((await sinkRequests("/again/two")).length).toBe(1);
  });

  it("a run longer than SUMMARY_DEFER_MS writes its in-progress status before the next action", async () => {
    // Each reading of the engine's clock moves it on by 400 ms: the run looks long without waiting.
    let t = Date.now();
    const { id, counter } = await prepareInline({ clock: () => (t += 400) });
    const flow = await createFlow({
      flow_name: "inline long",
      actions: ["a", "b", "c", "d"].map((a) => ({ id: a, type: "call_webhook", config: { url: `${SINK}/long/${a}` } })),
    });
    await start(flow.id, id);
    expect(await executionStub(id).waitUntilSettled(10_000)).toBe("success");
    // More than the one round trip of a short run: the deferred summary went out between actions.
    expect(counter.batches).toBeGreaterThan(1);
    expect((await getExecutionRow(env.DB, "org-a", id))?.status).toBe("success");
  });

  it("before its first row is written, the run is found by id (its object answers), and only in its own org", async () => {
    const flow = await createFlow(twoCalls("found", `${SINK}/slow/400`));
    const { id } = await prepareInline();
    await start(flow.id, id);
    await untilSinkSaw("/slow");
    expect(await getExecutionRow(env.DB, "org-a", id)).toBeNull();

    const got = await call("GET", `/v1/automation/executions/${id}`);
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.body).toMatchObject({ id, execution_status: "in_progress" });
    expect((await call("GET", `/v1/automation/executions/${id}`, { org: "org-b" })).status).toBe(404);
    expect((await call("POST", `/v1/automation/executions/${id}/cancel`, { org: "org-b" })).status).toBe(404);

    expect(await executionStub(id).waitUntilSettled(10_000)).toBe("success");
    expect((await getExecutionRow(env.DB, "org-a", id))?.status).toBe("success");
  });

  it("a first action longer than SUMMARY_DEFER_MS: the row is written while it runs, and the finish is not lost to it", async () => {
    const flow = await createFlow(twoCalls("late", `${SINK}/slow/${LIMITS.SUMMARY_DEFER_MS + 600}`));
    const { id, counter } = await prepareInline();
    await start(flow.id, id);
    await untilSinkSaw("/slow");
    let row = null;
    for (let i = 0; i < 300 && !row; i++) {
      row = await getExecutionRow(env.DB, "org-a", id);
      if (!row) await new Promise((r) => setTimeout(r, 10));
    }
    expect(row?.status).toBe("in_progress");
    expect((await sinkRequests("/late/two")).length).toBe(0); // the first action is still running

    expect(await executionStub(id).waitUntilSettled(10_000)).toBe("success");
    expect(counter.batches).toBe(2); // the row written during the action, then the finish
    expect((await getExecutionRow(env.DB, "org-a", id))?.status).toBe("success");
    const stats = await env.DB.prepare(`SELECT runs, success_count FROM flows WHERE id = ?`).bind(flow.id).first();
    expect(stats).toEqual({ runs: 1, success_count: 1 });
    // Nothing is left to write.
    await runInDurableObject(executionStub(id), (_o: ExecutionObject, state: DurableObjectState) => {
      expect(state.storage.sql.exec(`SELECT value FROM kv WHERE key = 'outbox'`).toArray()).toEqual([]);
    });
  });
});
