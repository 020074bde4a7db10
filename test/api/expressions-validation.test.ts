import { describe, expect, it } from "vitest";
import { call } from "../helpers";

/**
 * Template syntax errors are 400s that name the field (flow saves and templates:render), and conditions:test
 * takes a bare TriggerCondition as well as the wrapped list.
 */

const FLOWS = "/v1/automation/flows";
const TEST = "/v1/automation/conditions:test";
const RENDER = "/v1/automation/templates:render";

const flowWith = (text: string, name = "templated") => ({
  flow_name: name,
  triggers: [{ type: "manual" }],
  actions: [
    { id: "a0", type: "delay", config: { duration: 1 } },
    { id: "a1", type: "call_webhook", config: { url: "https://example.com/{{ record.id }}" } },
    { id: "a2", type: "call_webhook", config: { url: "https://example.com/hook", body: { text, ok: "{{ record.name }}" } } },
  ],
});

const flowCount = async (): Promise<number> => {
  const res = await call("GET", `${FLOWS}?size=1`);
  expect(res.status).toBe(200);
  expect(typeof res.body.total).toBe("number");
  return res.body.total as number;
};

const details = (body: { error: { details: { path: string; message: string }[] } }) =>
  body.error.details.map((d) => ({ path: d.path, message: d.message }));

describe("a flow with a template syntax error is not saved", () => {
  it.each([
    ["{{ record.name | }}", 'Invalid template (line 1, column 16): expected a filter name after "|"'],
    ["Hi {{ record.name | upcase | }}", 'Invalid template (line 1, column 28): expected a filter name after "|"'],
    ["{{ record.name | default: }}", 'Invalid template (line 1, column 25): expected a filter argument after ":"'],
    ["Hi {{ record.name", 'Invalid template (line 1, column 4): output "{{ record.name" not closed'],
    ["{% if record.vip %}VIP", "Invalid template (line 1, column 1): tag {% if record.vip %} not closed"],
    ["{{ record.name | shout }}", "Invalid template (line 1, column 1): undefined filter: shout"],
  ])("POST with %j is a 400 naming actions.2.config.body.text, and stores nothing", async (text, message) => {
    const before = await flowCount();
    const res = await call("POST", FLOWS, { body: flowWith(text) });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(details(res.body)).toEqual([{ path: "actions.2.config.body.text", message }]);
    expect(await flowCount()).toBe(before);
  });

  it("names every broken field at once, including error_handling.notify_url", async () => {
    const body = {
      ...flowWith("{{ x | }}"),
      error_handling: { notify_on_failure: true, notify_url: "https://example.com/{{ execution.id | }}" },
    };
    body.actions[1].config = { url: "https://example.com/{{ record.id" };
    const res = await call("POST", FLOWS, { body });
    expect(res.status).toBe(400);
    expect(details(res.body).map((d) => d.path)).toEqual([
      "actions.1.config.url",
      "actions.2.config.body.text",
      "error_handling.notify_url",
    ]);
  });

  it("PUT with a syntax error is a 400 and leaves the stored flow as it was", async () => {
    const created = await call("POST", FLOWS, { body: flowWith("Hi {{ record.name | upcase }}", "put-target") });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const res = await call("PUT", `${FLOWS}/${id}`, { body: flowWith("Hi {{ record.name | }}", "put-target renamed") });
    expect(res.status).toBe(400);
    expect(details(res.body)).toEqual([
      { path: "actions.2.config.body.text", message: 'Invalid template (line 1, column 19): expected a filter name after "|"' },
    ]);
    const stored = await call("GET", `${FLOWS}/${id}`);
    expect(stored.body).toMatchObject({ flow_name: "put-target", version: 1 });
    expect(stored.body.actions[2].config.body.text).toBe("Hi {{ record.name | upcase }}");
  });

  it("a flow whose templates parse is saved (missing variables are a run-time matter)", async () => {
    const res = await call("POST", FLOWS, { body: flowWith("{{ record.nope | default: 'x' | upcase }}") });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});

describe("templates:render names the field of a syntax error", () => {
  it.each([
    ["{{ record.name | }}", 'expected a filter name after "|" (line 1, col 16)'],
    ["{{ record.name | default: , }}", 'expected a filter argument after "," (line 1, col 27)'],
    ["x\n{% if record.vip %}", "tag {% if record.vip %} not closed (line 2, col 1)"],
    ["{{ record.name", 'output "{{ record.name" not closed (line 1, col 1)'],
  ])("%j", async (template, message) => {
    const res = await call("POST", RENDER, {
      body: { parameters: { ok: "{{ record.name }}", body: { items: ["fine", template] } }, context: { record: { name: "A" } } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("TEMPLATE_ERROR");
    expect(res.body.error.details).toEqual([
      { path: "parameters.body.items.1", location: "json", code: "TEMPLATE_SYNTAX", message },
    ]);
  });

  it("an unknown filter is an error with or without strict", async () => {
    for (const strict of [false, true]) {
      const res = await call("POST", RENDER, { body: { parameters: { a: "{{ 'x' | shout }}" }, strict } });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0]).toMatchObject({
        path: "parameters.a",
        message: "undefined filter: shout (line 1, col 1)",
      });
    }
  });
});

describe("conditions:test with epilot TriggerConditions", () => {
  const context = { trigger: { operation: "updateEntity", entity: { _id: "e1", billing_contact: { email: "a@x.com" } } } };

  it("accepts a bare TriggerCondition", async () => {
    const res = await call("POST", TEST, {
      body: { condition: { source: "billing_contact.email", comparison: "equals", value: "a@x.com" }, context },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      result: true,
      kind: "trigger_condition",
      evaluated_value: "a@x.com",
      expected_value: "a@x.com",
      operator: "equals",
      statements: [
        { field: "billing_contact.email", operator: "equals", value: "a@x.com", actual_value: "a@x.com", passed: true },
      ],
    });
    const missing = await call("POST", TEST, { body: { condition: { source: "nope", comparison: "exists" }, context } });
    expect(missing.body).toMatchObject({ result: false, kind: "trigger_condition", evaluated_value: null });
  });

  it("gives the same result for the wrapped list", async () => {
    const bare = { source: "operation", comparison: "any_of", value: ["createEntity", "updateEntity"] };
    const one = await call("POST", TEST, { body: { condition: bare, context } });
    const wrapped = await call("POST", TEST, { body: { condition: { trigger_conditions: [bare] }, context } });
    expect(wrapped.status).toBe(200);
    expect({ ...wrapped.body, kind: "trigger_condition" }).toEqual(one.body);
    expect(wrapped.body.kind).toBe("trigger_conditions");
    const two = await call("POST", TEST, {
      body: { condition: { trigger_conditions: [bare, { source: "entity._id", comparison: "equals", value: "e2" }] }, context },
    });
    expect(two.body).toMatchObject({ result: false, operator: "and", evaluated_value: ["updateEntity", "e1"] });
  });

  it.each([
    [{ source: "x", comparison: "roughly" }, ["condition.comparison"]],
    [{ comparison: "equals", value: "x" }, ["condition.source"]],
    [{ source: "a..b", comparison: "equals", value: "x" }, ["condition.source"]],
    [{ source: "x", comparison: "equals", value: { not: "allowed" } }, ["condition.value"]],
    [{ trigger_conditions: [] }, ["condition.trigger_conditions"]],
    [{ trigger_conditions: [{ source: "x", comparison: "nope" }] }, ["condition.trigger_conditions.0.comparison"]],
  ])("400 naming the field for %j", async (condition, paths) => {
    const res = await call("POST", TEST, { body: { condition, context } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(paths);
  });
});
