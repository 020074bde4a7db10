import { createClient, type AutomationFlow } from "@epilot/automation-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestHarness, type TestHarness } from "wrangler";

/**
 * epilot's published TypeScript client (`@epilot/automation-client`, openapi-client-axios over axios with
 * its default Node transport) driven against our Worker, started once with wrangler's programmatic API
 * on a local port with a local D1. The client is used as epilot documents it; only its base URL and the
 * bearer token differ.
 */

const ADMIN_KEY = "node-test-admin-key";
let server: TestHarness;
let baseURL: string;

beforeAll(async () => {
  server = createTestHarness({
    workers: [
      {
        configPath: "./wrangler.toml",
        secrets: { ADMIN_API_KEY: ADMIN_KEY, ENCRYPTION_KEY: "node-test-encryption-passphrase" },
      },
    ],
  });
  const { url } = await server.listen();
  await server.getWorker().applyD1Migrations("DB");
  baseURL = url.toString().replace(/\/$/, "");
}, 120_000);

afterAll(async () => {
  await server?.close();
});

function client(org: string) {
  const c = createClient();
  c.defaults.baseURL = baseURL;
  c.defaults.headers.common.Authorization = `Bearer ${ADMIN_KEY}`;
  c.defaults.headers.common["x-org-id"] = org;
  return c;
}

const flowBody: AutomationFlow = {
  flow_name: "Handle contact form",
  entity_schema: "submission",
  triggers: [
    { type: "frontend_submission", configuration: { source_id: "99" } },
    { type: "entity_operation", configuration: { schema: "submission", operations: ["createEntity"] } },
  ],
  trigger_conditions: [{ source: "entity.status", comparison: "equals", value: "new" }],
  conditions: [
    {
      id: "c1",
      statements: [{ operation: "is_not_empty", source: { origin: "trigger", attribute: "email" } }],
    },
  ],
  schedules: [
    {
      id: "s1",
      numberOfUnits: 1,
      timePeriod: "days",
      timeRelation: "after",
      source: { id: "t", origin: "trigger" },
    },
  ],
  actions: [
    { name: "Map", type: "map-entity", config: { target_schema: "contact", target_unique: ["email"] } },
    // The template's id is filled in by the test, once the template exists.
    { name: "Email", type: "send-email", condition_id: "c1", schedule_id: "s1", config: { email_template_id: "" } },
  ],
};

describe("@epilot/automation-client against the Worker", () => {
  it("round-trips a flow: create → search → batchGet → get → put → delete", async () => {
    const org = `org-epilot-${crypto.randomUUID().slice(0, 8)}`;
    const api = client(org);

    // The e-mail template the flow's send-email names must exist in the organization (docs/platform.md).
    const template = await fetch(`${baseURL}/v1/email-templates`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "x-org-id": org, "content-type": "application/json" },
      body: JSON.stringify({ name: "Thanks", en: { subject: "Thanks", body_html: "<p>Thanks</p>" } }),
    });
    expect(template.status).toBe(201);
    const templateId = ((await template.json()) as { id: string }).id;
    const body: AutomationFlow = {
      ...flowBody,
      actions: flowBody.actions.map((a) => (a.type === "send-email" ? { ...a, config: { email_template_id: templateId } } : a)),
    };

    const created = await api.createFlow(null, body);
    expect(created.status).toBe(201);
    const flow = created.data;
    expect(flow.id).toBeTruthy();
    expect(flow).toMatchObject({ flow_name: "Handle contact form", org_id: org, version: 1, enabled: true });
    expect(flow.actions.every((a: { id?: string }) => typeof a.id === "string")).toBe(true);
    const id = flow.id!;

    const search = await api.searchFlows({
      schema: "submission",
      size: 10,
      from: 0,
      trigger_source_id: "99",
      include_flows: false,
    });
    expect(search.status).toBe(200);
    expect(search.data.total).toBe(1);
    expect(search.data.results[0].id).toBe(id);

    const batch = await api.batchGetFlows(null, { ids: [id, "00000000-0000-0000-0000-000000000000"] });
    expect(batch.data).toMatchObject({ total: 1, results: [{ id }] });

    const got = await api.getFlow({ flow_id: id });
    expect(got.data).toEqual(flow);

    const put = await api.putFlow({ flow_id: id }, { ...got.data, flow_name: "Handle contact form v2" });
    expect(put.status).toBe(200);
    expect(put.data).toMatchObject({ id, flow_name: "Handle contact form v2", version: 2 });
    expect(put.data.actions.map((a: { id?: string }) => a.id)).toEqual(flow.actions.map((a: { id?: string }) => a.id));

    const deleted = await api.deleteFlow({ flow_id: id });
    expect(deleted.status).toBe(200);
    await expect(api.getFlow({ flow_id: id })).rejects.toMatchObject({ response: { status: 404 } });
    expect((await api.searchFlows({})).data.total).toBe(0);
  });

  it("surfaces validation and auth errors as HTTP errors with the JSON error body", async () => {
    const api = client(`org-epilot-${crypto.randomUUID().slice(0, 8)}`);
    await expect(api.createFlow(null, { ...flowBody, triggers: [] })).rejects.toMatchObject({
      response: { status: 400, data: { error: { code: "VALIDATION_ERROR" } } },
    });
    const anonymous = createClient();
    anonymous.defaults.baseURL = baseURL;
    await expect(anonymous.searchFlows()).rejects.toMatchObject({ response: { status: 401 } });
  });
});
