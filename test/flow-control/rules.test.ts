import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { call } from "../helpers";
import { getExecution } from "../support/engine";
import {
  controlledFlow,
  emit,
  finish,
  fireFlowControl,
  flowControlStub,
  holding,
  named,
  queueOf,
  start,
  waitingRows,
} from "./support";

vi.setConfig({ testTimeout: 120_000 });

/** Throttle, rate_limit, singleton and priority through the admission queue; time moves only on the flow-control object's clock. */

describe("throttle", () => {
  it("at most limit starts per period: the rest wait for their slot, started when the flow's alarm fires at it", async () => {
    const flow = await controlledFlow({ throttle: { limit: 2, period: "1m" } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await start(flow.id, `e${i}`)).id);
    const queue = await queueOf(flow.id);
    expect(holding(queue).map((r) => r.execution_id)).toEqual([ids[0]]);
    const slots = queue.map((r) => r.not_before);
    // Evenly spaced, period / limit apart (burst 0): never more than 2 in any minute.
    for (let i = 1; i < 5; i++) expect(slots[i] - slots[i - 1]).toBe(30_000);
    for (const s of slots) expect(slots.filter((t) => t >= s && t < s + 60_000).length).toBeLessThanOrEqual(2);
    const pending = await getExecution(ids[1]);
    expect(pending.execution_status).toBe("pending");
    expect(pending.admission.reason).toMatch(/^waiting for its throttle time \(/);

    // Just before the second slot nothing moves; at it, the second starts; at the last, the rest.
    expect((await fireFlowControl(flow.id, slots[1] - 1))!.promoted).toEqual([]);
    expect((await fireFlowControl(flow.id, slots[1]))!.promoted).toEqual([ids[1]]);
    const run = (await fireFlowControl(flow.id, slots[4]))!;
    expect(run.promoted).toEqual(ids.slice(2));
    expect(run.next_at).toBeNull();
    const second = await getExecution(ids[1]);
    expect(second.admission).toMatchObject({ decision: "waited", key: null });
    // Throttled from its request to the slot the first one's start set: a little under 30 s.
    expect(second.admission.reason).toMatch(/^throttled 2\d{4} ms$/);
    expect(second.admission.waited_ms).toBeGreaterThan(25_000);
    for (const id of ids) await finish(id);
  });

  it("a burst lets more go at once; a throttle per key spaces each key on its own", async () => {
    const burst = await controlledFlow({ throttle: { limit: 1, period: "10s", burst: 2 } });
    for (let i = 0; i < 4; i++) await start(burst.id, `b${i}`);
    expect(holding(await queueOf(burst.id)).length).toBe(3);

    const keyed = await controlledFlow({ throttle: { limit: 1, period: "1m", key: "{{ trigger_event.entity_id }}" } });
    await start(keyed.id, "a");
    await start(keyed.id, "b");
    await start(keyed.id, "a");
    const queue = await queueOf(keyed.id);
    expect(queue.map((r) => r.state)).toEqual(["running", "running", "waiting"]);
    for (const r of holding(await queueOf(burst.id))) await finish(r.execution_id);
    for (const r of holding(queue)) await finish(r.execution_id);
  });
});

describe("rate_limit", () => {
  it("over the limit a start is skipped, recorded with its reason; a redelivered start is decided once", async () => {
    const flow = await controlledFlow({ rate_limit: { limit: 3, period: "1h", key: "{{ trigger_event.entity_id }}" } });
    const docs = [];
    for (let i = 0; i < 5; i++) docs.push(await start(flow.id, "a"));
    expect(docs.map((d) => d.execution_status)).toEqual(["pending", "pending", "pending", "skipped", "skipped"]);
    const skipped = await getExecution(docs[3].id);
    expect(skipped.admission).toMatchObject({ decision: "skipped", key: "a", waited_ms: 0 });
    expect(skipped.admission.reason).toBe('rate_limit: over key "a"');
    expect(skipped.actions[0].execution_status).toBe("skipped");
    // A skipped start cannot be rerun into running around the limit (a rerun of any step is otherwise allowed).
    const rerun = await call("POST", `/v1/automation/executions/${skipped.id}/${skipped.actions[0].id}/retrigger`, { body: {} });
    expect(rerun.status).toBe(409);
    expect(rerun.body.error.message).toMatch(/skipped by flow control/);
    // Another key has its own bucket.
    expect((await start(flow.id, "b")).execution_status).toBe("pending");
    const tat = async () =>
      (await env.DB.prepare(`SELECT tat FROM flow_control_state WHERE flow_id = ? AND key = 'a'`)
        .bind(flow.id)
        .first<{ tat: number }>())!.tat;
    const before = await tat();
    const again = await call("POST", "/v1/automation/executions", {
      body: { flow_id: flow.id, entity_id: "a" },
      headers: { "idempotency-key": "k-1" },
    });
    const redo = await call("POST", "/v1/automation/executions", {
      body: { flow_id: flow.id, entity_id: "a" },
      headers: { "idempotency-key": "k-1" },
    });
    expect(redo.body.id).toBe(again.body.id);
    expect(redo.body.execution_status).toBe("skipped");
    // A refused start takes nothing from the bucket.
    expect(await tat()).toBe(before);
    for (const d of docs.slice(0, 3)) await finish(d.id);
    // The skipped starts left no slot behind.
    const rows = await queueOf(flow.id);
    expect(holding(rows).length).toBe(1);
  });
});

describe("singleton", () => {
  it("skip: a start while one of its key runs is skipped; another key runs; after the end the key runs again", async () => {
    const flow = await controlledFlow({ singleton: { mode: "skip", key: "{{ trigger_event.entity_id }}" } });
    const a = await start(flow.id, "x");
    const b = await start(flow.id, "x");
    const c = await start(flow.id, "y");
    expect([a.execution_status, b.execution_status, c.execution_status]).toEqual(["pending", "skipped", "pending"]);
    expect((await getExecution(b.id)).admission.reason).toMatch(/^singleton: one of key "x" is running or waiting$/);
    await finish(a.id);
    const d = await start(flow.id, "x");
    expect(d.execution_status).toBe("pending");
    expect(
      holding(await queueOf(flow.id))
        .map((r) => r.execution_id)
        .sort(),
    ).toEqual([c.id, d.id].sort());
    await finish(c.id);
    await finish(d.id);
  });

  it("cancel_previous: the running one of its key is cancelled and the new one runs after it", async () => {
    const flow = await controlledFlow({ singleton: { mode: "cancel_previous", key: "{{ trigger_event.entity_id }}" } });
    const a = await start(flow.id, "x");
    const b = await start(flow.id, "x");
    const first = await getExecution(a.id);
    expect(first.execution_status).toBe("cancelled");
    expect(first.cancel_reason).toBe('Cancelled by a newer start of the same singleton key ("x")');
    expect(holding(await queueOf(flow.id)).map((r) => r.execution_id)).toEqual([b.id]);
    await finish(b.id);
  });

  it("cancel_previous with a waiting start of its key: the waiting one is cancelled (settled by the flow's alarm)", async () => {
    const flow = await controlledFlow(
      { singleton: { mode: "cancel_previous", key: "{{ trigger_event.entity_id }}" } },
      { concurrency_limit: 1 },
    );
    const a = await start(flow.id, "x");
    const b = await start(flow.id, "y");
    const c = await start(flow.id, "y");
    let queue = await queueOf(flow.id);
    expect(queue.find((r) => r.execution_id === b.id)?.state).toBe("cancelled");
    expect(waitingRows(queue).map((r) => r.execution_id)).toEqual([c.id]);
    const run = (await fireFlowControl(flow.id))!;
    expect(run.settled).toEqual([b.id]);
    const listed = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`);
    expect(listed.body.results.find((r: any) => r.id === b.id).execution_status).toBe("cancelled");
    await finish(a.id);
    queue = await queueOf(flow.id);
    expect(holding(queue).map((r) => r.execution_id)).toEqual([c.id]);
    await finish(c.id);
  });
});

describe("priority", () => {
  it("waiting starts run higher first, FIFO within a level", async () => {
    const flow = await controlledFlow({ priority: { run: "{{ trigger_event.entity_id }}" } }, { concurrency_limit: 1 });
    const holder = await start(flow.id, "0");
    const low = await start(flow.id, "1");
    const highA = await start(flow.id, "5");
    const highB = await start(flow.id, "5");
    const mid = await start(flow.id, "3");
    expect((await queueOf(flow.id)).map((r) => r.priority)).toEqual([0, 1, 5, 5, 3]);
    const order: string[] = [];
    let current = holder.id;
    for (let i = 0; i < 4; i++) {
      await finish(current);
      current = holding(await queueOf(flow.id))[0].execution_id;
      order.push(current);
    }
    expect(order).toEqual([highA.id, highB.id, mid.id, low.id]);
    await finish(current);
  });
});

describe("throttle with concurrency, and redelivered events", () => {
  it("a throttled start waits for its time, then for a slot; a slot freed after its time lets it in", async () => {
    const flow = await controlledFlow({ throttle: { limit: 2, period: "1m" } }, { concurrency_limit: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await start(flow.id, `e${i}`)).id);
    const slots = (await queueOf(flow.id)).map((r) => r.not_before);
    // Its time came but the one slot is taken: it stays in line.
    expect((await fireFlowControl(flow.id, slots[1]))!.promoted).toEqual([]);
    await finish(ids[0]);
    // The release ran on the real clock, before the second's throttle time: the flow's alarm lets it in.
    await flowControlStub(flow.id).arm("org-a", flow.id, slots[1]);
    expect((await fireFlowControl(flow.id, slots[1]))!.promoted).toEqual([ids[1]]);
    const second = await getExecution(ids[1]);
    // On the object's clock it was let in at its throttle time (the slot was free again by then).
    expect(second.admission).toMatchObject({ decision: "waited" });
    expect(second.admission.reason).toMatch(/^throttled \d+ ms$/);
    await finish(ids[1]);
    await flowControlStub(flow.id).arm("org-a", flow.id, slots[2]);
    expect((await fireFlowControl(flow.id, slots[2]))!.promoted).toEqual([ids[2]]);
    await finish(ids[2]);
  });

  it("an event delivered twice takes one row and one throttle slot", async () => {
    const name = `thr.${Math.random().toString(36).slice(2)}`;
    const flow = await controlledFlow({ throttle: { limit: 1, period: "1h" } }, {}, name);
    const first = named(name, {});
    const a = await emit(first);
    const b = await emit(first);
    expect(b.started).toEqual(a.started);
    await emit(named(name, {}));
    const rows = await queueOf(flow.id);
    expect(rows).toHaveLength(2);
    expect(rows[1].not_before - rows[0].not_before).toBeGreaterThanOrEqual(3_599_000);
    for (const r of holding(rows)) await finish(r.execution_id);
  });
});
