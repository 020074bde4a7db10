import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyStandardWebhook } from "../../src/engine/webhook-signatures";
import { call } from "../helpers";
import { SINK, createRecord, sinkReset } from "../support/engine";
import { create, flowIn, freshOrg, refusedFlow, runFlow, sinkJson } from "./support";

beforeEach(sinkReset);

const SIGNING = "whsec_c2lnbmluZy1zZWNyZXQtZm9yLXRlc3Rz";

describe("webhook targets: resource", () => {
  it("creates, reads, updates and deletes a target; secrets are sealed and never returned", async () => {
    const org = freshOrg();
    const target = await create(org, "/v1/webhook-targets", {
      name: "ERP",
      url: `${SINK}/erp`,
      auth: { type: "bearer", token: "tok-very-secret-123" },
      headers: { "x-tenant": "acme" },
    });
    expect(target).toMatchObject({
      name: "ERP",
      url: `${SINK}/erp`,
      auth: { type: "bearer", secret_configured: true },
      headers: { "x-tenant": "acme" },
    });
    expect(JSON.stringify(target)).not.toContain("tok-very-secret-123");
    const row = await env.DB.prepare("SELECT * FROM webhook_targets WHERE id = ?").bind(target.id).first<any>();
    expect(JSON.stringify(row)).not.toContain("tok-very-secret-123");
    expect(row.ciphertext).toMatch(/^v1\./);

    expect((await call("GET", `/v1/webhook-targets/${target.id}`, { org })).body).toEqual(target);
    const list = await call("GET", "/v1/webhook-targets", { org });
    expect(list.body).toEqual({ total: 1, results: [target] });

    // Same type without its secret keeps the stored one; a new type needs its secret.
    const renamed = await call("PATCH", `/v1/webhook-targets/${target.id}`, {
      org,
      body: { name: "ERP 2", auth: { type: "bearer" } },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "ERP 2", auth: { type: "bearer", secret_configured: true } });
    const missing = await call("PATCH", `/v1/webhook-targets/${target.id}`, {
      org,
      body: { auth: { type: "basic", username: "u" } },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].path).toBe("auth.password");
    const none = await call("PATCH", `/v1/webhook-targets/${target.id}`, { org, body: { auth: { type: "none" } } });
    expect(none.body.auth).toEqual({ type: "none", secret_configured: false });
    expect(
      (await env.DB.prepare("SELECT ciphertext FROM webhook_targets WHERE id = ?").bind(target.id).first<any>()).ciphertext,
    ).toBeNull();

    const del = await call("DELETE", `/v1/webhook-targets/${target.id}`, { org });
    expect(del.body).toEqual({ id: target.id, deleted: true });
    expect((await call("GET", `/v1/webhook-targets/${target.id}`, { org })).status).toBe(404);
    expect((await call("DELETE", `/v1/webhook-targets/${target.id}`, { org })).status).toBe(404);
  });

  it("refuses bad input with 400 naming the field", async () => {
    const org = freshOrg();
    const cases: [unknown, string][] = [
      [{ name: "x", url: "ftp://example.com" }, "url"],
      [{ name: "x", url: "http://127.0.0.1/admin" }, "url"],
      [{ name: "x", url: `${SINK}/a`, auth: { type: "oauth" } }, "auth.type"],
      [{ name: "x", url: `${SINK}/a`, auth: { type: "api_key", header: "bad header", key: "k" } }, "auth.header"],
      [{ name: "x", url: `${SINK}/a`, auth: { type: "basic", username: "u" } }, "auth.password"],
      [{ name: "", url: `${SINK}/a` }, "name"],
      [{ name: "x", url: `${SINK}/a`, extra: 1 }, ""],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/webhook-targets", { org, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(
        res.body.error.details.map((d: any) => d.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    const malformed = await call("POST", "/v1/webhook-targets", {
      org,
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    const t = await create(org, "/v1/webhook-targets", { name: "x", url: `${SINK}/a` });
    expect((await call("PATCH", `/v1/webhook-targets/${t.id}`, { org, body: {} })).status).toBe(400);
    expect((await call("GET", "/v1/webhook-targets", { org })).body.total).toBe(1);
  });

  it("answers another organization's target ids with 404 and never lists them", async () => {
    const org = freshOrg();
    const other = freshOrg();
    const t = await create(org, "/v1/webhook-targets", { name: "x", url: `${SINK}/a` });
    expect((await call("GET", `/v1/webhook-targets/${t.id}`, { org: other })).status).toBe(404);
    expect((await call("PATCH", `/v1/webhook-targets/${t.id}`, { org: other, body: { name: "y" } })).status).toBe(404);
    expect((await call("DELETE", `/v1/webhook-targets/${t.id}`, { org: other })).status).toBe(404);
    expect((await call("GET", "/v1/webhook-targets", { org: other })).body.total).toBe(0);
    // Naming it in a flow of the other organization is refused on save.
    const details = await refusedFlow(other, [{ type: "inform-erp", config: { target_webhook_id: t.id } }]);
    expect(details).toEqual([expect.objectContaining({ path: "actions.0.config.target_webhook_id", code: "unknown_reference" })]);
    expect((await call("GET", `/v1/webhook-targets/${t.id}`, { org })).body.name).toBe("x");
  });
});

describe("webhook targets: trigger-webhook and inform-erp", () => {
  it("trigger-webhook sends the entity and its entity_sources relations, signed, and with sync keeps the answer", async () => {
    const org = freshOrg();
    const contact = await createRecord("contact", { name: "Ada", email: "ada@example.com" }, org);
    const note = await createRecord("note", { text: "n" }, org);
    const deal = await createRecord(
      "opportunity",
      { name: "Deal", customer: [{ entity_id: contact._id }], notes: { $relation: [{ entity_id: note._id }] } },
      org,
    );
    const target = await create(org, "/v1/webhook-targets", {
      name: "Hooks",
      url: `${SINK}/hooks/in`,
      auth: { type: "standard_webhooks", secret: SIGNING },
      headers: { "x-source": "automation" },
    });
    const flow = await flowIn(org, [
      { id: "hook", type: "trigger-webhook", config: { target_webhook_id: target.id, entity_sources: ["contact"], sync: true } },
    ]);
    const exec = await runFlow(org, flow.id, deal._id);
    expect(exec.execution_status, JSON.stringify(exec.actions[0].error_output)).toBe("success");
    const [req] = await sinkJson("/hooks/in");
    expect(req.method).toBe("POST");
    expect(req.headers["x-source"]).toBe("automation");
    expect(req.headers["idempotency-key"]).toBe(`${exec.id}:hook`);
    expect(req.json.metadata).toMatchObject({
      action: "trigger-webhook",
      origin: "automation",
      webhook_id: target.id,
      webhook_name: "Hooks",
      organization_id: org,
      automation_flow_id: flow.id,
      automation_name: "platform",
      execution_id: exec.id,
      event_id: `${exec.id}:hook`,
    });
    expect(req.json.entity).toMatchObject({ _id: deal._id, name: "Deal" });
    expect(req.json.relations.map((r: any) => r._id)).toEqual([contact._id]);
    const verified = await verifyStandardWebhook(
      [SIGNING],
      new Headers(req.headers),
      new TextEncoder().encode(req.body),
      Date.now(),
    );
    expect(verified.ok).toBe(true);
    expect(exec.actions[0].outputs).toMatchObject({
      webhook_id: target.id,
      status: 200,
      body: { path: "/hooks/in", received: { entity: { _id: deal._id } } },
    });
  });

  it("inform-erp sends with the target's auth; without sync the outputs hold no answer; the key is masked in the history", async () => {
    const org = freshOrg();
    const rec = await createRecord("order", { name: "O-1" }, org);
    const basic = await create(org, "/v1/webhook-targets", {
      name: "ERP",
      url: `${SINK}/erp`,
      auth: { type: "basic", username: "erp", password: "pw-secret-1" },
    });
    const keyed = await create(org, "/v1/webhook-targets", {
      name: "ERP2",
      url: `${SINK}/erp2`,
      auth: { type: "api_key", header: "X-ERP-Key", key: "erp-key-secret-2" },
    });
    const flow = await flowIn(org, [
      { id: "a", type: "inform-erp", config: { target_webhook_id: basic.id } },
      { id: "b", type: "inform-erp", config: { target_webhook_id: keyed.id, sync: false } },
    ]);
    const exec = await runFlow(org, flow.id, rec._id);
    expect(exec.execution_status).toBe("success");
    const sent = await sinkJson("/erp");
    const erp = sent.find((r) => r.path === "/erp")!;
    const b = sent.find((r) => r.path === "/erp2")!;
    expect(erp.headers.authorization).toBe(`Basic ${btoa("erp:pw-secret-1")}`);
    expect(erp.json.metadata.action).toBe("inform-erp");
    expect(b.headers["x-erp-key"]).toBe("erp-key-secret-2");
    expect(exec.actions[1].outputs).toEqual({ webhook_id: keyed.id, event_id: `${exec.id}:b`, status: 200 });
    const history = JSON.stringify(exec.actions);
    expect(history).not.toContain("erp-key-secret-2");
    expect(history).not.toContain("pw-secret-1");
  });

  it("a target answering 4xx fails the action at once, without retries", async () => {
    const org = freshOrg();
    const t = await create(org, "/v1/webhook-targets", { name: "x", url: `${SINK}/status/404` });
    const flow = await flowIn(org, [{ id: "a", type: "inform-erp", config: { target_webhook_id: t.id } }]);
    const exec = await runFlow(org, flow.id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output).toMatchObject({ error_code: "TRIGGER_WEBHOOK_ERROR", error_info: { status: 404 } });
    expect(exec.actions[0].attempts).toHaveLength(1);
  });

  it("refuses flows naming unknown targets on save, and fails runs whose target was deleted later", async () => {
    const org = freshOrg();
    expect(await refusedFlow(org, [{ type: "trigger-webhook", config: { target_webhook_id: "nope" } }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.target_webhook_id", code: "unknown_reference" }),
    ]);
    expect(await refusedFlow(org, [{ type: "inform-erp", config: { entity_sources: ["contact"] } }])).toEqual([
      expect.objectContaining({ path: "actions.0.config.target_webhook_id", code: "required" }),
    ]);
    const t = await create(org, "/v1/webhook-targets", { name: "x", url: `${SINK}/gone` });
    const flow = await flowIn(org, [{ id: "a", type: "trigger-webhook", config: { target_webhook_id: t.id } }]);
    await call("DELETE", `/v1/webhook-targets/${t.id}`, { org });
    const exec = await runFlow(org, flow.id);
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output).toMatchObject({
      error_code: "BAD_CONFIG",
      error_info: { code: "WEBHOOK_TARGET_NOT_FOUND", target_webhook_id: t.id },
    });
    expect(await sinkJson("/gone")).toHaveLength(0);
  });
});
