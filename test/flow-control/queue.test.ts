import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { reconcileAdmissions } from "../../src/services/reconcile-admission";
import { apiKey, call } from "../helpers";
import { controlledFlow, emit, finish, flowControlStub, holding, named, queueOf, start } from "./support";

vi.setConfig({ testTimeout: 120_000 });

/** GET /v1/automation/flows/{flow_id}/queue, and the reconciliation's repairs of flow control. */

describe("the flow's queue", () => {
  it("running and waiting per key, the oldest waiting start's age, the next throttle slot, collecting groups", async () => {
    const flow = await controlledFlow({
      concurrency: [{ limit: 1, key: "{{ trigger_event.entity_id }}" }],
      throttle: { limit: 60, period: "1m" },
    });
    const ids: string[] = [];
    for (const key of ["a", "a", "a", "b"]) ids.push((await start(flow.id, key)).id);
    const res = await call("GET", `/v1/automation/flows/${flow.id}/queue`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const q = res.body;
    expect(q).toMatchObject({ flow_id: flow.id, running: 1, waiting: 3 });
    expect(q.oldest_waiting_age_ms).toBeGreaterThanOrEqual(0);
    expect(q.keys).toEqual([
      { bound: "concurrency", key: "a", running: 1, waiting: 2, oldest_waiting_age_ms: expect.any(Number) },
      { bound: "concurrency", key: "b", running: 0, waiting: 1, oldest_waiting_age_ms: expect.any(Number) },
    ]);
    // Throttled 1 s apart: the three waiting starts wait for their slots first.
    expect(q.throttled).toBe(3);
    expect(Date.parse(q.next_throttle_slot_at)).toBeGreaterThan(Date.now() - 1_000);
    expect(q.throttle).toMatchObject({
      limit: 60,
      period: "1m",
      burst: 0,
      keys: [{ key: "", next_slot_at: expect.any(String) }],
    });
    expect(q.collecting).toEqual([]);
    for (const id of ids) {
      if (holding(await queueOf(flow.id)).some((r) => r.execution_id === id)) await finish(id);
    }
  });

  it("collecting groups are listed; unknown and foreign flows are 404; reading needs automations:read", async () => {
    const name = `q.${Math.random().toString(36).slice(2)}`;
    const flow = await controlledFlow({ debounce: { period: "1m", key: "{{ trigger_event.payload.k }}" } }, {}, name);
    await emit(named(name, { k: "x" }));
    await emit(named(name, { k: "x" }));
    const q = (await call("GET", `/v1/automation/flows/${flow.id}/queue`)).body;
    expect(q.collecting).toEqual([
      { kind: "debounce", key: "x", events: 2, state: "open", opened_at: expect.any(String), due_at: expect.any(String) },
    ]);
    expect((await call("GET", `/v1/automation/flows/nope/queue`)).status).toBe(404);
    expect((await call("GET", `/v1/automation/flows/${flow.id}/queue`, { org: "org-b" })).status).toBe(404);
    const reader = await apiKey("org-a", ["automations:read"]);
    expect((await call("GET", `/v1/automation/flows/${flow.id}/queue`, { token: reader })).status).toBe(200);
    const other = await apiKey("org-a", ["automations:trigger"]);
    expect((await call("GET", `/v1/automation/flows/${flow.id}/queue`, { token: other })).status).toBe(403);
    expect((await call("GET", `/v1/automation/flows/${flow.id}/queue`, { token: null })).status).toBe(401);
  });
});

describe("repairs of the reconciliation", () => {
  it("a lost flow-control alarm: overdue groups and throttled starts are run by the reconciliation", async () => {
    const name = `r.${Math.random().toString(36).slice(2)}`;
    const flow = await controlledFlow({ batch: { max_size: 5, timeout: "1m" } }, {}, name);
    const a = await emit(named(name, { n: 1 }));
    await env.DB.prepare(`UPDATE flow_control_groups SET due_at = due_at - 600000 WHERE flow_id = ?`).bind(flow.id).run();
    const report = await reconcileAdmissions(env, Date.now());
    expect(report.flow_control).toContain(flow.id);
    expect(report.errors).toEqual([]);
    expect((await call("GET", `/v1/automation/executions/${a.collected[0]}`)).status).toBe(200);
    // Nothing left to do: a second run finds nothing for this flow.
    expect((await reconcileAdmissions(env, Date.now())).flow_control).not.toContain(flow.id);
  });

  it("a singleton cancel whose caller died is made again; the flow's object keeps its alarm on the earliest time", async () => {
    const flow = await controlledFlow({ singleton: { mode: "cancel_previous" } });
    const a = await start(flow.id, "x");
    // As if a newer start had asked A to cancel and died before the cancel reached A's object.
    await env.DB.prepare(`UPDATE admission_queue SET cancel_requested_at = ? WHERE execution_id = ?`)
      .bind(Date.now() - 120_000, a.id)
      .run();
    const report = await reconcileAdmissions(env, Date.now());
    expect(report.cancels_requested).toEqual([a.id]);
    expect((await call("GET", `/v1/automation/executions/${a.id}`)).body.execution_status).toBe("cancelled");
    expect(await queueOf(flow.id)).toEqual([]);

    const stub = flowControlStub(flow.id);
    const soon = Date.now() + 60_000;
    await stub.arm("org-a", flow.id, soon);
    await stub.arm("org-a", flow.id, soon + 60_000);
    expect(Math.abs((await stub.alarmAt())! - soon)).toBeLessThan(5_000);
  });
});
