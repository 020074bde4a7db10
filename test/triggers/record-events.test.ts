import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { processEvent } from "../../src/queues/events";
import type { EntityOperationEvent } from "../../src/schemas/events";
import { call } from "../helpers";
import { SINK, createFlow, drive, recordEvents, sinkReset } from "../support/engine";

beforeEach(sinkReset);

let seq = 0;
function entityEvent(over: Partial<EntityOperationEvent> = {}): EntityOperationEvent {
  seq++;
  return {
    id: `evt-${seq}-${Math.random()}`,
    org_id: "org-a",
    at: new Date().toISOString(),
    depth: 0,
    type: "entity_operation",
    operation: "updateEntity",
    schema: "deal",
    entity_id: `deal-${seq}`,
    entity: { _id: `deal-${seq}`, _schema: "deal", stage: "won", value: 10 },
    diff: { added: {}, updated: { stage: "won" }, deleted: {} },
    previous: { stage: "open" },
    ...over,
  };
}

describe("record events → executions", () => {
  it("field.changed with changed_to starts the flow only for the matching transition", async () => {
    const flow = await createFlow({
      flow_name: "won",
      triggers: [{ type: "field.changed", configuration: { module: "deal", field: "stage" } }],
      conditions: [{ field: "stage", operator: "changed_to", value: "won" }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/won` } }],
    });
    const won = await processEvent(env, entityEvent());
    expect(won.started.length).toBe(1);
    const exec = await drive(won.started[0]);
    expect(exec.execution_status).toBe("success");
    expect(exec.trigger_event).toMatchObject({
      type: "entity_operation",
      operation_type: "updateEntity",
      previous: { stage: "open" },
    });

    const lost = await processEvent(
      env,
      entityEvent({
        entity: { _id: "d", _schema: "deal", stage: "lost" },
        diff: { added: {}, updated: { stage: "lost" }, deleted: {} },
      }),
    );
    const lostExec = await drive(lost.started[0]);
    expect(lostExec.execution_status).toBe("skipped");

    const other = await processEvent(env, entityEvent({ diff: { added: {}, updated: { value: 11 }, deleted: {} } }));
    expect(other.started).toEqual([]);
    expect(other.skipped).toEqual([{ flow_id: flow.id, reason: "no trigger matches" }]);
  });

  it("entity_operation with operations and filter_config", async () => {
    await createFlow({
      flow_name: "eb",
      triggers: [
        {
          type: "entity_operation",
          configuration: {
            schema: "opportunity",
            operations: ["createEntity"],
            filter_config: { entity: { value: [{ numeric: [">", 100] }] } },
          },
        },
      ],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/eb` } }],
    });
    const opp = { schema: "opportunity" };
    const small = await processEvent(
      env,
      entityEvent({ ...opp, operation: "createEntity", entity: { _id: "x", _schema: "opportunity", value: 5 } }),
    );
    const big = await processEvent(
      env,
      entityEvent({ ...opp, operation: "createEntity", entity: { _id: "y", _schema: "opportunity", value: 500 } }),
    );
    const update = await processEvent(env, entityEvent({ ...opp, entity: { _id: "z", _schema: "opportunity", value: 500 } }));
    expect([small.started.length, big.started.length, update.started.length]).toEqual([0, 1, 0]);
  });

  it("a disabled flow does not start, and trigger_conditions filter events", async () => {
    const flow = await createFlow({
      flow_name: "tc",
      triggers: [{ type: "record.created", configuration: { module: "lead" } }],
      trigger_conditions: [{ source: "entity.source", comparison: "equals", value: "web" }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/tc` } }],
    });
    const create = (source: string) =>
      entityEvent({ operation: "createEntity", schema: "lead", entity: { _id: "l", _schema: "lead", source } });
    expect((await processEvent(env, create("web"))).started.length).toBe(1);
    expect((await processEvent(env, create("phone"))).started.length).toBe(0);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`)).status).toBe(200);
    expect((await processEvent(env, create("web"))).started.length).toBe(0);
  });

  it("a redelivered message starts one execution, and the consumer acks only after starting", async () => {
    await createFlow({
      flow_name: "once",
      triggers: [{ type: "record.updated", configuration: { module: "invoice" } }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/once` } }],
    });
    const event = entityEvent({ schema: "invoice", entity: { _id: "inv", _schema: "invoice" } });
    const first = await processEvent(env, event);
    expect(first.started.length).toBe(1);
    const again = await processEvent(env, event);
    expect(again.started).toEqual(first.started);

    const batch = createMessageBatch<unknown>("automation-events", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: event },
      { id: "m2", timestamp: new Date(), attempts: 1, body: { nonsense: true } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    const list = await call("GET", `/v1/automation/executions?entity_id=${event.entity_id}`);
    expect(list.body.total).toBe(1);
    const dead = await env.DB.prepare("SELECT reason FROM dead_letters WHERE message_key = 'm2'").first<{ reason: string }>();
    expect(dead?.reason).toMatch(/Invalid event/);
  });

  it("records written through the API emit events that start flows", async () => {
    await createFlow({
      flow_name: "api-record",
      triggers: [{ type: "record.created", configuration: { module: "ticket" } }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/ticket`, body: { title: "{{ record._title }}" } } }],
    });
    const { sent, restore } = recordEvents({ deliver: true });
    try {
      const rec = await call("POST", "/v1/entities/ticket", { body: { title: "Printer on fire" } });
      expect(rec.status).toBe(201);
      expect(sent).toHaveLength(1);
      const outcome = await processEvent(env, sent[0] as EntityOperationEvent);
      const exec = await drive(outcome.started[0]);
      expect(exec.execution_status).toBe("success");
      expect(exec.entity_id).toBe(rec.body._id);
    } finally {
      restore();
    }
  });
});

describe("events too large for a queue message", () => {
  it("a 200 KB record's event travels by reference and still starts its flow", async () => {
    await createFlow({
      flow_name: "large",
      triggers: [{ type: "record.created", configuration: { module: "dossier" } }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/large`, body: { size: "{{ record.blob | size }}" } } }],
    });
    const { sent, restore } = recordEvents({ deliver: true });
    try {
      const rec = await call("POST", "/v1/entities/dossier", { body: { blob: "x".repeat(200_000) } });
      expect(rec.status).toBe(201);
      expect(sent[0]).toMatchObject({ type: "stored", org_id: "org-a" });
      expect(JSON.stringify(sent[0]).length).toBeLessThan(500);
      const batch = createMessageBatch<unknown>("automation-events", [
        { id: "big", timestamp: new Date(), attempts: 1, body: sent[0] },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["big"]);
      const list = await call("GET", `/v1/automation/executions?entity_id=${rec.body._id}`);
      expect(list.body.total).toBe(1);
      const exec = await drive(list.body.results[0].id);
      expect(exec.execution_status).toBe("success");
    } finally {
      restore();
    }
  });
});
