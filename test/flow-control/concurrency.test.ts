import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { call } from "../helpers";
import { getExecution } from "../support/engine";
import { controlledFlow, finish, holding, liveExecutions, queueOf, start, waitingRows } from "./support";

vi.setConfig({ testTimeout: 180_000 });

/** Issue 26 item 1: concurrency per key is a hard bound per key; the others wait in order, none is dropped. */

/** A small deterministic generator (mulberry32): the order of finishes is random but the same on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const perKey = (rows: { k1: string | null }[]) => {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.k1 ?? "", (counts.get(r.k1 ?? "") ?? 0) + 1);
  return counts;
};

describe("concurrency per key", () => {
  it("50 starts over 5 keys with a limit of 2 per key: never more than 2 per key at once, FIFO per key, all 50 finish", async () => {
    const flow = await controlledFlow({ concurrency: [{ limit: 2, key: "{{ trigger_event.entity_id }}" }] });
    const starts = await Promise.all(Array.from({ length: 50 }, (_, i) => start(flow.id, `c${i % 5}`)));
    const ids = starts.map((s) => s.id as string);
    expect(new Set(ids).size).toBe(50);
    const queue = await queueOf(flow.id);
    expect(queue.length).toBe(50);
    expect([...perKey(holding(queue)).values()]).toEqual([2, 2, 2, 2, 2]);
    expect(waitingRows(queue).length).toBe(40);
    // Admission order within each key: the first two of each key hold its slots.
    const orderOf = (key: string) => queue.filter((r) => r.k1 === key).map((r) => r.execution_id);
    for (const key of ["c0", "c1", "c2", "c3", "c4"]) {
      expect(
        holding(queue)
          .filter((r) => r.k1 === key)
          .map((r) => r.execution_id),
      ).toEqual(orderOf(key).slice(0, 2));
    }
    // A waiting start answers GET from its stored input, with its admission so far.
    const w = await getExecution(waitingRows(queue)[0].execution_id);
    expect(w).toMatchObject({ execution_status: "pending", admission: { decision: "waited" } });
    expect(w.admission.reason).toMatch(/^waiting for a slot \(concurrency "c\d"\)$/);

    const next = random(26);
    const finished: string[] = [];
    const startedOrder = new Map<string, string[]>();
    for (const r of holding(queue)) startedOrder.set(r.k1!, [...(startedOrder.get(r.k1!) ?? []), r.execution_id]);
    while (finished.length < 50) {
      const now = await queueOf(flow.id);
      const held = holding(now);
      for (const count of perKey(held).values()) expect(count).toBeLessThanOrEqual(2);
      const live = await liveExecutions(flow.id);
      for (const key of ["c0", "c1", "c2", "c3", "c4"])
        expect(live.filter((e) => e.entity_id === key).length).toBeLessThanOrEqual(2);
      const pick = held[Math.floor(next() * held.length)];
      await finish(pick.execution_id);
      finished.push(pick.execution_id);
      for (const r of holding(await queueOf(flow.id))) {
        const list = startedOrder.get(r.k1!) ?? [];
        if (!list.includes(r.execution_id)) startedOrder.set(r.k1!, [...list, r.execution_id]);
      }
    }
    // Each key's executions were admitted in the order they were started.
    for (const key of ["c0", "c1", "c2", "c3", "c4"]) expect(startedOrder.get(key)).toEqual(orderOf(key));
    expect(await queueOf(flow.id)).toEqual([]);
    const { results } = await env.DB.prepare(`SELECT status, COUNT(*) AS n FROM executions WHERE flow_id = ? GROUP BY status`)
      .bind(flow.id)
      .all();
    expect(results).toEqual([{ status: "success", n: 50 }]);
    // Each execution carries its admission: the first two of a key at once, the others after a wait for a slot.
    const first = await getExecution(orderOf("c0")[0]);
    expect(first.admission).toMatchObject({ decision: "admitted", key: "c0", waited_ms: 0, keys: { concurrency: "c0" } });
    const later = await getExecution(orderOf("c0")[5]);
    expect(later.admission).toMatchObject({ decision: "waited", key: "c0" });
    expect(later.admission.reason).toMatch(/waited for a slot \(concurrency "c0"\)/);
    expect(later.admission.waited_ms).toBeGreaterThan(0);
  });

  it("two bounds: at most 2 per key and 3 for the whole flow (concurrency_limit is the keyless form)", async () => {
    const flow = await controlledFlow(
      { concurrency: [{ limit: 2, key: "{{ trigger_event.entity_id }}" }] },
      { concurrency_limit: 3 },
    );
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await start(flow.id, `k${i % 2}`)).id);
    let queue = await queueOf(flow.id);
    expect(holding(queue).map((r) => r.execution_id)).toEqual(ids.slice(0, 3));
    expect(queue.every((r) => r.k1 === "" && (r.k2 === "k0" || r.k2 === "k1"))).toBe(true);
    while (holding((queue = await queueOf(flow.id))).length > 0) {
      const held = holding(queue);
      expect(held.length).toBeLessThanOrEqual(3);
      for (const count of perKey(held.map((r) => ({ k1: r.k2 }))).values()) expect(count).toBeLessThanOrEqual(2);
      await finish(held[0].execution_id);
    }
    expect(queue).toEqual([]);
  });

  it("a redelivered start takes no second row; another org's flow has its own keys", async () => {
    const flow = await controlledFlow({ concurrency: [{ limit: 1, key: "{{ trigger_event.entity_id }}" }] });
    const a = await call("POST", "/v1/automation/executions", {
      body: { flow_id: flow.id, entity_id: "x" },
      headers: { "idempotency-key": "same" },
    });
    const b = await call("POST", "/v1/automation/executions", {
      body: { flow_id: flow.id, entity_id: "x" },
      headers: { "idempotency-key": "same" },
    });
    expect(b.body.id).toBe(a.body.id);
    expect((await queueOf(flow.id)).length).toBe(1);
    await finish(a.body.id);
  });

  it("a bad flow_control is a 400 naming each field, and nothing is stored", async () => {
    const res = await call("POST", "/v1/automation/flows", {
      body: {
        flow_name: "bad",
        triggers: [{ type: "manual" }],
        actions: [],
        concurrency_limit: 2,
        flow_control: {
          concurrency: [{ limit: 1, key: "{{ a }}" }, { limit: 0 }],
          throttle: { limit: 5, period: "5 minutes" },
          debounce: { period: "1m" },
          batch: { max_size: 2, timeout: "1m" },
        },
      },
    });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining(["flow_control.concurrency.1.limit", "flow_control.throttle.period", "flow_control.batch"]),
    );
    const three = await call("POST", "/v1/automation/flows", {
      body: {
        flow_name: "bad",
        triggers: [{ type: "manual" }],
        actions: [],
        concurrency_limit: 2,
        flow_control: { concurrency: [{ limit: 1 }, { limit: 2 }] },
      },
    });
    expect(three.status).toBe(400);
    expect(three.body.error.details.map((d: any) => d.path)).toContain("flow_control.concurrency");
  });

  it("GET shows flow_control as saved", async () => {
    const fc = { throttle: { limit: 5, period: "1m", key: "{{ entity._id }}" }, singleton: { mode: "skip" } };
    const flow = await controlledFlow(fc);
    const got = await call("GET", `/v1/automation/flows/${flow.id}`);
    expect(got.body.flow_control).toEqual(fc);
  });
});
