import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, drive, sinkRequests, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

async function getFlow(id: string) {
  const res = await call("GET", `/v1/automation/flows/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe("flow statistics and the circuit breaker", () => {
  it("counts runs, resets on success, and disables the flow after N consecutive failures, POSTing each failure report", async () => {
    const flow = await createFlow({
      flow_name: "breaker",
      retry_policy: { max_attempts: 1 },
      error_handling: { notify_on_failure: true, notify_url: `${SINK}/notify`, disable_after_failures: 3 },
      actions: [{ id: "h", type: "call_webhook", config: { url: `${SINK}/{{ trigger.entity_id }}` } }],
    });
    const run = async (entity: string) => (await drive(await startExec(flow.id, entity))).execution_status;

    expect(await run("status/500")).toBe("failed");
    expect(await run("status/500")).toBe("failed");
    let f = await getFlow(flow.id);
    expect(f).toMatchObject({ runs: 2, consecutive_failures: 2, enabled: true });
    expect(await run("ok")).toBe("success");
    f = await getFlow(flow.id);
    expect(f).toMatchObject({ runs: 3, consecutive_failures: 0, enabled: true });
    expect(f.success_rate).toBeCloseTo(1 / 3);

    for (let i = 0; i < 3; i++) expect(await run("status/500")).toBe("failed");
    f = await getFlow(flow.id);
    expect(f.enabled).toBe(false);
    expect(f.disable_details).toMatchObject({ disabled_by: "system" });
    expect(f.disable_details.last_error).toMatch(/TRIGGER_WEBHOOK_ERROR/);

    const reports = await sinkRequests("/notify");
    expect(reports.length).toBe(5);
    expect(JSON.parse(reports[0].body)).toMatchObject({
      type: "execution.failed",
      flow_id: flow.id,
      error: { error_code: "TRIGGER_WEBHOOK_ERROR" },
    });

    // A disabled flow does not start; enabling it resets the breaker's count on the next success.
    expect((await call("POST", "/v1/automation/executions", { body: { flow_id: flow.id, entity_id: "ok" } })).status).toBe(409);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/enable`)).status).toBe(200);
    expect(await run("ok")).toBe("success");
    f = await getFlow(flow.id);
    expect(f).toMatchObject({ enabled: true, consecutive_failures: 0, runs: 7 });
  });
});

describe("runs view", () => {
  it("lists a flow's runs in the normalized shape and shows one with inline action results", async () => {
    const flow = await createFlow({
      flow_name: "runs",
      conditions: [{ id: "never", statements: [{ source: { origin: "trigger", attribute: "_id" }, operation: "is_not_empty" }] }],
      actions: [
        { id: "a", type: "call_webhook", config: { url: `${SINK}/runs-a`, body: { x: 1 } } },
        { id: "b", type: "call_webhook", condition_id: "never", config: { url: `${SINK}/runs-b` } },
      ],
    });
    const id = await startExec(flow.id);
    await drive(id);
    const one = await call("GET", `/v1/automation/runs/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      run_id: id,
      status: "completed",
      actions_total: 2,
      actions_executed: 1,
      actions_failed: 0,
      actions_skipped: 1,
      truncated: false,
    });
    expect(one.body.action_results[0]).toMatchObject({
      action_id: "a",
      action_type: "call_webhook",
      status: "success",
      request: { method: "POST", body: { x: 1 } },
    });
    expect(one.body.action_results[0].response.status).toBe(200);
    expect(typeof one.body.action_results[0].duration_ms).toBe("number");

    const list = await call("GET", `/v1/automation/flows/${flow.id}/runs?status=completed&limit=10`);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.data[0]).toMatchObject({ run_id: id, status: "completed" });
    expect((await call("GET", `/v1/automation/flows/${flow.id}/runs?status=failed`)).body.total).toBe(0);
    expect((await call("GET", `/v1/automation/flows/${flow.id}/runs?status=nope`)).status).toBe(400);
    expect((await call("GET", `/v1/automation/flows/${flow.id}/runs`, { org: "org-b" })).status).toBe(404);
  });

  it("executes one action of a flow in isolation and returns its result", async () => {
    const flow = await createFlow({
      flow_name: "isolated",
      conditions: [
        { id: "c", statements: [{ source: { origin: "trigger", attribute: "x" }, operation: "equals", values: ["never"] }] },
      ],
      actions: [
        { id: "first", type: "call_webhook", config: { url: `${SINK}/iso-first` } },
        {
          id: "second",
          type: "call_webhook",
          condition_id: "c",
          config: { url: `${SINK}/iso-second`, body: { name: "{{ record.name }}" } },
        },
      ],
    });
    const res = await call("POST", `/v1/automation/flows/${flow.id}/actions/second/execute`, {
      body: { test_data: { name: "Grace" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("completed");
    expect(res.body.action_results.map((r: any) => r.action_id)).toEqual(["second"]);
    expect((await sinkRequests("/iso-first")).length).toBe(0);
    const [hit] = await sinkRequests("/iso-second");
    expect(JSON.parse(hit.body)).toEqual({ name: "Grace" });
    expect((await call("POST", `/v1/automation/flows/${flow.id}/actions/zzz/execute`, { body: {} })).status).toBe(404);
  });
});

describe("Idempotency-Key", () => {
  it("returns the same execution for the same key and a new one for another key", async () => {
    const flow = await createFlow({
      flow_name: "idem",
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/idem` } }],
    });
    const start = (key: string) =>
      call("POST", "/v1/automation/executions", {
        body: { flow_id: flow.id, entity_id: "e" },
        headers: { "idempotency-key": key },
      });
    const a = await start("k-1");
    const b = await start("k-1");
    const c = await start("k-2");
    expect(a.status).toBe(201);
    expect(b.body.id).toBe(a.body.id);
    expect(c.body.id).not.toBe(a.body.id);
    const other = await call("POST", "/v1/automation/executions", {
      org: "org-b",
      body: { flow_id: flow.id, entity_id: "e" },
      headers: { "idempotency-key": "k-1" },
    });
    expect(other.status).toBe(404);
    await drive(a.body.id);
    await drive(c.body.id);
    expect((await sinkRequests("/idem")).length).toBe(2);
  });
});
