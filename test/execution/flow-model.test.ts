import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, createFlow, createRecord, drive, sinkRequests, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

const DAY = 86_400_000;

describe("conditions", () => {
  it("skips an action whose condition fails, with the explanation, and runs the others", async () => {
    const rec = await createRecord("deal", { name: "Big", value: 500 });
    const flow = await createFlow({
      flow_name: "gated",
      conditions: [
        {
          id: "c-big",
          statements: [
            {
              source: { origin: "trigger", attribute: "value", attributeType: "number" },
              operation: "greater_than",
              values: ["1000"],
            },
          ],
        },
      ],
      actions: [
        { id: "gated", type: "call_webhook", condition_id: "c-big", config: { url: `${SINK}/gated` } },
        { id: "always", type: "call_webhook", config: { url: `${SINK}/always` } },
      ],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    expect(exec.execution_status).toBe("success");
    const [gated, always] = exec.actions;
    expect(gated.execution_status).toBe("skipped");
    expect(gated.reason.payload.statements[0]).toMatchObject({ operator: "greater_than", passed: false, actual_value: 500 });
    expect(always.execution_status).toBe("success");
    expect((await sinkRequests("/gated")).length).toBe(0);
  });

  it("ends skipped when the flow's own (Coherence) conditions are not met", async () => {
    const rec = await createRecord("deal", { name: "Small", stage: "open" });
    const flow = await createFlow({
      flow_name: "flow-level",
      conditions: [{ field: "stage", operator: "equals", value: "won" }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/never` } }],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    expect(exec.execution_status).toBe("skipped");
    expect(exec.actions[0].execution_status).toBe("skipped");
    expect(exec.conditions_evaluated.passed).toBe(false);
    expect((await sinkRequests("/never")).length).toBe(0);
  });
});

describe("schedules", () => {
  it("waits until 2 days before a date on the entity, then runs", async () => {
    const now = Date.now();
    const due = now + 5 * DAY;
    const rec = await createRecord("contract", { name: "C", end_date: new Date(due).toISOString() });
    const flow = await createFlow({
      flow_name: "reminder",
      schedules: [
        {
          id: "s1",
          numberOfUnits: 2,
          timePeriod: "days",
          timeRelation: "before",
          source: { id: "t", origin: "trigger", attribute: "end_date" },
        },
      ],
      actions: [{ id: "remind", type: "call_webhook", schedule_id: "s1", config: { url: `${SINK}/remind` } }],
    });
    const id = await startExec(flow.id, rec._id);
    let exec = await drive(id, now);
    expect(exec.execution_status).toBe("scheduled");
    expect(exec.actions[0].execution_status).toBe("scheduled");
    expect(exec.actions[0].scheduled_for).toBe(new Date(due - 2 * DAY).toISOString());
    exec = await drive(id, due - 2 * DAY - 1000); // a second early: still waiting
    expect(exec.execution_status).toBe("scheduled");
    expect((await sinkRequests("/remind")).length).toBe(0);
    exec = await drive(id, due - 2 * DAY);
    expect(exec.execution_status).toBe("success");
    expect((await sinkRequests("/remind")).length).toBe(1);
  });

  it("waits 10 minutes after an earlier action finished", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "follow-up",
      schedules: [
        { id: "s10", numberOfUnits: 10, timePeriod: "minutes", timeRelation: "after", source: { id: "first", origin: "action" } },
      ],
      actions: [
        { id: "first", type: "call_webhook", config: { url: `${SINK}/first` } },
        { id: "second", type: "call_webhook", schedule_id: "s10", config: { url: `${SINK}/second` } },
      ],
    });
    const id = await startExec(flow.id);
    let exec = await drive(id, now);
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["success", "scheduled"]);
    expect(Date.parse(exec.actions[1].scheduled_for)).toBe(now + 10 * 60_000);
    exec = await drive(id, now + 10 * 60_000);
    expect(exec.execution_status).toBe("success");
  });

  it("runs at once when the scheduled time is already past", async () => {
    const rec = await createRecord("contract", { name: "old", end_date: "2001-01-01T00:00:00Z" });
    const flow = await createFlow({
      flow_name: "past",
      schedules: [
        {
          id: "s",
          numberOfUnits: 1,
          timePeriod: "days",
          timeRelation: "after",
          source: { id: "t", origin: "trigger", attribute: "end_date" },
        },
      ],
      actions: [{ id: "a", type: "call_webhook", schedule_id: "s", config: { url: `${SINK}/past` } }],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    expect(exec.execution_status).toBe("success");
  });

  it("cancelSchedule cancels the waiting actions and lets the rest finish", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "cancel-schedule",
      schedules: [
        { id: "later", numberOfUnits: 1, timePeriod: "hours", timeRelation: "after", source: { id: "x", origin: "automation" } },
      ],
      actions: [
        { id: "wait", type: "call_webhook", schedule_id: "later", config: { url: `${SINK}/later` } },
        { id: "after", type: "call_webhook", config: { url: `${SINK}/after` } },
      ],
    });
    const id = await startExec(flow.id);
    await drive(id, now);
    const res = await call("DELETE", `/v1/automation/executions/${id}/schedules/later`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe("later");
    const exec = await drive(id, now);
    expect(exec.actions.map((a: any) => a.execution_status)).toEqual(["cancelled", "success"]);
    expect(exec.execution_status).toBe("success");
    expect((await call("DELETE", `/v1/automation/executions/${id}/schedules/nope`)).status).toBe(404);
  });

  it("cancelling an execution while it is scheduled clears its timer and cancels pending actions", async () => {
    const now = Date.now();
    const flow = await createFlow({
      flow_name: "cancel-while-scheduled",
      schedules: [
        { id: "s", numberOfUnits: 3, timePeriod: "days", timeRelation: "after", source: { id: "x", origin: "automation" } },
      ],
      actions: [{ id: "a", type: "call_webhook", schedule_id: "s", config: { url: `${SINK}/cancelled` } }],
    });
    const id = await startExec(flow.id);
    await drive(id, now);
    const res = await call("DELETE", `/v1/automation/executions/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.execution_status).toBe("cancelled");
    expect(res.body.actions[0].execution_status).toBe("cancelled");
    const exec = await drive(id, now + 4 * DAY);
    expect(exec.execution_status).toBe("cancelled");
    expect((await sinkRequests("/cancelled")).length).toBe(0);
    expect((await call("DELETE", `/v1/automation/executions/${id}`)).status).toBe(409);
  });
});

describe("loops", () => {
  it("runs an action once per item, recording iterations; a failing item under allow_failure lets the flow go on", async () => {
    const rec = await createRecord("order", { name: "o", items: [{ sku: "a" }, { sku: "bad" }, { sku: "c" }] });
    const flow = await createFlow({
      flow_name: "loop",
      loops: [{ id: "each-item", source_path: "items" }],
      actions: [
        {
          id: "per-item",
          type: "call_webhook",
          loop_id: "each-item",
          allow_failure: true,
          config: {
            url: `${SINK}/{% if loop.item.sku == "bad" %}status/400{% else %}item/{{ loop.item.sku }}{% endif %}`,
            body: { i: "{{ loop.index }}" },
          },
        },
        { id: "next", type: "call_webhook", config: { url: `${SINK}/next` } },
      ],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    const loop = exec.actions[0];
    expect(loop.iterations.map((i: any) => i.execution_status)).toEqual(["success", "failed", "success"]);
    expect(loop.loop_state).toEqual({ current_index: 3, total: 3 });
    expect(loop.execution_status).toBe("failed");
    expect(exec.actions[1].execution_status).toBe("success");
    expect(exec.execution_status).toBe("success");
    const hits = await sinkRequests("/item");
    expect(hits.map((h) => h.path)).toEqual(["/item/a", "/item/c"]);
    expect(hits.map((h) => h.headers["idempotency-key"])).toEqual([`${exec.id}:per-item:0`, `${exec.id}:per-item:2`]);
  });
});
