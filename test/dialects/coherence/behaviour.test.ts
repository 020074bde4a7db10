import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { processEvent } from "../../../src/queues/events";
import { apiKey, call } from "../../helpers";
import { SINK, sinkRequests, sinkReset } from "../../support/engine";
import { CONFIGS, connect, driveIn } from "../../integrations/support";
import { captureEvents } from "../../webhooks/support";

/** Coherence (seed 004): logs, dry-run test, manual trigger, webhook URL, circuit breaker, bad input, tenancy, scopes. */

const sent = captureEvents();
beforeEach(sinkReset);

const B = "/v1/automations";
let n = 0;
const newOrg = () => `coh-${++n}-${crypto.randomUUID().slice(0, 6)}`;

async function create(org: string, body: Record<string, unknown>) {
  const res = await call("POST", B, { org, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data;
}

const hookAction = (path: string, extra: Record<string, unknown> = {}) => ({
  type: "call_webhook",
  config: {
    url: `${SINK}/${path}`,
    method: "POST",
    body: { text: "New lead: {{record.name}} from {{record.source}}" },
    ...extra,
  },
});

describe("Coherence runs", () => {
  it("round trip: create, trigger with record_id, the run appears in the logs in the documented shape", async () => {
    const org = newOrg();
    const rec = (await call("POST", "/v1/entities/leads", { org, body: { name: "Ada", source: "website" } })).body;
    const a = await create(org, {
      name: "Notify on new lead",
      trigger: { type: "manual", module: "leads" },
      conditions: [{ field: "source", operator: "equals", value: "website" }],
      actions: [hookAction("coh-rt")],
      enabled: true,
    });
    const res = await call("POST", `${B}/${a.id}/trigger`, { org, body: { record_id: rec._id } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({
      automation_id: a.id,
      status: "success",
      trigger_data: { record_id: rec._id, event: "manual" },
      actions_executed: [{ type: "call_webhook", status: "success" }],
    });
    expect((await sinkRequests("/coh-rt"))[0].body).toContain("New lead: Ada from website");
    const logs = await call("GET", `${B}/${a.id}/logs`, { org });
    expect(logs.status).toBe(200);
    expect(logs.body.meta).toEqual({ total: 1, page: 1, per_page: 25 });
    const [log] = logs.body.data;
    expect(Object.keys(log).sort()).toEqual(
      ["actions_executed", "automation_id", "completed_at", "duration_ms", "id", "started_at", "status", "trigger_data"].sort(),
    );
    expect(log.id).toBe(res.body.data.run_id);
    expect(log.duration_ms).toBeGreaterThanOrEqual(0);
    expect(log.actions_executed[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect((await call("GET", `${B}/${a.id}`, { org })).body.data.run_count).toBe(1);
  });

  it("logs filter by status and since, limit at most 100; failures carry the document's error codes", async () => {
    const org = newOrg();
    const a = await create(org, {
      name: "fails",
      trigger: { type: "manual" },
      actions: [hookAction("status/404")],
      enabled: true,
    });
    const ok = await create(org, { name: "ok", trigger: { type: "manual" }, actions: [hookAction("fine")], enabled: true });
    const failed = await call("POST", `${B}/${a.id}/trigger`, { org, body: {} });
    expect(failed.body.data.status).toBe("failed");
    expect(failed.body.data.actions_executed[0]).toMatchObject({
      type: "call_webhook",
      status: "failed",
      error: expect.any(String),
      error_code: "webhook_connection_failed",
    });
    await call("POST", `${B}/${ok.id}/trigger`, { org, body: {} });
    expect((await call("GET", `${B}/${a.id}/logs?status=failed`, { org })).body.data).toHaveLength(1);
    expect((await call("GET", `${B}/${a.id}/logs?status=success`, { org })).body.data).toHaveLength(0);
    expect((await call("GET", `${B}/${a.id}/logs?since=2024-01-15T00:00:00Z&limit=50`, { org })).body.data).toHaveLength(1);
    expect((await call("GET", `${B}/${a.id}/logs?since=2999-01-01T00:00:00Z`, { org })).body.data).toHaveLength(0);
    expect((await call("GET", `${B}/${a.id}/logs?limit=101`, { org })).status).toBe(400);
    expect((await call("GET", `${B}/${a.id}/logs?status=bogus`, { org })).status).toBe(400);
    expect((await call("GET", `${B}/${a.id}/logs?since=yesterday`, { org })).status).toBe(400);
  });

  it("the circuit breaker disables after consecutive failures: trigger answers automation_disabled with last_error", async () => {
    const org = newOrg();
    const a = await create(org, {
      name: "breaker",
      trigger: { type: "manual" },
      actions: [hookAction("status/404")],
      enabled: true,
      error_handling: { disable_after_failures: 1 },
    });
    expect((await call("POST", `${B}/${a.id}/trigger`, { org, body: {} })).body.data.status).toBe("failed");
    const view = (await call("GET", `${B}/${a.id}`, { org })).body.data;
    expect(view).toMatchObject({ enabled: false, error: { code: "automation_disabled", message: expect.any(String) } });
    const again = await call("POST", `${B}/${a.id}/trigger`, { org, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "automation_disabled", message: expect.any(String) });
    expect(again.body.error).toHaveProperty("last_error");
    // "Re-enable after fixing the issue"
    expect((await call("POST", `${B}/${a.id}/enable`, { org })).body.data.enabled).toBe(true);
    expect((await call("GET", `${B}/${a.id}`, { org })).body.data.error).toBeUndefined();
  });

  it("error_handling.notify_email: a failed run e-mails the report through the org's e-mail connection", async () => {
    const org = newOrg();
    await connect("resend", CONFIGS.resend, org);
    const a = await create(org, {
      name: "Notify ops",
      trigger: { type: "manual" },
      actions: [hookAction("status/404")],
      enabled: true,
      error_handling: { notify_on_failure: true, notify_email: "ops@example.com", disable_after_failures: 5 },
    });
    const native = (await call("GET", `/v1/automation/flows/${a.id}`, { org })).body;
    expect(native.error_handling).toMatchObject({ notify_email: "ops@example.com" });
    expect((await call("POST", `${B}/${a.id}/trigger`, { org, body: {} })).body.data.status).toBe("failed");
    const mails = await sinkRequests("/resend/");
    expect(mails).toHaveLength(1);
    const mail = JSON.parse(mails[0].body);
    expect(mail).toMatchObject({ to: "ops@example.com", subject: "Automation failed: Notify ops" });
    expect(mail.text).toContain(a.id);
    // PATCH error_handling: null removes it.
    const cleared = await call("PATCH", `${B}/${a.id}`, { org, body: { error_handling: null } });
    expect(cleared.body.data.error_handling).toBeUndefined();
    // A run that succeeds sends nothing.
    const ok = await create(org, {
      name: "fine",
      trigger: { type: "manual" },
      actions: [hookAction("fine")],
      enabled: true,
      error_handling: { notify_on_failure: true, notify_email: "ops@example.com" },
    });
    await call("POST", `${B}/${ok.id}/trigger`, { org, body: {} });
    expect(await sinkRequests("/resend/")).toHaveLength(1);
  });

  it("dry run: would_execute, conditions_evaluated with actual_value and passed, actions_preview with rendered config", async () => {
    const org = newOrg();
    const rec = (await call("POST", "/v1/entities/contacts", { org, body: { status: "qualified", email: "ada@example.com" } }))
      .body;
    const a = await create(org, {
      name: "dry",
      trigger: { type: "record.created", module: "contacts" },
      conditions: [{ field: "status", operator: "equals", value: "qualified" }],
      actions: [
        { type: "call_webhook", config: { url: `${SINK}/dry`, method: "POST", body: { to: "{{record.email}}" } } },
        { type: "update_record", config: { record: "trigger", updates: { status: "processed" } } },
      ],
    });
    const res = await call("POST", `${B}/${a.id}/test`, { org, body: { record_id: rec._id } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({
      would_execute: true,
      conditions_passed: true,
      conditions_evaluated: [
        { field: "status", operator: "equals", value: "qualified", actual_value: "qualified", passed: true },
      ],
    });
    expect(res.body.data.actions_preview).toHaveLength(2);
    expect(res.body.data.actions_preview[0]).toMatchObject({ type: "call_webhook", config: { body: { to: "ada@example.com" } } });
    expect(res.body.data.actions_preview[1].type).toBe("update_record");
    expect(await sinkRequests("/dry")).toHaveLength(0);
    const no = await call("POST", `${B}/${a.id}/test`, { org, body: { test_data: { status: "new" } } });
    expect(no.body.data).toMatchObject({ would_execute: false, conditions_passed: false });
    const missing = await call("POST", `${B}/${a.id}/test`, { org, body: { record_id: "rec_xyz789" } });
    expect([missing.status, missing.body.error.code]).toEqual([404, "record_not_found"]);
  });

  it("the document's trigger example: an unknown record_id is record_not_found; a disabled automation is automation_disabled", async () => {
    const org = newOrg();
    const a = await create(org, { name: "m", trigger: { type: "manual", module: "contacts" }, actions: [], enabled: true });
    const res = await call("POST", `${B}/${a.id}/trigger`, { org, body: { record_id: "rec_xyz789" } });
    expect([res.status, res.body.error.code]).toEqual([404, "record_not_found"]);
    const off = await create(org, { name: "off", trigger: { type: "manual" }, actions: [] });
    const disabled = await call("POST", `${B}/${off.id}/trigger`, { org, body: {} });
    expect(disabled.status).toBe(409);
    expect(disabled.body.error).toEqual({
      code: "automation_disabled",
      message: "Automation is disabled",
      last_error: null,
      details: [],
    });
  });
});

describe("Coherence webhook URL", () => {
  it("the URL with its token (shown at creation) starts a run; without the token or with another token it is 404", async () => {
    const org = newOrg();
    const created = await call("POST", B, {
      org,
      body: {
        name: "hook",
        trigger: { type: "webhook", webhook_path: "my-custom-webhook" },
        actions: [hookAction("coh-hook")],
        enabled: true,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const url: string = created.body.data.webhook_url;
    const id = created.body.data.id;
    expect(url).toMatch(new RegExp(`/v1/webhooks/${id}/my-custom-webhook\\.[A-Za-z0-9_-]{43}$`));
    const path = new URL(url).pathname;
    // Shown once: later answers carry the webhook_path only.
    const later = (await call("GET", `${B}/${id}`, { org })).body.data;
    expect(later.trigger).toEqual({ type: "webhook", webhook_path: "my-custom-webhook" });
    expect(later.webhook_url).toBeUndefined();
    const guess = await call("POST", `/v1/webhooks/${id}/my-custom-webhook`, { token: null, body: { name: "x" } });
    expect(guess.status).toBe(404);
    const wrong = await call("POST", `${path.slice(0, -3)}abc`, { token: null, body: { name: "x" } });
    expect(wrong.status).toBe(404);
    const hit = await call("POST", path, { token: null, body: { name: "Grace" } });
    expect(hit.status).toBe(202);
    expect(sent).toHaveLength(1);
    const { started } = await processEvent(env, sent[0]);
    expect(started).toHaveLength(1);
    expect((await driveIn(started[0], org)).execution_status).toBe("success");
    expect(await sinkRequests("/coh-hook")).toHaveLength(1);
    // A PATCH that keeps the webhook keeps its token (the URL stays valid).
    const renamed = await call("PATCH", `${B}/${id}`, { org, body: { name: "hook 2", enabled: true } });
    expect(renamed.body.data.webhook_url).toBeUndefined();
    expect((await call("POST", path, { token: null, body: {} })).status).toBe(202);
  });
});

describe("Coherence bad input, tenancy and scopes", () => {
  it("required fields, per-type trigger fields, wrong types and malformed JSON are 400 naming the field", async () => {
    const org = newOrg();
    const paths = async (body: unknown) => (await call("POST", B, { org, body })).body.error.details.map((d: any) => d.path);
    expect(await paths({ trigger: { type: "manual" }, actions: [] })).toContain("name");
    expect(await paths({ name: "x", actions: [] })).toContain("trigger");
    expect(await paths({ name: "x", trigger: { type: "manual" } })).toContain("actions");
    expect(await paths({ name: "x", trigger: { type: "record.created" }, actions: [] })).toContain("trigger.module");
    expect(await paths({ name: "x", trigger: { type: "field.changed", module: "deals" }, actions: [] })).toContain(
      "trigger.field",
    );
    expect(await paths({ name: "x", trigger: { type: "schedule" }, actions: [] })).toContain("trigger.schedule");
    expect(await paths({ name: "x", trigger: { type: "webhook" }, actions: [] })).toContain("trigger.webhook_path");
    expect(await paths({ name: "x", trigger: { type: "schedule", schedule: "every day" }, actions: [] })).toContain(
      "trigger.schedule",
    );
    expect(await paths({ name: "x", trigger: { type: "teleport" }, actions: [] })).toContain("trigger.type");
    expect(
      await paths({ name: "x", trigger: { type: "record.created", module: "a", schedule: "0 9 * * *" }, actions: [] }),
    ).toContain("trigger.schedule");
    expect(
      await paths({ name: "x", trigger: { type: "manual" }, actions: [], conditions: [{ field: "a", operator: "near" }] }),
    ).toContain("conditions.0.operator");
    expect(
      await paths({
        name: "x",
        trigger: { type: "manual" },
        actions: [{ type: "delay", config: { duration: 9, unit: "weeks" } }],
      }),
    ).toContain("actions.0.config.unit");
    expect((await call("POST", B, { org, body: { name: 1, trigger: { type: "manual" }, actions: [] } })).status).toBe(400);
    const bad = await call("POST", B, { org, rawBody: "{", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect((await call("GET", `${B}?per_page=500`, { org })).status).toBe(400);
    expect((await call("GET", `${B}?trigger_type=cron`, { org })).status).toBe(400);
  });

  it("unknown ids and another organization's ids are 404 on every endpoint", async () => {
    const owner = newOrg();
    const a = await create(owner, { name: "mine", trigger: { type: "manual" }, actions: [], enabled: true });
    const other = newOrg();
    for (const id of [a.id, "auto_abc123"]) {
      for (const [method, path, body] of [
        ["GET", `${B}/${id}`],
        ["PATCH", `${B}/${id}`, { name: "x" }],
        ["DELETE", `${B}/${id}`],
        ["POST", `${B}/${id}/enable`],
        ["POST", `${B}/${id}/disable`],
        ["GET", `${B}/${id}/logs`],
        ["POST", `${B}/${id}/test`, {}],
        ["POST", `${B}/${id}/trigger`, {}],
      ] as [string, string, unknown?][]) {
        expect((await call(method, path, { org: other, body })).status, `${method} ${path}`).toBe(404);
      }
    }
    expect((await call("GET", `${B}/${a.id}`, { org: owner })).body.data.enabled).toBe(true);
    expect((await call("GET", B, { org: other })).body.meta.total).toBe(0);
  });

  it("scopes: automations:read lists and reads, automations:write writes, automations:trigger tests and triggers", async () => {
    const org = newOrg();
    const a = await create(org, { name: "s", trigger: { type: "manual" }, actions: [], enabled: true });
    const reader = await apiKey(org, ["automations:read"]);
    const writer = await apiKey(org, ["automations:write"]);
    const trigger = await apiKey(org, ["automations:trigger"]);
    expect((await call("GET", `${B}/${a.id}/logs`, { token: reader })).status).toBe(200);
    expect((await call("POST", B, { token: reader, body: { name: "x", trigger: { type: "manual" }, actions: [] } })).status).toBe(
      403,
    );
    expect((await call("PATCH", `${B}/${a.id}`, { token: writer, body: { name: "y" } })).status).toBe(200);
    expect((await call("POST", `${B}/${a.id}/test`, { token: writer, body: {} })).status).toBe(403);
    expect((await call("POST", `${B}/${a.id}/test`, { token: trigger, body: {} })).status).toBe(200);
    expect((await call("GET", B, { token: null })).status).toBe(401);
  });

  it("a native flow Coherence cannot express is shown with x_native; writes are 409 NOT_EXPRESSIBLE", async () => {
    const org = newOrg();
    const flow = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: "two triggers",
        triggers: [{ type: "manual" }, { type: "record.created", configuration: { module: "x" } }],
        actions: [],
      },
    });
    const view = await call("GET", `${B}/${flow.body.id}`, { org });
    expect(view.body.data.x_native.triggers).toHaveLength(2);
    const res = await call("PATCH", `${B}/${flow.body.id}`, { org, body: { name: "y" } });
    expect([res.status, res.body.error.code]).toEqual([409, "NOT_EXPRESSIBLE"]);
    // A native flow in Coherence's vocabulary is simply a Coherence automation.
    const simple = await call("POST", "/v1/automation/flows", {
      org,
      body: { flow_name: "simple", triggers: [{ type: "record.updated", configuration: { module: "deals" } }], actions: [] },
    });
    const plain = (await call("GET", `${B}/${simple.body.id}`, { org })).body.data;
    expect(plain).toMatchObject({ name: "simple", trigger: { type: "record.updated", module: "deals" } });
    expect(plain.x_native).toBeUndefined();
  });
});
