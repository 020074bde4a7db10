import { describe, expect, it } from "vitest";
import { apiKey, call } from "../../helpers";
import { SINK } from "../../support/engine";
import { CONFIGS, connect } from "../../integrations/support";
import { WF, createWorkflow, newOrg, wf } from "./support";

/** Arrotech workflows (seed 002) as a dialect over flows: CRUD, translation, errors, isolation and scopes. */

const hook = (path: string, body: Record<string, unknown> = {}) => ({
  tool: "call_webhook",
  params: { url: `${SINK}/${path}`, body },
});

describe("create, get, list", () => {
  it("creates a workflow that is the flow the native API shows, and reads it back in the workflow shape", async () => {
    const org = newOrg();
    const conn = await connect("slack", CONFIGS.slack, org);
    const created = await createWorkflow(org, {
      name: "Announce",
      description: "Posts to Slack",
      variables: { channel: "#general", count: 3 },
      workflow_metadata: { color: "blue" },
      steps: [
        { id: "post", name: "Post", tool: "slack_post_message", connection_id: conn.id, params: { text: "{{ variables.msg }}" } },
        { tool: "call_webhook", params: { url: `${SINK}/arro-create` }, continue_on_error: true },
      ],
    });
    expect(created).toMatchObject({
      name: "Announce",
      description: "Posts to Slack",
      status: "active",
      trigger_type: "manual",
      trigger_config: {},
      variables: { channel: "#general", count: 3 },
      workflow_metadata: { color: "blue" },
      version: 1,
      is_template: false,
      run_count: 0,
      last_run_at: null,
      steps: [
        { id: "post", name: "Post", tool: "slack_post_message", connection_id: conn.id, params: { text: "{{ variables.msg }}" } },
        { tool: "call_webhook", continue_on_error: true, params: { url: `${SINK}/arro-create` } },
      ],
    });
    expect(created.x_native).toBeUndefined();
    // The workflow id is the flow id; the steps are the flow's actions.
    const flow = await call("GET", `/v1/automation/flows/${created.id}`, { org });
    expect(flow.status).toBe(200);
    expect(flow.body.enabled).toBe(true);
    expect(flow.body.actions[0]).toMatchObject({
      id: "post",
      type: "integration",
      config: { platform: "slack", action: "post_message", connection_id: conn.id },
    });
    expect(flow.body.actions[1]).toMatchObject({ type: "call_webhook", allow_failure: true });
    // Variables are the manual trigger's declarations (what the MCP server reads).
    expect(flow.body.triggers[0]).toMatchObject({
      type: "manual",
      configuration: { variables: { channel: { type: "string", default: "#general" }, count: { type: "number", default: 3 } } },
    });
    const got = await wf(org).get(`/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);
  });

  it("a schedule trigger becomes the flow's schedule trigger; create_record takes the catalog's `schema`", async () => {
    const org = newOrg();
    const created = await createWorkflow(org, {
      name: "Nightly",
      trigger_type: "schedule",
      trigger_config: { cron: "0 2 * * *", timezone: "Europe/Berlin" },
      steps: [{ tool: "create_record", params: { schema: "task", data: { title: "check" } } }],
    });
    expect(created).toMatchObject({ trigger_type: "schedule", trigger_config: { cron: "0 2 * * *", timezone: "Europe/Berlin" } });
    expect(created.steps[0]).toMatchObject({ tool: "create_record", params: { module: "task", data: { title: "check" } } });
    const flow = await call("GET", `/v1/automation/flows/${created.id}`, { org });
    expect(flow.body.triggers.map((t: any) => t.type)).toEqual(["manual", "schedule"]);
  });

  it("lists with paging and the status, trigger_type and search filters", async () => {
    const org = newOrg();
    const a = await createWorkflow(org, { name: "Alpha report", steps: [hook("arro-l1")] });
    const b = await createWorkflow(org, { name: "Beta", description: "weekly report", status: "paused", steps: [] });
    const c = await createWorkflow(org, {
      name: "Gamma",
      status: "draft",
      trigger_type: "event",
      trigger_config: { event_name: "go" },
      steps: [],
    });
    const ids = async (q: string) => ((await wf(org).get(q)).body.results as any[]).map((w) => w.id);
    const all = await wf(org).get("");
    expect(all.body).toMatchObject({ total: 3, limit: 25, offset: 0 });
    expect(await ids("")).toEqual([c.id, b.id, a.id]);
    expect(await ids("?status=active")).toEqual([a.id]);
    expect(await ids("?status=paused")).toEqual([b.id]);
    expect(await ids("?status=draft")).toEqual([c.id]);
    expect(await ids("?trigger_type=event")).toEqual([c.id]);
    expect(await ids("?trigger_type=manual")).toEqual([b.id, a.id]);
    expect(await ids("?search=report")).toEqual([b.id, a.id]);
    expect(await ids("?search=alpha%20report")).toEqual([a.id]);
    expect(await ids("?search=100%25")).toEqual([]);
    const page = await wf(org).get("?limit=1&offset=1");
    expect(page.body).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.body.results.map((w: any) => w.id)).toEqual([b.id]);
    for (const q of ["?limit=0", "?limit=101", "?offset=-1", "?status=running", "?trigger_type=nope"]) {
      expect((await wf(org).get(q)).status, q).toBe(400);
    }
  });

  it("create-from-steps saves a draft by default, with workflow_name", async () => {
    const org = newOrg();
    const res = await wf(org).post("/from-steps", {
      workflow_name: "Extracted",
      description: "from a conversation",
      steps: [hook("arro-fs", { a: 1 })],
      variables: { who: "Ada" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: "Extracted", status: "draft", variables: { who: "Ada" }, trigger_type: "manual" });
    const flow = await call("GET", `/v1/automation/flows/${res.body.id}`, { org });
    expect(flow.body.enabled).toBe(false);
    const active = await wf(org).post("/from-steps", {
      workflow_name: "Now",
      description: "x",
      steps: [hook("arro-fs2")],
      status: "active",
    });
    expect(active.body.status).toBe("active");
    // Bad input: no steps, missing description, unknown tool.
    expect((await wf(org).post("/from-steps", { workflow_name: "x", description: "y", steps: [] })).status).toBe(400);
    expect((await wf(org).post("/from-steps", { workflow_name: "x", steps: [hook("a")] })).status).toBe(400);
    const bad = await wf(org).post("/from-steps", { workflow_name: "x", description: "y", steps: [{ tool: "nope_tool" }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("steps.0.tool");
    expect((await wf(org).get("")).body.total).toBe(2);
  });
});

describe("bad input changes nothing", () => {
  it("names the workflow's fields in 400s", async () => {
    const org = newOrg();
    const cases: [unknown, string][] = [
      [{ steps: [] }, "name"],
      [{ name: "x" }, "steps"],
      [{ name: "x", steps: [], status: "running" }, "status"],
      [{ name: "x", steps: [], trigger_type: "sometimes" }, "trigger_type"],
      [{ name: "x", steps: [{ tool: "slack_fly" }] }, "steps.0.tool"],
      [{ name: "x", steps: [{ tool: "call_webhook", params: { url: "not a url" } }] }, "steps.0.params.url"],
      [
        { name: "x", steps: [{ tool: "call_webhook", params: { url: `${SINK}/x` }, connection_id: "c1" }] },
        "steps.0.connection_id",
      ],
      [{ name: "x", steps: [{ tool: "slack_post_message", params: { text: "{{ oops" } }] }, "steps.0.params.text"],
      [{ name: "x", steps: [], trigger_type: "schedule", trigger_config: { cron: "every day" } }, "trigger_config.cron"],
      [{ name: "x", steps: [], variables: { "bad name": 1 } }, "variables.bad name"],
      [{ name: "x", steps: [], extra: true }, ""],
    ];
    for (const [body, path] of cases) {
      const res = await wf(org).post("", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
      expect(
        res.body.error.details.map((d: any) => d.path),
        JSON.stringify(res.body),
      ).toContain(path);
    }
    const malformed = await call("POST", WF, { org, rawBody: "{nope", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect((await wf(org).get("")).body.total).toBe(0);
  });

  it("bad updates are 400 and leave the workflow as it was", async () => {
    const org = newOrg();
    const w = await createWorkflow(org, { name: "keep", steps: [hook("arro-keep")] });
    for (const body of [{}, { status: "done" }, { steps: [{ tool: "nope" }] }, { name: "" }, { trigger_type: "schedule" }]) {
      expect((await wf(org).put(`/${w.id}`, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await wf(org).get(`/${w.id}`)).body).toEqual(w);
  });
});

describe("update and delete", () => {
  it("updates fields, keeps the others and the step ids; status moves between active, paused and draft", async () => {
    const org = newOrg();
    const w = await createWorkflow(org, { name: "v1", variables: { a: 1 }, steps: [{ id: "s1", ...hook("arro-u") }] });
    const renamed = await wf(org).put(`/${w.id}`, { name: "v2", workflow_metadata: { tag: "x" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "v2", version: 2, variables: { a: 1 }, workflow_metadata: { tag: "x" } });
    expect(renamed.body.steps).toEqual(w.steps);
    const draft = await wf(org).put(`/${w.id}`, { status: "draft" });
    expect(draft.body.status).toBe("draft");
    expect((await call("GET", `/v1/automation/flows/${w.id}`, { org })).body.enabled).toBe(false);
    const paused = await wf(org).put(`/${w.id}`, { status: "paused" });
    expect(paused.body.status).toBe("paused");
    const scheduled = await wf(org).put(`/${w.id}`, {
      status: "active",
      trigger_type: "schedule",
      trigger_config: { cron: "*/5 * * * *" },
    });
    expect(scheduled.body).toMatchObject({ status: "active", trigger_type: "schedule", workflow_metadata: { tag: "x" } });
    const flow = await call("GET", `/v1/automation/flows/${w.id}`, { org });
    expect(flow.body.triggers.map((t: any) => t.type)).toEqual(["manual", "schedule"]);
    expect(flow.body.enabled).toBe(true);
  });

  it("deletes; the flow is gone", async () => {
    const org = newOrg();
    const w = await createWorkflow(org, { name: "gone", steps: [] });
    const res = await wf(org).del(`/${w.id}`);
    expect(res).toMatchObject({ status: 200, body: { id: w.id, deleted: true } });
    expect((await wf(org).get(`/${w.id}`)).status).toBe(404);
    expect((await call("GET", `/v1/automation/flows/${w.id}`, { org })).status).toBe(404);
    expect((await wf(org).del(`/${w.id}`)).status).toBe(404);
  });
});

describe("flows made natively", () => {
  it("a flow in the workflow's vocabulary reads as a plain workflow and can be edited", async () => {
    const org = newOrg();
    const flow = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: "native",
        triggers: [{ id: "hook", type: "webhook", configuration: { path: "in", allow_unsigned: true } }],
        actions: [
          { id: "a1", type: "integration", config: { platform: "slack", action: "post_message", params: { text: "hi" } } },
        ],
      },
    });
    expect(flow.status).toBe(201);
    const got = await wf(org).get(`/${flow.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: flow.body.id,
      name: "native",
      status: "active",
      trigger_type: "webhook",
      trigger_config: { path: "in", allow_unsigned: true },
      steps: [{ id: "a1", tool: "slack_post_message", params: { text: "hi" } }],
    });
    expect(got.body.x_native).toBeUndefined();
    const edited = await wf(org).put(`/${flow.body.id}`, { name: "edited" });
    expect(edited.status).toBe(200);
    const after = await call("GET", `/v1/automation/flows/${flow.body.id}`, { org });
    expect(after.body.triggers.find((t: any) => t.type === "webhook")).toMatchObject({
      id: "hook",
      configuration: { path: "in" },
    });
    expect(after.body.actions[0].id).toBe("a1");
  });

  it("a flow with parts the shape cannot hold carries x_native and x_untranslated; only status can be set", async () => {
    const org = newOrg();
    const flow = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: "rich",
        triggers: [
          { type: "record.created", configuration: { module: "deals" } },
          { type: "record.updated", configuration: { module: "deals" } },
        ],
        conditions: [{ id: "c1", field: "amount", operator: "greater_than", value: 10 }],
        actions: [
          {
            id: "a1",
            type: "call_webhook",
            condition_id: "c1",
            retry_policy: { max_attempts: 2 },
            config: { url: `${SINK}/arro-rich` },
          },
        ],
      },
    });
    expect(flow.status).toBe(201);
    const got = await wf(org).get(`/${flow.body.id}`);
    expect(got.body).toMatchObject({ trigger_type: "record.created", trigger_config: { module: "deals" } });
    expect(got.body.x_native).toMatchObject({ id: flow.body.id, conditions: [{ id: "c1" }] });
    expect(got.body.x_untranslated).toEqual(
      expect.arrayContaining([
        "conditions",
        "triggers (2 triggers; trigger_type shows the first)",
        "actions.0.condition_id",
        "actions.0.retry_policy",
      ]),
    );
    const refused = await wf(org).put(`/${flow.body.id}`, { name: "x" });
    expect([refused.status, refused.body.error.code]).toEqual([409, "NOT_EXPRESSIBLE"]);
    expect((await wf(org).put(`/${flow.body.id}`, { status: "draft" })).status).toBe(409);
    const paused = await wf(org).put(`/${flow.body.id}`, { status: "paused" });
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe("paused");
    const native = await call("GET", `/v1/automation/flows/${flow.body.id}`, { org });
    expect(native.body).toMatchObject({ enabled: false, conditions: [{ id: "c1" }], flow_name: "rich" });
  });
});

describe("isolation and scopes", () => {
  it("another organization's workflow is 404 for every operation", async () => {
    const owner = newOrg();
    const w = await createWorkflow(owner, { name: "mine", steps: [] });
    const other = wf(newOrg());
    expect((await other.get(`/${w.id}`)).status).toBe(404);
    expect((await other.put(`/${w.id}`, { name: "x" })).status).toBe(404);
    expect((await other.del(`/${w.id}`)).status).toBe(404);
    expect((await other.post(`/${w.id}/execute`, { input_data: {} })).status).toBe(404);
    expect((await other.get(`/${w.id}/executions`)).status).toBe(404);
    expect((await other.get("")).body.total).toBe(0);
    expect((await wf(owner).get(`/${w.id}`)).body.name).toBe("mine");
  });

  it("read for GETs, write for changes, trigger for execute; no credentials is 401", async () => {
    const org = newOrg();
    const w = await createWorkflow(org, { name: "s", steps: [] });
    const reader = await apiKey(org, ["automations:read"]);
    const writer = await apiKey(org, ["automations:write"]);
    const trigger = await apiKey(org, ["automations:trigger"]);
    const as = (token: string | null, method: string, path: string, body?: unknown) =>
      call(method, `${WF}${path}`, { token, body });
    expect((await as(reader, "GET", "")).status).toBe(200);
    expect((await as(reader, "GET", `/${w.id}`)).status).toBe(200);
    expect((await as(reader, "GET", "/executions")).status).toBe(200);
    expect((await as(reader, "GET", `/${w.id}/executions`)).status).toBe(200);
    expect((await as(writer, "GET", "")).status).toBe(403);
    expect((await as(reader, "POST", "", { name: "x", steps: [] })).status).toBe(403);
    expect((await as(reader, "POST", "/from-steps", { workflow_name: "x", description: "y", steps: [] })).status).toBe(403);
    expect((await as(reader, "PUT", `/${w.id}`, { name: "x" })).status).toBe(403);
    expect((await as(reader, "DELETE", `/${w.id}`)).status).toBe(403);
    expect((await as(writer, "POST", `/${w.id}/execute`, {})).status).toBe(403);
    expect((await as(writer, "POST", "", { name: "x", steps: [] })).status).toBe(201);
    expect((await as(writer, "PUT", `/${w.id}`, { name: "y" })).status).toBe(200);
    expect((await as(trigger, "POST", `/${w.id}/execute`, {})).status).toBe(200);
    expect((await as(null, "GET", "")).status).toBe(401);
    expect((await as(writer, "DELETE", `/${w.id}`)).status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("lists every workflow operation under the arrotech tag", async () => {
    const doc = (await call("GET", "/openapi.json", { token: null })).body;
    const ops: [string, string][] = [
      ["/v1/workflows", "get"],
      ["/v1/workflows", "post"],
      ["/v1/workflows/from-steps", "post"],
      ["/v1/workflows/executions", "get"],
      ["/v1/workflows/{workflow_id}", "get"],
      ["/v1/workflows/{workflow_id}", "put"],
      ["/v1/workflows/{workflow_id}", "delete"],
      ["/v1/workflows/{workflow_id}/execute", "post"],
      ["/v1/workflows/{workflow_id}/executions", "get"],
    ];
    for (const [path, method] of ops) {
      expect(doc.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(["arrotech"]);
    }
  });
});
