import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { hotFlowLimit, hotFlowVerdict, isoDurationMs } from "../../src/engine/hot-flow";
import { LIMITS } from "../../src/lib/limits";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { startExecution } from "../../src/services/executions";
import { hotFlowQuery } from "../../src/services/hot-flows";
import { getFlow } from "../../src/store/flows";
import { call } from "../helpers";
import { SINK, createFlow, drive, executionStub, getExecution, sinkRequests } from "../support/engine";

// Bursts and table rows add up on a loaded machine: a generous per-test budget (nothing here waits on time).
vi.setConfig({ testTimeout: 30_000 });

/**
 * Issue 8 item 5, epilot's hot-flow limit (AutomationFlow.max_executions, ExecutionStatus `hot`): at most
 * `count` executions of a flow start per `window`; the next ones are created `hot`, final, and run nothing.
 */

describe("the rule (engine/hot-flow.ts, pure)", () => {
  it("reads ISO-8601 durations", () => {
    const cases: [string, number | null][] = [
      ["PT1M", 60_000],
      ["PT30S", 30_000],
      ["PT1.5S", 1500],
      ["PT1H30M", 5_400_000],
      ["P1D", 86_400_000],
      ["P1W", 604_800_000],
      ["P1DT1H", 90_000_000],
      ["P1M", 30 * 86_400_000],
      ["P1Y", 365 * 86_400_000],
      ["P", null],
      ["PT", null],
      ["1M", null],
      ["PT1X", null],
      ["", null],
    ];
    for (const [text, ms] of cases) expect({ text, ms: isoDurationMs(text) }).toEqual({ text, ms });
  });

  it("takes the flow's limit, each missing or invalid key from the default, and caps the window", () => {
    const defaultMs = isoDurationMs(LIMITS.DEFAULT_HOT_FLOW_WINDOW)!;
    expect(hotFlowLimit(undefined)).toEqual({
      count: LIMITS.DEFAULT_HOT_FLOW_MAX_EXECUTIONS,
      window: LIMITS.DEFAULT_HOT_FLOW_WINDOW,
      window_ms: defaultMs,
      source: "default",
    });
    expect(hotFlowLimit({ count: 5, window: "PT10M" })).toEqual({
      count: 5,
      window: "PT10M",
      window_ms: 600_000,
      source: "flow",
    });
    expect(hotFlowLimit({ count: 5 })).toMatchObject({ count: 5, window_ms: defaultMs, source: "flow" });
    expect(hotFlowLimit({ window: "PT5M" })).toMatchObject({ count: LIMITS.DEFAULT_HOT_FLOW_MAX_EXECUTIONS, window_ms: 300_000 });
    expect(hotFlowLimit({ count: 0, window: "PT0S" })).toMatchObject({ source: "default" });
    expect(hotFlowLimit({ count: 1, window: "P1Y" }).window_ms).toBe(LIMITS.MAX_HOT_FLOW_WINDOW_MS);
  });

  it("is hot once `count` executions already started in the window", () => {
    const limit = hotFlowLimit({ count: 3, window: "PT1M" });
    expect([0, 1, 2, 3, 4].map((n) => hotFlowVerdict(limit, n).hot)).toEqual([false, false, false, true, true]);
  });
});

describe("executions over the limit are created hot and not run", () => {
  it("runs `count` executions in the window and marks the next ones hot (API starts)", async () => {
    const flow = await createFlow({
      flow_name: "hot-api",
      max_executions: { count: 3, window: "PT1H" },
      actions: [{ id: "call", type: "call_webhook", config: { url: `${SINK}/hot-api` } }],
    });
    const started: { id: string; status: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call("POST", "/v1/automation/executions", { body: { flow_id: flow.id, entity_id: `e${i}` } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      started.push({ id: res.body.id, status: res.body.execution_status });
    }
    expect(started.map((s) => s.status)).toEqual(["pending", "pending", "pending", "hot", "hot"]);
    for (const s of started) await drive(s.id);

    const views = await Promise.all(started.map((s) => getExecution(s.id)));
    expect(views.map((v) => v.execution_status)).toEqual(["success", "success", "success", "hot", "hot"]);
    const hot = views[3];
    expect(hot.finished_at).toBeDefined();
    expect(hot.actions[0]).toMatchObject({
      execution_status: "skipped",
      attempts: [],
      reason: { payload: { code: "HOT_FLOW", count: 3, limit: 3, window: "PT1H", source: "flow" } },
    });
    expect(hot.actions[0].reason.message).toMatch(/flow is hot/);
    // Only the three that ran called out.
    expect((await sinkRequests("/hot-api")).length).toBe(3);
    // The D1 summary row says hot too (listing), and a hot execution cannot be retriggered into running.
    const list = await call("GET", `/v1/automation/executions?flow_id=${flow.id}`);
    expect(list.body.results.map((r: { execution_status: string }) => r.execution_status).sort()).toEqual([
      "hot",
      "hot",
      "success",
      "success",
      "success",
    ]);
    const retry = await call("POST", `/v1/automation/executions/${hot.id}/call/retrigger`, { body: {} });
    expect(retry.status).toBe(409);
    // Hot executions are not failures: the circuit breaker stays shut.
    const stored = await call("GET", `/v1/automation/flows/${flow.id}`);
    expect(stored.body.enabled).toBe(true);
  });

  it("counts only executions inside the window, and not hot ones", async () => {
    const created = await createFlow({
      flow_name: "hot-window",
      max_executions: { count: 2, window: "PT1H" },
      actions: [{ id: "d", type: "call_webhook", config: { url: `${SINK}/hot-other` } }],
    });
    const flow = (await getFlow(env.DB, "org-a", created.id))!;
    // Two executions started two hours ago (their object's clock says so): outside the window.
    for (let i = 0; i < 2; i++) {
      const id = crypto.randomUUID();
      await runInDurableObject(executionStub(id), (o: ExecutionObject) => {
        o.clock = () => Date.now() - 2 * 3_600_000;
      });
      await startExecution(env, { orgId: "org-a", flow, triggerEvent: { type: "manual" }, entity: null, executionId: id });
    }
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await startExecution(env, { orgId: "org-a", flow, triggerEvent: { type: "manual" }, entity: null })).status);
    }
    // Two run, two are hot; the hot ones did not count, so the window still holds two.
    expect(statuses).toEqual(["pending", "pending", "hot", "hot"]);
  });

  it("applies the default limit to flows without max_executions, but not to bulk jobs", async () => {
    const created = await createFlow({ flow_name: "hot-default", actions: [] });
    const flow = (await getFlow(env.DB, "org-a", created.id))!;
    // The default number of executions in the last minute, as the D1 index holds them.
    const now = new Date().toISOString();
    const rows = Array.from({ length: LIMITS.DEFAULT_HOT_FLOW_MAX_EXECUTIONS }, () =>
      env.DB.prepare(
        `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, created_at, updated_at)
         VALUES (?, 'org-a', ?, 'hot-default', 1, '', 'success', ?, ?)`,
      ).bind(crypto.randomUUID(), flow.id, now, now),
    );
    for (let i = 0; i < rows.length; i += 100) await env.DB.batch(rows.slice(i, i + 100));

    const manual = await startExecution(env, { orgId: "org-a", flow, triggerEvent: { type: "manual" }, entity: null });
    expect(manual.status).toBe("hot");
    const view = await getExecution(manual.id);
    expect(view.actions).toEqual([]);
    expect(view.execution_status).toBe("hot");
    const bulk = await startExecution(env, {
      orgId: "org-a",
      flow,
      triggerEvent: { type: "bulk", bulk_job_id: "job-1" },
      entity: null,
      dedupeKey: "bulk:job-1:e1",
    });
    expect(bulk.status).toBe("pending");
    // A flow's own limit holds bulk jobs too.
    const limited = { ...flow, max_executions: { count: 5, window: "PT1M" } };
    const bulkLimited = await startExecution(env, {
      orgId: "org-a",
      flow: limited,
      triggerEvent: { type: "bulk", bulk_job_id: "job-2" },
      entity: null,
    });
    expect(bulkLimited.status).toBe("hot");
  });

  it("keeps a start idempotent: the same dedupe key returns the execution that ran, even once the flow is hot", async () => {
    const created = await createFlow({
      flow_name: "hot-dedupe",
      max_executions: { count: 1, window: "PT1H" },
      actions: [{ id: "d", type: "call_webhook", config: { url: `${SINK}/hot-other` } }],
    });
    const flow = (await getFlow(env.DB, "org-a", created.id))!;
    const first = await startExecution(env, {
      orgId: "org-a",
      flow,
      triggerEvent: { type: "manual" },
      entity: null,
      dedupeKey: "k1",
    });
    const again = await startExecution(env, {
      orgId: "org-a",
      flow,
      triggerEvent: { type: "manual" },
      entity: null,
      dedupeKey: "k1",
    });
    expect(again).toMatchObject({ id: first.id, created: false, status: first.status });
    expect(first.status).not.toBe("hot");
    const other = await startExecution(env, {
      orgId: "org-a",
      flow,
      triggerEvent: { type: "manual" },
      entity: null,
      dedupeKey: "k2",
    });
    expect(other.status).toBe("hot");
  });

  it("far under the limit a start reuses its isolate's recent count (no D1 count); near it, or later, it counts again", async () => {
    const flow = { id: `hot-cache-${crypto.randomUUID()}`, max_executions: { count: 10, window: "PT1M" } };
    const t0 = Date.now();
    const ask = async (at: number, f = flow) => {
      const q = hotFlowQuery(env, "org-a", f, { type: "manual" }, at);
      if (!q) return "cached";
      const [res] = await env.DB.batch([q.statement]);
      return q.verdict(res) ? "hot" : "counted";
    };
    // Counted once (0 in the window); then 2 × (0 + starts since) < 10 for four more starts.
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await ask(t0));
    expect(seen).toEqual(["counted", "cached", "cached", "cached", "cached", "counted"]);
    // An older count is not reused, nor one read for another limit (the flow was edited).
    expect(await ask(t0 + LIMITS.HOT_COUNT_CACHE_MS)).toBe("counted");
    expect(await ask(t0 + LIMITS.HOT_COUNT_CACHE_MS, { ...flow, max_executions: { count: 12, window: "PT1M" } })).toBe("counted");

    // Near the limit every start counts: with 4 of 10 in the window, none is cached.
    const near = { id: `hot-near-${crypto.randomUUID()}`, max_executions: { count: 10, window: "PT1M" } };
    const now = new Date(t0).toISOString();
    await env.DB.batch(
      Array.from({ length: 4 }, () =>
        env.DB.prepare(
          `INSERT INTO executions (id, org_id, flow_id, flow_name, flow_version, entity_id, status, created_at, updated_at)
           VALUES (?, 'org-a', ?, 'near', 1, '', 'success', ?, ?)`,
        ).bind(crypto.randomUUID(), near.id, now, now),
      ),
    );
    expect([await ask(t0, near), await ask(t0, near)]).toEqual(["counted", "counted"]);
  });

  it("refuses an invalid max_executions with 400 when the flow is saved", async () => {
    for (const max_executions of [{ count: 0 }, { count: 1.5 }, { window: "1 minute" }, { window: "PT" }, { count: "3" }]) {
      const res = await call("POST", "/v1/automation/flows", {
        body: { flow_name: "hot-bad", triggers: [{ type: "manual" }], actions: [], max_executions },
      });
      expect({ max_executions, status: res.status }).toEqual({ max_executions, status: 400 });
    }
  });
});
