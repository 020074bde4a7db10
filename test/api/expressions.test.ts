import { describe, expect, it } from "vitest";
import { apiKey, call } from "../helpers";

const TEST = "/v1/automation/conditions:test";
const RENDER = "/v1/automation/templates:render";

const context = {
  entity: { _id: "e1", _schema: "deal", name: "Big deal", value: 60000, stage: "proposal", email: [{ email: "a@x.com" }] },
  previous: { stage: "lead" },
  diff: { updated: { stage: "proposal" } },
  trigger: { type: "entity_operation", operation: "updateEntity", activity: { type: "EntityUpdated" } },
  actions: { a1: { outputs: { id: "task_1", count: 3 }, execution_status: "success" } },
  user: { id: "u1", email: "owner@example.com" },
  variables: { limit: 50000 },
  now: "2024-01-15T10:00:00Z",
};

const detailPaths = (body: { error: { details: { path: string }[] } }) => body.error.details.map((d) => d.path);

describe("POST /v1/automation/conditions:test", () => {
  it("evaluates one Coherence condition with the Arrotech response shape", async () => {
    const res = await call("POST", TEST, {
      body: { condition: { field: "value", operator: "greater_than", value: 50000 }, context },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      result: true,
      kind: "simple_condition",
      evaluated_value: 60000,
      expected_value: 50000,
      operator: "greater_than",
      statements: [{ field: "value", operator: "greater_than", value: 50000, actual_value: 60000, passed: true }],
    });
  });

  it("evaluates a list of Coherence conditions, including changed_to", async () => {
    const res = await call("POST", TEST, {
      body: {
        condition: [
          { field: "stage", operator: "changed_to", value: "proposal" },
          { field: "name", operator: "contains", value: "small" },
        ],
        context,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      result: false,
      kind: "simple_conditions",
      operator: "and",
      evaluated_value: ["proposal", "Big deal"],
      expected_value: ["proposal", "small"],
    });
    expect(res.body.statements[0]).toMatchObject({ passed: true, previous_value: "lead" });
  });

  it("evaluates an epilot ActionCondition and a single statement", async () => {
    const cond = {
      id: "c1",
      statements: [
        {
          id: "s1",
          source: { origin: "trigger", attribute: "email", attributeType: "email", attributeRepeatable: true },
          operation: "any_of",
          values: ["A@X.com"],
        },
        {
          id: "s2",
          source: { origin: "action", id: "a1", attribute: "count", attributeType: "number" },
          operation: "greater_than_or_equals",
          values: ["3"],
        },
      ],
    };
    const res = await call("POST", TEST, { body: { condition: cond, context } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, kind: "action_condition", operator: "and" });
    expect(res.body.statements.map((s: { id: string; passed: boolean }) => [s.id, s.passed])).toEqual([
      ["s1", true],
      ["s2", true],
    ]);

    const one = await call("POST", TEST, { body: { condition: cond.statements[1], context } });
    expect(one.body).toMatchObject({
      result: true,
      kind: "statement",
      evaluated_value: 3,
      expected_value: ["3"],
      operator: "greater_than_or_equals",
    });
  });

  it("evaluates trigger_conditions against context.trigger", async () => {
    const res = await call("POST", TEST, {
      body: {
        condition: { trigger_conditions: [{ source: "activity.type", comparison: "any_of", value: ["EntityUpdated", "X"] }] },
        context,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, kind: "trigger_conditions", evaluated_value: "EntityUpdated" });
  });

  it("matches a filter_config against the entity event built from the context", async () => {
    const filter = {
      operation: {
        operation: ["updateEntity"],
        payload: { _schema: ["deal"], stage: ["proposal"] },
        diff: { updated: { stage: ["lead"] } },
      },
      activity: { type: [{ prefix: "Entity" }] },
    };
    const res = await call("POST", TEST, { body: { condition: { filter_config: filter }, context } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, kind: "filter_config", operator: "filter_config" });
    expect(res.body.statements.map((s: { field: string }) => s.field)).toEqual([
      "operation.operation",
      "operation.payload._schema",
      "operation.payload.stage",
      "operation.diff.updated.stage",
      "activity.type",
    ]);
  });

  it("works without a context: every attribute is missing", async () => {
    const res = await call("POST", TEST, { body: { condition: { field: "x", operator: "is_empty" } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ result: true, evaluated_value: null });
  });

  it.each<[string, unknown, string[]]>([
    ["an unknown shape", { foo: 1 }, ["condition"]],
    ["a scalar", "equals", ["condition"]],
    ["an unknown statement operation", { statements: [{ operation: "nope" }] }, ["condition.statements.0.operation"]],
    ["an unknown Coherence operator", { field: "a", operator: "matches" }, ["condition.operator"]],
    ["a Coherence condition without field", { operator: "equals" }, ["condition.field"]],
    ["a malformed field path", { field: "a..b", operator: "is_empty" }, ["condition.field"]],
    [
      "a malformed path in a list",
      [
        { field: "ok", operator: "is_empty" },
        { field: "x[", operator: "is_empty" },
      ],
      ["condition.1.field"],
    ],
    ["an empty list", [], ["condition"]],
    ["a malformed statement attribute", { operation: "is_empty", source: { attribute: "a]" } }, ["condition.source.attribute"]],
    [
      "a bad trigger comparison",
      { trigger_conditions: [{ source: "a", comparison: "like" }] },
      ["condition.trigger_conditions.0.comparison"],
    ],
    [
      "a malformed trigger source",
      { trigger_conditions: [{ source: "a..b", comparison: "is_empty" }] },
      ["condition.trigger_conditions.0.source"],
    ],
    [
      "extra keys beside trigger_conditions",
      { trigger_conditions: [{ source: "a", comparison: "is_empty" }], x: 1 },
      ["condition"],
    ],
    [
      "a bad numeric filter",
      { filter_config: { operation: { payload: { price: [{ numeric: [">", "ten"] }] } } } },
      ["condition.filter_config.operation.payload.price.0.numeric.1"],
    ],
    ["an unknown filter key", { filter_config: { payload: {} } }, ["condition.filter_config.payload"]],
  ])("400 naming the field for %s", async (_l, condition, paths) => {
    const res = await call("POST", TEST, { body: { condition } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(detailPaths(res.body)).toEqual(paths);
  });

  it("keeps zod's issue code for schema errors inside the condition", async () => {
    const res = await call("POST", TEST, { body: { condition: { field: "a", operator: "matches" } } });
    expect(res.body.error.details[0]).toMatchObject({ path: "condition.operator", code: "invalid_value" });
  });

  it.each<[string, unknown, string]>([
    ["an unknown context key", { entity: {}, bogus: 1 }, "context"],
    ["an invalid now", { now: "yesterday" }, "context.now"],
    ["a loop without index", { loop: { item: 1 } }, "context.loop.index"],
    ["a non-object entity", { entity: "x" }, "context.entity"],
  ])("400 for %s", async (_l, ctx, path) => {
    const res = await call("POST", TEST, { body: { condition: { field: "a", operator: "is_empty" }, context: ctx } });
    expect(res.status).toBe(400);
    expect(detailPaths(res.body)).toContain(path);
  });

  it("400 without a condition and for malformed JSON; 415 for non-JSON; 413 when too large; 405 for GET", async () => {
    const missing = await call("POST", TEST, { body: { context } });
    expect(missing.status).toBe(400);
    expect(detailPaths(missing.body)).toEqual(["condition"]);
    expect((await call("POST", TEST, { rawBody: "{nope", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect(
      (await call("POST", TEST, { rawBody: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } })).status,
    ).toBe(415);
    const huge = { condition: { field: "a", operator: "equals", value: "x".repeat(1024 * 1024 + 10) } };
    expect((await call("POST", TEST, { body: huge })).status).toBe(413);
    expect((await call("GET", TEST)).status).toBe(405);
  });

  it("needs credentials with automations:read", async () => {
    const body = { condition: { field: "a", operator: "is_empty" } };
    expect((await call("POST", TEST, { body, token: null })).status).toBe(401);
    expect((await call("POST", TEST, { body, token: "ak_bogus" })).status).toBe(401);
    const trigger = await apiKey("org-a", ["automations:trigger"]);
    expect((await call("POST", TEST, { body, token: trigger })).status).toBe(403);
    const reader = await apiKey("org-b", ["automations:read"]);
    expect((await call("POST", TEST, { body, token: reader })).status).toBe(200);
  });
});

describe("POST /v1/automation/templates:render", () => {
  it("renders parameters with the Arrotech response shape, keeping types", async () => {
    const parameters = {
      title: "{{ record.name | uppercase }}",
      amount: "{{ record.value }}",
      due: "{{ now | add_days: 2 }}",
      on: "{{ now | date_format: 'MMM D, YYYY' }}",
      owner: "{{ user.email }}",
      stage: "{{ previous.stage }} → {{ record.stage }}",
      task: "{{ actions.a1.outputs.id }}",
      nested: { list: ["{{ variables.limit }}", 1, true, null] },
    };
    const res = await call("POST", RENDER, { body: { parameters, context } });
    expect(res.status).toBe(200);
    expect(res.body.original_parameters).toEqual(parameters);
    expect(res.body.substituted_parameters).toEqual({
      title: "BIG DEAL",
      amount: 60000,
      due: "2024-01-17T10:00:00.000Z",
      on: "Jan 15, 2024",
      owner: "owner@example.com",
      stage: "lead → proposal",
      task: "task_1",
      nested: { list: [50000, 1, true, null] },
    });
    expect(res.body.substitutions_made).toContainEqual({
      path: "nested.list.0",
      template: "{{ variables.limit }}",
      value: 50000,
    });
    expect(res.body.substitutions_made).toHaveLength(8);
  });

  it("accepts `record` as the entity and renders missing variables empty", async () => {
    const res = await call("POST", RENDER, {
      body: { parameters: { a: "{{ record.x }}|{{ record.nope }}" }, context: { record: { x: 1 } } },
    });
    expect(res.status).toBe(200);
    expect(res.body.substituted_parameters).toEqual({ a: "1|" });
  });

  it("uses the request time when no `now` is given", async () => {
    const before = Date.now();
    const res = await call("POST", RENDER, { body: { parameters: { t: "{{ now }}" } } });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.substituted_parameters.t)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("400 TEMPLATE_ERROR naming the field, line and column", async () => {
    const res = await call("POST", RENDER, {
      body: { parameters: { ok: "{{ record.name }}", body: { text: "Hi\n{{ record.name | nope }}" } }, context },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("TEMPLATE_ERROR");
    expect(res.body.error.message).toMatch(/^Template error at parameters.body.text \(line 2, col 1\): undefined filter: nope/);
    expect(res.body.error.details).toEqual([
      {
        path: "parameters.body.text",
        location: "json",
        code: "TEMPLATE_SYNTAX",
        message: "undefined filter: nope (line 2, col 1)",
      },
    ]);
  });

  it("strict mode reports every missing variable", async () => {
    const res = await call("POST", RENDER, {
      body: { parameters: { a: "{{ record.nope }}", b: ["{{ user.phone }}"] }, context, strict: true },
    });
    expect(res.status).toBe(400);
    expect(detailPaths(res.body)).toEqual(["parameters.a", "parameters.b.0"]);
    expect(res.body.error.details[0]).toMatchObject({
      code: "UNDEFINED_VARIABLE",
      message: "undefined variable: record.nope (line 1, col 4)",
    });
  });

  it("injection attempts render nothing", async () => {
    const res = await call("POST", RENDER, {
      body: {
        parameters: {
          a: "{{ constructor }}",
          b: "{{ record.constructor.constructor }}",
          c: "{{ this }}",
          d: "{{ record.__proto__ }}",
        },
        context,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.substituted_parameters).toEqual({ a: "", b: "", c: "", d: "" });
  });

  it("takes any key in context as a root, and resolves custom fields from context.callData.fields (seed 002)", async () => {
    const res = await call("POST", RENDER, {
      body: {
        parameters: {
          greeting: "Hi {{ callData.fields.first_name }}, about {{ transcript | truncate: 12 }}",
          phone: "phone_field",
          customFields: [{ field: "phone", customFieldEnabled: true }],
          tier: "{{ account.tier | upcase }}",
        },
        context: {
          callData: { fields: { first_name: "Ada", phone_field: "+4930123" } },
          transcript: "The caller wants a refund",
          account: { tier: "gold" },
          variables: { x: 1 },
        },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.substituted_parameters).toEqual({
      greeting: "Hi Ada, about The calle...",
      phone: "+4930123",
      tier: "GOLD",
    });
  });

  it("a custom field naming a missing callData key is a 400 naming the param", async () => {
    const res = await call("POST", RENDER, {
      body: {
        parameters: { phone: "nope", customFields: [{ field: "phone", customFieldEnabled: true }] },
        context: { callData: { fields: {} } },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("CUSTOM_FIELD_ERROR");
    expect(detailPaths(res.body)).toContain("parameters.phone");
  });

  it.each<[string, unknown, string]>([
    ["parameters not an object", { parameters: ["x"] }, "parameters"],
    ["missing parameters", { context }, "parameters"],
    ["strict not boolean", { parameters: {}, strict: "yes" }, "strict"],
    ["unknown key", { parameters: {}, params: {} }, ""],
    ["bad context", { parameters: {}, context: { now: 5 } }, "context.now"],
  ])("400 for %s", async (_l, body, path) => {
    const res = await call("POST", RENDER, { body });
    expect(res.status).toBe(400);
    expect(detailPaths(res.body)).toContain(path);
  });

  it("needs credentials with automations:read", async () => {
    const body = { parameters: { a: "{{ now }}" } };
    expect((await call("POST", RENDER, { body, token: null })).status).toBe(401);
    const writer = await apiKey("org-a", ["automations:trigger"]);
    expect((await call("POST", RENDER, { body, token: writer })).status).toBe(403);
  });
});

describe("OpenAPI", () => {
  it("documents both operations and the accepted condition shapes", async () => {
    const doc = await call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.paths[TEST].post.operationId).toBe("testCondition");
    expect(doc.body.paths[TEST].post["x-required-scope"]).toBe("automations:read");
    expect(doc.body.paths[RENDER].post.operationId).toBe("renderTemplates");
    const schemas = doc.body.components.schemas;
    expect(schemas.ConditionTestRequest.properties.condition.allOf).toEqual([
      { $ref: "#/components/schemas/ConditionTestInput" },
    ]);
    expect(schemas.ConditionTestInput.anyOf).toHaveLength(7);
    expect(schemas.ConditionTestInput.anyOf).toContainEqual({ $ref: "#/components/schemas/TriggerCondition" });
    expect(schemas.ConditionTestInput.description).toMatch(/Told apart by key/);
    expect(schemas.TemplateRenderResponse.required).toEqual([
      "original_parameters",
      "substituted_parameters",
      "substitutions_made",
    ]);
  });
});
