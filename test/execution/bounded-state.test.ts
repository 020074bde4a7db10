import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ExecutionObject } from "../../src/objects/execution-object";
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
} from "../support/engine";

beforeEach(sinkReset);

/** Bytes of the stored state value, and the largest row of the object's storage. */
async function storageSizes(id: string): Promise<{ state: number; largestRow: number }> {
  return runInDurableObject(executionStub(id), (_o: ExecutionObject, ctx) => {
    const sql = ctx.storage.sql;
    const state = sql.exec<{ n: number }>(`SELECT length(value) AS n FROM kv WHERE key = 'state'`).one().n;
    let largestRow = 0;
    for (const t of ["kv", "outputs", "iterations", "loop_items", "attempts", "events"]) {
      const exists = sql.exec(`SELECT 1 FROM sqlite_master WHERE name = ?`, t).toArray().length;
      if (!exists) continue;
      const cols = sql
        .exec<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, t)
        .toArray()
        .map((c) => c.name);
      const expr = cols.map((c) => `COALESCE(length(${c}), 0)`).join(" + ");
      const n = sql.exec<{ n: number | null }>(`SELECT MAX(${expr}) AS n FROM ${t}`).one().n ?? 0;
      largestRow = Math.max(largestRow, n);
    }
    return { state, largestRow };
  });
}

/** Fires alarms until the execution is final (each alarm runs up to MAX_RUNS_PER_INVOCATION actions). */
async function runToEnd(id: string, maxAlarms: number): Promise<string> {
  const stub = executionStub(id);
  for (let i = 0; i < maxAlarms; i++) {
    await runDurableObjectAlarm(stub);
    const status = await stub.waitUntilSettled(0);
    if (["success", "failed", "cancelled", "skipped"].includes(status)) return status;
  }
  return (await stub.waitUntilSettled(0)) as string;
}

describe("bounded execution state", () => {
  it("a loop over 1,000 items, each call answering 2 KB, finishes success with a small state value", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ n: i }));
    const rec = await createRecord("batch", { items });
    const flow = await createFlow({
      flow_name: "1,000 calls",
      loops: [{ id: "l", source_path: "entity.items" }],
      actions: [
        { id: "each", type: "call_webhook", loop_id: "l", config: { url: `${SINK}/big/2048`, method: "GET" } },
        {
          id: "after",
          type: "call_webhook",
          config: { url: `${SINK}/after`, body: { n: "{{ actions.each.outputs.iterations | size }}" } },
        },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    expect(await runToEnd(id, 150)).toBe("success");
    expect((await sinkRequests("/big")).length).toBe(1000);
    const [after] = await sinkRequests("/after");
    expect(JSON.parse(after.body)).toEqual({ n: expect.any(Number) });

    const sizes = await storageSizes(id);
    console.log(`[bounded-state] loop 1,000 × 2 KB: state ${sizes.state} B, largest row ${sizes.largestRow} B`);
    expect(sizes.state).toBeLessThan(16 * 1024);
    expect(sizes.largestRow).toBeLessThanOrEqual(LIMITS.MAX_ACTION_OUTPUT_BYTES + 1024);

    const started = Date.now();
    const exec = await getExecution(id);
    console.log(`[bounded-state] loop 1,000 × 2 KB: getExecution ${Date.now() - started} ms, ${JSON.stringify(exec).length} B`);
    const each = exec.actions[0];
    expect(each.execution_status).toBe("success");
    expect(each.iterations_total).toBe(1000);
    expect(each.iterations).toHaveLength(LIMITS.MAX_ITERATIONS_IN_VIEW);
    expect(each.iterations[0]).toMatchObject({ index: 0, execution_status: "success", outputs: { status: 200 } });
    expect(each.attempts.length).toBeLessThanOrEqual(LIMITS.MAX_ATTEMPTS_IN_VIEW);
    expect(each.attempts_total).toBe(1000);
    // 1,000 iteration outputs of ~2 KB exceed the action's cap: the aggregate is cut and says so.
    expect(each.outputs.truncated).toBe(true);
    expect(each.outputs_truncated).toBe(true);
  }, 120_000);

  it("a flow of 50 actions, each call answering 60 KB, finishes success; each body is stored once", async () => {
    const actions = Array.from({ length: 50 }, (_, i) => ({
      id: `a${i}`,
      type: "call_webhook",
      config: { url: `${SINK}/big/${60 * 1024}`, method: "GET" },
    }));
    const flow = await createFlow({ flow_name: "50 × 60 KB", actions });
    const id = await startExec(flow.id);
    expect(await runToEnd(id, 20)).toBe("success");
    const sizes = await storageSizes(id);
    console.log(`[bounded-state] 50 × 60 KB: state ${sizes.state} B, largest row ${sizes.largestRow} B`);
    expect(sizes.state).toBeLessThan(32 * 1024);

    // The body is in the outputs row; the attempt row refers to it instead of holding a copy.
    const attemptBytes = await runInDurableObject(
      executionStub(id),
      (_o: ExecutionObject, ctx) =>
        ctx.storage.sql.exec<{ n: number }>(`SELECT MAX(length(response)) AS n FROM attempts`).one().n,
    );
    expect(attemptBytes).toBeLessThan(2048);

    const started = Date.now();
    const exec = await getExecution(id);
    console.log(`[bounded-state] 50 × 60 KB: getExecution ${Date.now() - started} ms, ${JSON.stringify(exec).length} B`);
    expect(exec.actions).toHaveLength(50);
    for (const a of exec.actions) {
      expect(a.execution_status).toBe("success");
      expect(a.outputs.body).toHaveLength(60 * 1024);
    }
    // The run view joins each body back into its attempt's response.
    const run = await call("GET", `/v1/automation/runs/${id}`);
    expect(run.status, JSON.stringify(run.body).slice(0, 300)).toBe(200);
    for (const r of run.body.action_results) expect(r.response.body).toHaveLength(60 * 1024);
  }, 120_000);

  it("an iteration's outputs over their cap are cut and marked truncated; templates still read what is kept", async () => {
    const rec = await createRecord("batch", { items: [1, 2] });
    const flow = await createFlow({
      flow_name: "over the cap",
      loops: [{ id: "l", source_path: "entity.items" }],
      actions: [
        { id: "each", type: "call_webhook", loop_id: "l", config: { url: `${SINK}/big/${40 * 1024}`, method: "GET" } },
        {
          id: "next",
          type: "call_webhook",
          config: { url: `${SINK}/next`, body: { status: "{{ actions.each.outputs.iterations[1].status }}" } },
        },
      ],
    });
    const id = await startExec(flow.id, rec._id);
    expect(await runToEnd(id, 5)).toBe("success");
    const exec = await getExecution(id);
    const it0 = exec.actions[0].iterations[0];
    expect(it0.outputs_truncated).toBe(true);
    expect(it0.outputs.truncated).toBe(true);
    expect(it0.outputs.status).toBe(200);
    expect(JSON.stringify(it0.outputs).length).toBeLessThanOrEqual(LIMITS.MAX_ITERATION_OUTPUT_BYTES);
    const [next] = await sinkRequests("/next");
    expect(JSON.parse(next.body)).toEqual({ status: 200 });
  });

  it("reads the state value from storage at most once per step (once per instance, then from memory)", async () => {
    const actions = Array.from({ length: 6 }, (_, i) => ({
      id: `s${i}`,
      type: "call_webhook",
      config: { url: `${SINK}/step/${i}` },
    }));
    const flow = await createFlow({ flow_name: "reads", actions });
    const id = await startExec(flow.id);
    // Count reads of the `state` row made while the whole run is driven (6 steps, several alarms).
    const reads = await runInDurableObject(executionStub(id), async (o: ExecutionObject) => {
      const store = (o as unknown as { store: { loadRaw: () => unknown }; cached: unknown }).store;
      (o as unknown as { cached: unknown }).cached = undefined; // as a fresh instance would start
      let n = 0;
      const original = store.loadRaw.bind(store);
      store.loadRaw = () => {
        n++;
        return original();
      };
      for (let i = 0; i < 5 && (await o.waitUntilSettled(0)) !== "success"; i++) await o.alarm();
      store.loadRaw = original;
      return { n, status: await o.waitUntilSettled(0) };
    });
    expect(reads.status).toBe("success");
    expect(reads.n).toBeLessThanOrEqual(1);
  });
});
