import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { call } from "../helpers";
import { getExecution } from "../support/engine";
import { finish, holders, limitedFlow, queueOf, runningCount, waiting } from "./support";

// 50 executions driven one by one: generous, nothing here waits on time.
vi.setConfig({ testTimeout: 120_000 });

/** Issue 13 item 7: `concurrency_limit` is a hard bound; the others wait their turn, in order, and none is dropped. */
describe("concurrency_limit is a hard bound", () => {
  it("50 simultaneous API starts with a limit of 5: never more than 5 run, all 50 finish, in admission order", async () => {
    const flow = await limitedFlow(5);
    const starts = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call("POST", "/v1/automation/executions", { body: { flow_id: flow.id, entity_id: `e${i}` } }),
      ),
    );
    for (const s of starts) expect(s.status, JSON.stringify(s.body)).toBe(201);
    const ids = starts.map((s) => s.body.id as string);
    expect(new Set(ids).size).toBe(50);

    // Every one is listed at once (pending while it waits), and none is dropped.
    const list = await call("GET", `/v1/automation/executions?flow_id=${flow.id}&size=100`);
    expect(list.body.total).toBe(50);
    const queue = await queueOf(flow.id);
    expect(queue.length).toBe(50);
    expect(holders(queue).map((r) => r.execution_id)).toEqual(queue.slice(0, 5).map((r) => r.execution_id));
    expect(waiting(queue).length).toBe(45);
    const order = queue.map((r) => r.execution_id);
    expect([...order].sort()).toEqual([...ids].sort());
    // A waiting execution answers GET from its stored input.
    const w = await getExecution(waiting(queue)[0].execution_id);
    expect(w).toMatchObject({ execution_status: "pending", flow_id: flow.id });

    const finished: string[] = [];
    while (finished.length < 50) {
      const now = await queueOf(flow.id);
      const held = holders(now).map((r) => r.execution_id);
      // The slots are held by the oldest unfinished executions: FIFO, and never more than the limit.
      expect(held).toEqual(order.slice(finished.length, finished.length + 5));
      expect(await runningCount(flow.id)).toBeLessThanOrEqual(5);
      const next = held[0];
      await finish(next);
      finished.push(next);
      expect(holders(await queueOf(flow.id)).length).toBeLessThanOrEqual(5);
      expect(await runningCount(flow.id)).toBeLessThanOrEqual(5);
    }
    expect(finished).toEqual(order);
    expect(await queueOf(flow.id)).toEqual([]);
    const { results } = await env.DB.prepare(`SELECT status, COUNT(*) AS n FROM executions WHERE flow_id = ? GROUP BY status`)
      .bind(flow.id)
      .all<{ status: string; n: number }>();
    expect(results).toEqual([{ status: "success", n: 50 }]);
    // Started in admission order: each started after the one admitted before it.
    const rows = await env.DB.prepare(`SELECT id, started_at FROM executions WHERE flow_id = ?`)
      .bind(flow.id)
      .all<{ id: string; started_at: string }>();
    const startedAt = new Map(rows.results.map((r) => [r.id, r.started_at]));
    const byStart = [...order].sort(
      (a, b) => startedAt.get(a)!.localeCompare(startedAt.get(b)!) || order.indexOf(a) - order.indexOf(b),
    );
    expect(byStart.slice(5)).toEqual(order.slice(5));
  });

  it("flows without a limit write nothing to the admission queue", async () => {
    const flow = await limitedFlow(1, { concurrency_limit: undefined, flow_name: "free" });
    const starts = await Promise.all(
      Array.from({ length: 5 }, () => call("POST", "/v1/automation/executions", { body: { flow_id: flow.id, entity_id: "x" } })),
    );
    for (const s of starts) expect(s.status).toBe(201);
    expect(await queueOf(flow.id)).toEqual([]);
    for (const s of starts) await finish(s.body.id);
  });
});
