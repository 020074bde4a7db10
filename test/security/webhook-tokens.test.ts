/**
 * Issue 24 item 2: webhook tokens are secrets. A Coherence webhook automation is called at
 * `/v1/webhooks/{id}/<webhook_path>.<token>` with no signature: the token is the credential. It is stored only as
 * its SHA-256 (table webhook_tokens, like API keys), compared in constant time, shown once (when the automation is
 * created, and by the explicit rotate), and never again: not in GET of the flow, the Coherence or TrustPager
 * documents, `x_native`, runs, `trigger_event`, any D1 row or the execution's storage. The URL with the token keeps
 * triggering; tokens stored by the earlier layout (`path: "<webhook_path>.<token>"`) are upgraded on read.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import type { ExecutionObject } from "../../src/objects/execution-object";
import { processEvent } from "../../src/queues/events";
import { call } from "../helpers";
import { SINK, executionStub } from "../support/engine";
import { driveIn } from "../integrations/support";
import { captureEvents } from "../webhooks/support";

const sent = captureEvents();
const B = "/v1/automations";
let n = 0;
const newOrg = () => `wh-token-${++n}-${crypto.randomUUID().slice(0, 6)}`;

async function createHook(org: string, webhook_path = "incoming-lead") {
  const res = await call("POST", B, {
    org,
    body: {
      name: "lead hook",
      trigger: { type: "webhook", webhook_path },
      actions: [{ type: "call_webhook", config: { url: `${SINK}/wh-token-target`, method: "POST", body: { ok: true } } }],
      enabled: true,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const url = new URL(res.body.data.webhook_url as string);
  const token = url.pathname.split(".").pop()!;
  return { id: res.body.data.id as string, path: url.pathname, token };
}

/** Every D1 row of every table, as text. */
async function allD1(): Promise<string> {
  const tables = await env.DB.prepare(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'`,
  ).all<{ name: string }>();
  const out: unknown[] = [];
  for (const { name } of tables.results) out.push((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
  return JSON.stringify(out);
}

async function objectStorage(id: string): Promise<string> {
  return JSON.stringify(
    await runInDurableObject(executionStub(id), (_o: ExecutionObject, state: DurableObjectState) => {
      const names = state.storage.sql
        .exec<{ name: string }>(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'`,
        )
        .toArray();
      return names.map(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray());
    }),
  );
}

/** Calls the URL and runs what it queued; returns the execution id. */
async function trigger(org: string, path: string): Promise<string> {
  const before = sent.length;
  const res = await call("POST", path, { token: null, body: { name: "Grace" } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(sent.length).toBe(before + 1);
  const { started } = await processEvent(env, sent[sent.length - 1]);
  expect(started).toHaveLength(1);
  expect((await driveIn(started[0], org)).execution_status).toBe("success");
  return started[0];
}

describe("webhook URL tokens are stored hashed and shown once (item 2)", () => {
  it("the token appears nowhere after creation, and the URL with it triggers", async () => {
    const org = newOrg();
    const { id, path, token } = await createHook(org);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const executionId = await trigger(org, path);

    const views = [
      await call("GET", `${B}/${id}`, { org }),
      await call("GET", B, { org }),
      await call("GET", `/v1/automation/flows/${id}`, { org }),
      await call("GET", `/api/v1/automations/${id}`, { org }),
      await call("GET", `/api/v1/automations/${id}/runs`, { org }),
      await call("GET", `${B}/${id}/logs`, { org }),
      await call("GET", `/v1/automation/executions/${executionId}`, { org }),
      await call("GET", `/v1/automation/executions?flow_id=${id}`, { org }),
      await call("GET", `/v1/automation/flows/${id}/runs`, { org }),
    ];
    for (const v of views) {
      expect(v.status).toBe(200);
      expect(JSON.stringify(v.body)).not.toContain(token);
    }
    const trigger_event = views[6].body.trigger_event;
    expect(trigger_event.path).toBe("incoming-lead");
    expect(JSON.stringify(await allD1())).not.toContain(token);
    expect(await objectStorage(executionId)).not.toContain(token);
    // Stored as its SHA-256.
    const row = await env.DB.prepare(`SELECT token_hash FROM webhook_tokens WHERE flow_id = ?`)
      .bind(id)
      .first<{ token_hash: string }>();
    expect(row?.token_hash).toBe(await sha256Hex(token));
    // The flow says a token is configured, not which.
    expect(views[2].body.triggers[0].configuration).toMatchObject({ path: "incoming-lead", token_configured: true });
  });

  it("without the token, with another token or with a prefix of it: 404, nothing queued", async () => {
    const org = newOrg();
    const { id, path, token } = await createHook(org);
    const before = sent.length;
    for (const wrong of [
      `/v1/webhooks/${id}/incoming-lead`,
      `/v1/webhooks/${id}/incoming-lead.${token.slice(0, -1)}A`,
      `/v1/webhooks/${id}/incoming-lead.${token.slice(0, 40)}`,
      `/v1/webhooks/${id}/other-path.${token}`,
    ]) {
      expect(wrong).not.toBe(path);
      const res = await call("POST", wrong, { token: null, body: {} });
      expect(res.status, wrong).toBe(404);
    }
    expect(sent.length).toBe(before);
  });

  it("PATCH keeps the token without showing it; rotate shows a new one once and retires the old URL", async () => {
    const org = newOrg();
    const { id, path, token } = await createHook(org);
    const patched = await call("PATCH", `${B}/${id}`, { org, body: { name: "renamed", enabled: true } });
    expect(patched.status).toBe(200);
    expect(JSON.stringify(patched.body)).not.toContain(token);
    expect(patched.body.data.webhook_url).toBeUndefined();
    const retrigger = await call("PATCH", `${B}/${id}`, {
      org,
      body: { trigger: { type: "webhook", webhook_path: "incoming-lead" }, enabled: true },
    });
    expect(retrigger.status).toBe(200);
    expect(JSON.stringify(retrigger.body)).not.toContain(token);
    await trigger(org, path);

    const rotated = await call("POST", `${B}/${id}/rotate-webhook-token`, { org });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const url = new URL(rotated.body.data.webhook_url);
    const fresh = url.pathname.split(".").pop()!;
    expect(fresh).not.toBe(token);
    expect((await call("POST", path, { token: null, body: {} })).status).toBe(404);
    await trigger(org, url.pathname);
    expect(JSON.stringify((await call("GET", `${B}/${id}`, { org })).body)).not.toContain(fresh);
    expect(await allD1()).not.toContain(fresh);
  });

  it("tokens stored by the earlier layout are upgraded on read: hashed, and the old URL still triggers", async () => {
    const org = newOrg();
    const { id, path, token } = await createHook(org, "legacy-hook");
    // Put the flow back into the earlier layout: the token inside the trigger's path, nothing in webhook_tokens.
    const flow = await env.DB.prepare(`SELECT doc FROM flows WHERE id = ?`).bind(id).first<{ doc: string }>();
    const doc = JSON.parse(flow!.doc);
    const cfg = doc.triggers[0].configuration;
    cfg.path = `legacy-hook.${token}`;
    delete cfg.token_configured;
    await env.DB.batch([
      env.DB.prepare(`UPDATE flows SET doc = ? WHERE id = ?`).bind(JSON.stringify(doc), id),
      env.DB.prepare(`UPDATE flow_triggers SET source_key = ? WHERE flow_id = ?`).bind(cfg.path, id),
      env.DB.prepare(`DELETE FROM webhook_tokens WHERE flow_id = ?`).bind(id),
    ]);
    expect(await allD1()).toContain(token);

    const got = await call("GET", `${B}/${id}`, { org });
    expect(got.status).toBe(200);
    expect(got.body.data.trigger).toEqual({ type: "webhook", webhook_path: "legacy-hook" });
    expect(got.body.data.x_native).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(token);
    expect(await allD1()).not.toContain(token);
    await trigger(org, path);
  });

  it("the native API takes a token (write-only) and answers token_configured", async () => {
    const org = newOrg();
    const token = "native-token-0123456789abcdefghijklmnopq";
    const created = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: "native hook",
        triggers: [{ type: "webhook", configuration: { path: "native", allow_unsigned: true, token } }],
        actions: [{ type: "call_webhook", config: { url: `${SINK}/wh-token-native` } }],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.triggers[0].configuration).toMatchObject({ path: "native", token_configured: true });
    expect(JSON.stringify(created.body)).not.toContain(token);
    expect((await call("POST", `/v1/webhooks/${created.body.id}/native`, { token: null, body: {} })).status).toBe(404);
    await trigger(org, `/v1/webhooks/${created.body.id}/native.${token}`);
  });
});
