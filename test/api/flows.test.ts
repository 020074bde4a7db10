import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getFlow as loadFlow } from "../../src/store/flows";
import { call } from "../helpers";
import { createFlow, minimalFlow, sampleFlow } from "./flows-fixtures";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("flows: create and read", () => {
  it("creates a flow (201) with server-set fields, assigned ids and statistics", async () => {
    const res = await call("POST", "/v1/automation/flows", { body: sampleFlow() });
    expect(res.status).toBe(201);
    const flow = res.body;
    expect(flow.id).toMatch(UUID);
    expect(flow).toMatchObject({
      org_id: "org-a",
      flow_name: "Handle contact form",
      enabled: true,
      version: 1,
      created_by: "superuser",
      last_updated_by: "superuser",
      runs: 0,
      last_run_at: null,
      success_rate: null,
      consecutive_failures: 0,
      entity_schema: "submission",
    });
    expect(flow.created_at).toBe(flow.updated_at);
    expect(flow.disable_details).toBeUndefined();
    expect(flow.triggers[0].id).toMatch(UUID);
    expect(flow.actions.map((a: { id: string }) => a.id)).toEqual([expect.stringMatching(UUID), expect.stringMatching(UUID)]);
    // The document comes back as sent (plus defaults such as the webhook call's method).
    expect(flow.conditions).toEqual(sampleFlow().conditions);
    expect(flow.schedules).toEqual(sampleFlow().schedules);
    expect(flow.loops).toEqual(sampleFlow().loops);
    expect(flow.actions[1]).toMatchObject({ condition_id: "c1", schedule_id: "s1", loop_id: "loop_contracts" });
    expect(flow.actions[1].config).toMatchObject({ method: "POST", secret_configured: false });

    const got = await call("GET", `/v1/automation/flows/${flow.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(flow);
  });

  it("ignores server-set fields sent by the client", async () => {
    const flow = await createFlow({
      ...minimalFlow(),
      id: "chosen-id",
      org_id: "org-z",
      version: 42,
      runs: 9,
      created_by: "mallory",
      disable_details: { disabled_at: "2020-01-01T00:00:00Z", disabled_by: "system" },
    });
    expect(flow.id).not.toBe("chosen-id");
    expect(flow).toMatchObject({ org_id: "org-a", version: 1, runs: 0, created_by: "superuser", enabled: true });
    expect(flow.disable_details).toBeUndefined();
  });

  it("keeps client-given trigger and action ids, and stores a flow created disabled as disabled by the user", async () => {
    const flow = await createFlow({
      flow_name: "ids",
      enabled: false,
      triggers: [{ id: "trig-1", type: "manual" }],
      actions: [
        { id: "act-1", type: "delay", config: { duration: 5 } },
        { type: "delay", config: { duration: 1, unit: "minutes" } },
      ],
    });
    expect(flow.triggers[0].id).toBe("trig-1");
    expect(flow.actions[0].id).toBe("act-1");
    expect(flow.actions[1].id).toMatch(UUID);
    expect(flow.actions[0].config).toEqual({ duration: 5, unit: "seconds" });
    expect(flow.enabled).toBe(false);
    expect(flow.disable_details).toMatchObject({ disabled_by: "user", blame: "superuser" });
  });

  it("accepts every trigger family and the engine's extensions", async () => {
    const flow = await createFlow({
      flow_name: "all triggers",
      description: "every trigger type",
      triggers: [
        { type: "frontend_submission", configuration: { source_id: "99" } },
        { type: "journey_submission", configuration: { source_id: "7791b04a-16d2-44a2-9af9-2d59c25c512f" } },
        { type: "api_submission", configuration: {} },
        { type: "activity", configuration: { schema: "meter", types: ["CreateMeterReading"] } },
        { type: "entity_manual", configuration: { schema: "opportunity" } },
        { type: "received_email", configuration: { message_type: "RECEIVED" } },
        { type: "new_email_thread", configuration: { direction: "INBOUND", shared_inbox_ids: ["inbox"] } },
        { type: "flows_trigger" },
        { type: "schedule", configuration: { cron: "0 9 * * 1-5", timezone: "Europe/Berlin" } },
        { type: "schedule", configuration: { cron: "*/30 * * * * *" } },
        { type: "webhook", configuration: { path: "open-hook", allow_unsigned: true } },
        { type: "manual", configuration: { module: "contacts" } },
        { type: "record.created", configuration: { module: "contacts" } },
        { type: "record.updated", configuration: { module: "deals" } },
        { type: "record.deleted", configuration: { module: "tasks" } },
        { type: "field.changed", configuration: { module: "deals", field: "stage" } },
        { type: "event", configuration: { event_name: "deal.won" } },
      ],
      actions: [],
      retry_policy: { max_attempts: 4, backoff_seconds: [60, 300, 1800] },
      error_handling: { notify_on_failure: true, notify_url: "https://ops.example.com/alerts" },
      concurrency_limit: 5,
      max_executions: { count: 100, window: "PT1M" },
      system_flow: false,
    });
    expect(flow.triggers).toHaveLength(17);
    expect(flow.triggers[10].configuration).toEqual({
      path: "open-hook",
      allow_unsigned: true,
      provider: "standard",
      secret_configured: false,
    });
    expect(flow.error_handling).toEqual({
      notify_on_failure: true,
      notify_url: "https://ops.example.com/alerts",
      disable_after_failures: 5,
    });
    expect(flow).toMatchObject({
      concurrency_limit: 5,
      description: "every trigger type",
      max_executions: { count: 100, window: "PT1M" },
    });
  });

  it("accepts every action type of the epilot document and of the engine", async () => {
    // epilot's actions name platform resources by id (docs/platform.md): they must exist for the flow to save.
    const made = async (path: string, body: unknown) => (await call("POST", path, { body })).body.id as string;
    const hook = await made("/v1/webhook-targets", { name: "hook", url: "https://example.com/hook" });
    const tpl = await made("/v1/email-templates", { name: "tpl", en: { subject: "s", body_html: "b" } });
    const doc = await made("/v1/document-templates", { name: "doc", content: "# {{ entity.name }}" });
    const inbox = await made("/v1/inboxes", { name: "inbox 2" });
    await call("POST", "/v1/partners", { body: { partner_org_id: "p1" } });
    const actions = [
      {
        type: "map-entity",
        config: { target_schema: "contact", mapping_attributes: [{ mode: "copy_if_exists", target: "a", source: "b" }] },
      },
      {
        type: "trigger-workflow",
        config: {
          target_workflow: "wf-1",
          conditions: [{ schema: "contact", source: "email", comparison: "equals", value: "x" }],
        },
      },
      { type: "trigger-share-entity", config: { partner_org_ids: ["p1"] } },
      { type: "trigger-webhook", config: { target_webhook_id: hook, sync: true } },
      { type: "trigger-webhook", config: { url: "https://example.com/in", method: "PUT", timeout_ms: 5000 } },
      { type: "inform-erp", config: { entity_sources: ["contact"], target_webhook_id: hook } },
      { type: "trigger-event", config: { event_name: "deal.won", event_inputs: { a: 1 } } },
      { type: "create-document", config: { template_id: doc, filename: "x.pdf" } },
      { type: "send-email", config: { email_template_id: tpl, language_code: "de", wait_for_confirmation: true } },
      { type: "cart-checkout", config: { version: "2" } },
      {
        type: "custom-action",
        config: { name: "Credit check", app_id: "app", url: "https://apps.example.com/run", wait_for_callback: true },
      },
      { type: "cancel-flow-execution", config: { selected_reasons: [{ id: "r1", title: "Done" }], extra_description: "x" } },
      { type: "forward-email", config: { forward_to: [{ email: "ops@example.com" }, { email: "{{ record.owner_email }}" }] } },
      { type: "reply-email", config: { email_template_id: tpl, reply_mode: "new_email" } },
      { type: "move-thread", config: { target_inbox_id: inbox } },
      { type: "assign-thread", config: { add: ["u1"], remove: ["u2"] } },
      { type: "call_webhook", config: { url: "{{ settings.hook_url }}", method: "GET", headers: { "x-a": "1" } } },
      { type: "delay", config: { duration: 24, unit: "hours" } },
      { type: "create_record", config: { module: "tasks", data: { name: "Follow up {{ record.name }}" } } },
      {
        type: "update_record",
        config: { record: "related", module: "accounts", record_id: "{{ record.account_id }}", updates: { x: 1 } },
      },
      { type: "update_record", config: { record: "trigger", updates: { status: "processed" } } },
      {
        type: "send_email",
        config: { to: "{{ record.email }}", template: "welcome", data: { first: "{{ record.first_name }}" } },
      },
      { type: "send_notification", config: { user_id: "{{ record.owner_id }}", title: "New deal", link: "/deals/1" } },
      { type: "integration", config: { platform: "slack", action: "post_message", params: { channel: "#ops" } } },
    ];
    const flow = await createFlow({ flow_name: "all actions", triggers: [{ type: "manual" }], actions });
    expect(flow.actions.map((a: { type: string }) => a.type)).toEqual(actions.map((a) => a.type));
    expect(flow.actions[10].config.wait_for_callback).toBe(true);
    expect(flow.actions[23].config).toEqual({ platform: "slack", action: "post_message", params: { channel: "#ops" } });
  });

  it("answers 404 for an unknown flow id", async () => {
    const res = await call("GET", "/v1/automation/flows/does-not-exist");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");
  });

  it("exposes the stored flow to the engine through store.getFlow", async () => {
    // The API adds the flow's plan (computed on read); the engine reads the stored flow.
    const { plan, ...flow } = await createFlow(sampleFlow());
    expect(plan.errors).toEqual([]);
    expect(await loadFlow(env.DB, "org-a", flow.id)).toEqual(flow);
    expect(await loadFlow(env.DB, "org-b", flow.id)).toBeNull();
  });
});

describe("flows: update", () => {
  it("replaces the document, increments the version and keeps action ids", async () => {
    const flow = await createFlow(sampleFlow());
    const edited = { ...flow, flow_name: "Renamed", actions: [...flow.actions, { type: "delay", config: { duration: 1 } }] };
    const res = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: edited });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: flow.id, flow_name: "Renamed", version: 2, created_at: flow.created_at });
    expect(res.body.actions.slice(0, 2).map((a: { id: string }) => a.id)).toEqual(flow.actions.map((a: { id: string }) => a.id));
    expect(res.body.actions[2].id).toMatch(UUID);
    expect(res.body.triggers[0].id).toBe(flow.triggers[0].id);

    const again = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: res.body });
    expect(again.body.version).toBe(3);
    expect(again.body.actions.map((a: { id: string }) => a.id)).toEqual(res.body.actions.map((a: { id: string }) => a.id));
    expect(Date.parse(again.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(flow.updated_at));
  });

  it("keeps the enabled state when a PUT omits it, and records a user disable when it turns it off", async () => {
    const flow = await createFlow(minimalFlow());
    const { enabled: _e, ...withoutEnabled } = flow;
    const kept = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: withoutEnabled });
    expect(kept.body.enabled).toBe(true);
    const off = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: { ...withoutEnabled, enabled: false } });
    expect(off.body.enabled).toBe(false);
    expect(off.body.disable_details).toMatchObject({ disabled_by: "user", blame: "superuser" });
    const stillOff = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: withoutEnabled });
    expect(stillOff.body.enabled).toBe(false);
    expect(stillOff.body.disable_details).toEqual(off.body.disable_details);
    const on = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: { ...withoutEnabled, enabled: true } });
    expect(on.body.enabled).toBe(true);
    expect(on.body.disable_details).toBeUndefined();
  });

  it("answers 404 for a PUT to an unknown flow and creates nothing", async () => {
    const res = await call("PUT", "/v1/automation/flows/nope", { body: minimalFlow() });
    expect(res.status).toBe(404);
    expect((await call("GET", "/v1/automation/flows/nope")).status).toBe(404);
  });
});

describe("flows: enable, disable, delete", () => {
  it("disables with disable_details by the user and enables again", async () => {
    const flow = await createFlow(minimalFlow());
    const off = await call("POST", `/v1/automation/flows/${flow.id}/disable`);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, version: 1, disable_details: { disabled_by: "user", blame: "superuser" } });
    expect(Date.parse(off.body.disable_details.disabled_at)).not.toBeNaN();
    const rows = await env.DB.prepare("SELECT enabled FROM flow_triggers WHERE flow_id = ?")
      .bind(flow.id)
      .all<{ enabled: number }>();
    expect(rows.results.map((r) => r.enabled)).toEqual([0]);

    const on = await call("POST", `/v1/automation/flows/${flow.id}/enable`);
    expect(on.status).toBe(200);
    expect(on.body.enabled).toBe(true);
    expect(on.body.disable_details).toBeUndefined();
    const rows2 = await env.DB.prepare("SELECT enabled FROM flow_triggers WHERE flow_id = ?")
      .bind(flow.id)
      .all<{ enabled: number }>();
    expect(rows2.results.map((r) => r.enabled)).toEqual([1]);
  });

  it("enabling a flow the circuit breaker stopped clears its reason and failure count", async () => {
    const flow = await createFlow(minimalFlow());
    const details = JSON.stringify({
      disabled_at: "2026-01-01T00:00:00.000Z",
      disabled_by: "system",
      reason: "Disabled after 5 failures",
    });
    await env.DB.prepare("UPDATE flows SET enabled = 0, consecutive_failures = 5, disable_details = ? WHERE id = ?")
      .bind(details, flow.id)
      .run();
    // Disabling again keeps the system's reason.
    const off = await call("POST", `/v1/automation/flows/${flow.id}/disable`);
    expect(off.body.disable_details).toMatchObject({ disabled_by: "system", reason: "Disabled after 5 failures" });
    const on = await call("POST", `/v1/automation/flows/${flow.id}/enable`);
    expect(on.body).toMatchObject({ enabled: true, consecutive_failures: 0 });
    expect(on.body.disable_details).toBeUndefined();
  });

  it("deletes a flow with its trigger index and secrets", async () => {
    const flow = await createFlow({
      flow_name: "to delete",
      triggers: [{ type: "webhook", configuration: { path: "del-hook", secret: "whsec_0123456789abcdef" } }],
      actions: [],
    });
    const res = await call("DELETE", `/v1/automation/flows/${flow.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: flow.id, deleted: true });
    expect((await call("GET", `/v1/automation/flows/${flow.id}`)).status).toBe(404);
    for (const table of ["flow_triggers", "flow_secrets"]) {
      const n = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE flow_id = ?`).bind(flow.id).first<{ n: number }>();
      expect(n?.n).toBe(0);
    }
    expect((await call("DELETE", `/v1/automation/flows/${flow.id}`)).status).toBe(404);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/enable`)).status).toBe(404);
    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`)).status).toBe(404);
  });
});

describe("flows: OpenAPI", () => {
  it("documents every flows route with the epilot operationIds and the shared schemas", async () => {
    const res = await call("GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    const paths = res.body.paths;
    const ops = (p: string) => Object.values(paths[p] ?? {}).map((o: any) => o.operationId);
    expect(ops("/v1/automation/flows").sort()).toEqual(["createFlow", "searchFlows"]);
    expect(ops("/v1/automation/flows:batchGet")).toEqual(["batchGetFlows"]);
    expect(ops("/v1/automation/flows/{flow_id}").sort()).toEqual(["deleteFlow", "getFlow", "putFlow"]);
    expect(ops("/v1/automation/flows/{flow_id}/enable")).toEqual(["enableFlow"]);
    expect(ops("/v1/automation/flows/{flow_id}/disable")).toEqual(["disableFlow"]);
    const schemas = res.body.components.schemas;
    for (const name of [
      "AutomationFlow",
      "AutomationFlowInput",
      "FlowTrigger",
      "FlowAction",
      "ActionSchedule",
      "AutomationLoop",
    ]) {
      expect(schemas[name], name).toBeDefined();
    }
    expect(paths["/v1/automation/flows"].post.responses["201"]).toBeDefined();
    expect(paths["/v1/automation/flows"].post["x-required-scope"]).toBe("automations:write");
    expect(paths["/v1/automation/flows"].get["x-required-scope"]).toBe("automations:read");
  });
});
