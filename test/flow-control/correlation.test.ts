import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { processEvent } from "../../src/queues/events";
import type { NamedEvent } from "../../src/schemas/events";
import { call } from "../helpers";
import { createFlow, drive, getExecution } from "../support/engine";

/** correlation_key: rendered per start, stored on the execution, filterable, inherited by trigger-workflow children. */

const event = (name: string, payload: Record<string, unknown>): NamedEvent => ({
  id: `corr-${Math.random()}`,
  org_id: "org-a",
  at: new Date().toISOString(),
  depth: 0,
  type: "event",
  event_name: name,
  payload,
  entity_id: null,
});

describe("correlation_key", () => {
  it("is stored on each execution and filters GET /executions; a trigger-workflow child inherits it", async () => {
    const child = await createFlow({ flow_name: "child", actions: [{ id: "noop", type: "delay", config: { duration: 1 } }] });
    await createFlow({
      flow_name: "parent",
      correlation_key: "order-{{ trigger.payload.order_id }}",
      triggers: [{ type: "event", configuration: { event_name: "corr.order" } }],
      actions: [{ id: "t", type: "trigger-workflow", config: { target_workflow: child.id } }],
    });
    const a = (await processEvent(env, event("corr.order", { order_id: "A1" }))).started[0];
    const b = (await processEvent(env, event("corr.order", { order_id: "B2" }))).started[0];
    const parent = await drive(a);
    await drive(b);
    expect(parent.correlation_key).toBe("order-A1");
    const childId = parent.actions[0].outputs.execution_id;
    const kid = await getExecution(childId);
    expect(kid).toMatchObject({ correlation_key: "order-A1", parent_execution_id: a });

    const list = await call("GET", `/v1/automation/executions?correlation_key=order-A1`);
    expect(list.status).toBe(200);
    expect(list.body.results.map((r: any) => r.id).sort()).toEqual([a, childId].sort());
    expect(list.body.results.find((r: any) => r.id === childId)).toMatchObject({
      correlation_key: "order-A1",
      parent_execution_id: a,
    });
    expect((await call("GET", `/v1/automation/executions?correlation_key=order-B2`)).body.total).toBe(2);
    expect((await call("GET", `/v1/automation/executions?correlation_key=order-A1`, { org: "org-b" })).body.total).toBe(0);
  });

  it("a flow without one leaves it out; a template that renders empty stores none", async () => {
    const flow = await createFlow({ flow_name: "plain", correlation_key: "{{ trigger.nothing }}", actions: [] });
    const res = await call("POST", "/v1/automation/executions", { body: { flow_id: flow.id, entity_id: "x" } });
    expect(res.status).toBe(201);
    expect(res.body.correlation_key).toBeUndefined();
  });

  it("a bad template is a 400 naming the field", async () => {
    const res = await call("POST", "/v1/automation/flows", {
      body: { flow_name: "bad", triggers: [{ type: "manual" }], actions: [], correlation_key: "{{ trigger.x" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: any) => d.path)).toContain("correlation_key");
  });
});
