import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, executionStub, sinkRequests, sinkReset, startExec } from "../support/engine";
import { driveIn, freshOrg, modelCalls, modelConnection, vendorCalls, vendorConnection } from "./support";

/**
 * kill -9 in the middle of an ai_agent loop, as test/execution/crash.test.ts simulates it: the alarm that runs a
 * step is started, the test waits until the step's request reached the sink (the call is in flight), then every
 * Durable Object is aborted (memory and the running invocation gone) and the execution is driven again.
 */

beforeEach(sinkReset);

async function untilSinkSaw(path: string, count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await sinkRequests(path)).filter((r) => r.method === "POST").length >= count) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the sink never saw ${count} requests under ${path}`);
}

async function agentFlow(org: string, config: Record<string, unknown>): Promise<string> {
  const flow = await createFlow({ flow_name: "agent", actions: [{ id: "ai", type: "ai_agent", config }] }, org);
  return startExec(flow.id, "none", org);
}

describe("a kill in the middle of the agent loop", () => {
  it("during a model call after a tool answered: resumes at that step, re-sends it with the same key, repeats no tool call", async () => {
    const org = freshOrg();
    await vendorConnection("hubspot", { org });
    const model = await modelConnection("lookup-then-slow", { org, delayMs: 300 });
    const id = await agentFlow(org, {
      connection_id: model.id,
      input: "Who is ada@example.com?",
      tools: ["hubspot_get_contact"],
    });
    const stub = executionStub(id);
    // One alarm runs the steps one after another: model call, tool call, then the second model call is in flight.
    const running = runDurableObjectAlarm(stub).catch((e: unknown) => e);
    await untilSinkSaw(model.path, 2);
    await abortAllDurableObjects();
    await running;

    const exec = await driveIn(id, org);
    expect(exec.execution_status).toBe("success");
    const a = exec.actions[0];
    expect(a.outputs.steps.map((s: any) => s.type)).toEqual(["model", "tool", "model"]);
    expect(a.attempts.map((t: any) => t.outcome)).toEqual(["success", "success", "interrupted", "success"]);
    const keys = (await modelCalls(model.path)).map((c) => c.headers["idempotency-key"]);
    expect(keys).toEqual([`${id}:ai:step-0`, `${id}:ai:step-2`, `${id}:ai:step-2`]);
    // The lookup answered before the kill: it is not sent again.
    expect(await vendorCalls("/hubspot/", org)).toHaveLength(1);
    const log = await executionStub(id).eventLog();
    expect(log.filter((e) => e.type === "action_interrupted")).toHaveLength(1);
  });

  it("during a tool call: the call is re-sent with the same idempotency key, once", async () => {
    const org = freshOrg();
    const api = await call("POST", "/v1/connections", {
      org,
      body: { platform: "http", name: "orders api", config: { base_url: `${SINK}/delay/300/orders-${org}` } },
    });
    expect(api.status, JSON.stringify(api.body)).toBe(201);
    const model = await modelConnection("post-then-answer", { org });
    const id = await agentFlow(org, {
      connection_id: model.id,
      input: "Post order 1042",
      tools: ["http_request"],
      approval: "auto",
    });
    const stub = executionStub(id);
    const running = runDurableObjectAlarm(stub).catch((e: unknown) => e);
    await untilSinkSaw(`/delay/300/orders-${org}`, 1);
    await abortAllDurableObjects();
    await running;

    const exec = await driveIn(id, org);
    expect(exec.execution_status).toBe("success");
    const a = exec.actions[0];
    expect(a.outputs.tool_calls).toBe(1);
    expect(a.outputs.text).toContain("Order posted");
    expect(a.attempts.map((t: any) => t.outcome)).toEqual(["success", "interrupted", "success", "success"]);
    const posts = (await sinkRequests(`/delay/300/orders-${org}`)).filter((r) => r.method === "POST");
    expect(posts).toHaveLength(2);
    expect(new Set(posts.map((p) => p.headers["idempotency-key"]))).toEqual(new Set([`tool:${id}:ai:step-1`]));
    // The model was asked twice in all: before the tool call and after it; the kill repeated no model call.
    expect(await modelCalls(model.path)).toHaveLength(2);
  });
});
