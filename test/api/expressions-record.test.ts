import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { processEvent } from "../../src/queues/events";
import type { EntityOperationEvent } from "../../src/schemas/events";
import { call } from "../helpers";
import { SINK, createFlow, createRecord, drive, recordEvents, sinkRequests, sinkReset, startExec } from "../support/engine";

/**
 * `record.id`, `record.created_at` and the other plain names of a stored record's `_` fields, in a real execution
 * (templates of an action config and conditions), in the preview endpoints, and never over a real attribute.
 */

beforeEach(sinkReset);

const TEST = "/v1/automation/conditions:test";
const RENDER = "/v1/automation/templates:render";

/** A call_webhook whose body echoes the record through every name a user may write. */
const echoAction = (id: string, path: string, condition_id?: string) => ({
  id,
  type: "call_webhook",
  ...(condition_id ? { condition_id } : {}),
  config: {
    url: `${SINK}${path}`,
    body: {
      id: "{{ record.id }}",
      _id: "{{ record._id }}",
      entity_id: "{{ entity.id }}",
      created_at: "{{ record.created_at }}",
      _created_at: "{{ record._created_at }}",
      updated_at: "{{ record.updated_at }}",
      schema: "{{ record.schema }}",
      title: "{{ record.title }}",
      text: "{{ record.schema }} {{ record.id }} since {{ record.created_at | date_format: 'YYYY' }}",
    },
  },
});

async function bodiesAt(path: string): Promise<Record<string, unknown>[]> {
  return (await sinkRequests(path)).map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

describe("a stored record's plain names in an execution", () => {
  it("render and gate actions when the run starts by API with entity_id", async () => {
    const rec = await createRecord("deal", { name: "Acme renewal", value: 10 });
    const path = `/rec-api-${crypto.randomUUID()}`;
    const flow = await createFlow({
      flow_name: "record names",
      // The flow's own (Coherence) conditions read the plain names too.
      conditions: [
        { field: "record.id", operator: "equals", value: rec._id },
        { field: "created_at", operator: "less_than_or_equals", value: rec._created_at },
        {
          id: "is-this-one",
          statements: [{ source: { origin: "trigger", attribute: "id" }, operation: "equals", values: [rec._id] }],
        },
        {
          id: "is-other",
          statements: [{ source: { origin: "trigger", attribute: "id" }, operation: "equals", values: ["someone-else"] }],
        },
      ],
      actions: [echoAction("echo", path, "is-this-one"), echoAction("gated", `${path}-never`, "is-other")],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    expect(exec.execution_status, JSON.stringify(exec)).toBe("success");
    expect(exec.actions.map((a: { execution_status: string }) => a.execution_status)).toEqual(["success", "skipped"]);
    expect(exec.actions[1].reason.payload.statements[0]).toMatchObject({ actual_value: rec._id, passed: false });
    const [body] = await bodiesAt(path);
    expect(body).toEqual({
      id: rec._id,
      _id: rec._id,
      entity_id: rec._id,
      created_at: rec._created_at,
      _created_at: rec._created_at,
      updated_at: rec._updated_at,
      schema: "deal",
      title: "Acme renewal",
      text: `deal ${rec._id} since ${rec._created_at.slice(0, 4)}`,
    });
    expect(await bodiesAt(`${path}-never`)).toEqual([]);
  });

  it("skip the run when a flow condition on record.id does not hold", async () => {
    const rec = await createRecord("deal", { name: "Other" });
    const path = `/rec-skip-${crypto.randomUUID()}`;
    const flow = await createFlow({
      flow_name: "record id gate",
      conditions: [{ field: "record.id", operator: "equals", value: "not-this-record" }],
      actions: [echoAction("echo", path)],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    expect(exec.execution_status).toBe("skipped");
    expect(exec.conditions_evaluated.passed).toBe(false);
    expect(await bodiesAt(path)).toEqual([]);
  });

  it("render when a record trigger starts the run", async () => {
    const path = `/rec-trigger-${crypto.randomUUID()}`;
    await createFlow({
      flow_name: "on ticket",
      triggers: [{ type: "record.created", configuration: { module: "ticket" } }],
      // Trigger conditions read the event's entity through the same names.
      trigger_conditions: [
        { source: "entity.id", comparison: "not_empty" },
        { source: "created_at", comparison: "not_empty" },
      ],
      conditions: [{ field: "created_at", operator: "is_not_empty" }],
      actions: [echoAction("echo", path)],
    });
    const { sent, restore } = recordEvents();
    let rec: Record<string, string>;
    try {
      const created = await call("POST", "/v1/entities/ticket", { body: { title: "Printer on fire" } });
      expect(created.status).toBe(201);
      rec = created.body;
      expect(sent).toHaveLength(1);
      const outcome = await processEvent(env, sent[0] as EntityOperationEvent);
      expect(outcome.started).toHaveLength(1);
      const exec = await drive(outcome.started[0]);
      expect(exec.execution_status, JSON.stringify(exec)).toBe("success");
    } finally {
      restore();
    }
    const [body] = await bodiesAt(path);
    expect(body).toMatchObject({
      id: rec._id,
      entity_id: rec._id,
      created_at: rec._created_at,
      _created_at: rec._created_at,
      schema: "ticket",
      title: "Printer on fire",
    });
  });

  it("never hide an attribute of the same name", async () => {
    const rec = await createRecord("contact", { name: "Jane", id: "crm-42" });
    const path = `/rec-own-id-${crypto.randomUUID()}`;
    const flow = await createFlow({
      flow_name: "own id",
      conditions: [{ field: "id", operator: "equals", value: "crm-42" }],
      actions: [echoAction("echo", path)],
    });
    const exec = await drive(await startExec(flow.id, rec._id));
    expect(exec.execution_status).toBe("success");
    const [body] = await bodiesAt(path);
    expect(body).toMatchObject({ id: "crm-42", _id: rec._id, entity_id: "crm-42", created_at: rec._created_at });
  });
});

describe("the preview endpoints see the same names", () => {
  const record = { _id: "r-1", _schema: "deal", _created_at: "2024-05-01T10:00:00.000Z", name: "Acme" };

  it("templates:render", async () => {
    const res = await call("POST", RENDER, {
      body: {
        parameters: {
          id: "{{ record.id }}",
          created: "{{ entity.created_at | date_format: 'MMM D, YYYY' }}",
          u: "{{ record._id }}",
        },
        context: { record },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.substituted_parameters).toEqual({ id: "r-1", created: "May 1, 2024", u: "r-1" });
  });

  it("conditions:test, for a Coherence condition, a statement and a TriggerCondition on the trigger's entity", async () => {
    const coherence = await call("POST", TEST, {
      body: { condition: { field: "record.id", operator: "equals", value: "r-1" }, context: { entity: record } },
    });
    expect(coherence.status).toBe(200);
    expect(coherence.body).toMatchObject({ result: true, evaluated_value: "r-1" });
    const statement = await call("POST", TEST, {
      body: {
        condition: {
          source: { attribute: "created_at", attributeType: "datetime" },
          operation: "less_than",
          values: ["2025-01-01"],
        },
        context: { entity: record },
      },
    });
    expect(statement.body).toMatchObject({ result: true, evaluated_value: record._created_at });
    const trigger = await call("POST", TEST, {
      body: {
        condition: { source: "entity.id", comparison: "equals", value: "r-1" },
        context: { trigger: { operation: "createEntity", entity: record } },
      },
    });
    expect(trigger.body).toMatchObject({ result: true, kind: "trigger_condition", evaluated_value: "r-1" });
  });
});
