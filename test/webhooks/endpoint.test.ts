import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { processEvent } from "../../src/queues/events";
import { call } from "../helpers";
import { drive, sinkReset } from "../support/engine";
import { SECRET, captureEvents, githubHeaders, postHook, standardHeaders, stripeHeaders, webhookFlow } from "./support";

const sent = captureEvents();
beforeEach(sinkReset);

describe("POST /v1/webhooks/{flow_id}/{path}", () => {
  it("answers 202 with the event id, enqueues one webhook event and needs no API key", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const body = JSON.stringify({ order: { id: 42, total: 9.5 } });
    const headers = { ...(await standardHeaders(SECRET, body, "msg_first")), "x-shop": "berlin", authorization: "Bearer nope" };
    const res = await postHook(hook.id, hook.path, { body, headers, query: "?source=shop&source=ignored&x=1" });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toEqual({ event_id: `wh:${hook.id}:msg_first`, status: "accepted" });
    expect(sent).toHaveLength(1);
    const event = sent[0];
    expect(event).toMatchObject({
      id: `wh:${hook.id}:msg_first`,
      org_id: "org-a",
      depth: 0,
      type: "webhook",
      flow_id: hook.id,
      trigger_id: hook.trigger_id,
      path: hook.path,
      body: { order: { id: 42, total: 9.5 } },
      query: { source: "shop", x: "1" },
      content_type: "application/json",
    });
    expect(event.headers["x-shop"]).toBe("berlin");
    expect(event.headers["webhook-id"]).toBe("msg_first");
    // Credentials and signatures are not passed on to templates.
    expect(event.headers.authorization).toBeUndefined();
    expect(event.headers["webhook-signature"]).toBeUndefined();
  });

  it("finds flows of any organization by id and scopes the event to the flow's org", async () => {
    const hook = await webhookFlow({ secret: SECRET }, {}, "org-webhooks-b");
    const body = "{}";
    const res = await postHook(hook.id, hook.path, { body, headers: await standardHeaders(SECRET, body) });
    expect(res.status).toBe(202);
    expect(sent[0].org_id).toBe("org-webhooks-b");
  });

  it("treats a repeated webhook-id as the same event: one execution", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const body = JSON.stringify({ n: 1 });
    for (let i = 0; i < 3; i++) {
      // A redelivery is re-signed with a fresh timestamp, as senders do; the id stays.
      const res = await postHook(hook.id, hook.path, { body, headers: await standardHeaders(SECRET, body, "msg_redelivered") });
      expect(res.status).toBe(202);
      expect(res.body.event_id).toBe(`wh:${hook.id}:msg_redelivered`);
    }
    expect(new Set(sent.map((e) => e.id)).size).toBe(1);
    const started = new Set<string>();
    for (const event of sent) for (const id of (await processEvent(env, event)).started) started.add(id);
    expect(started.size).toBe(1);
    const exec = await drive([...started][0]);
    expect(exec.execution_status).toBe("success");
    const list = await call("GET", `/v1/automation/executions?flow_id=${hook.id}`);
    expect(list.body.total).toBe(1);
  });

  it("without a delivery id, uses Idempotency-Key, else a fresh id per call", async () => {
    const hook = await webhookFlow({ allow_unsigned: true });
    const keyed = { "idempotency-key": "order-77" };
    expect((await postHook(hook.id, hook.path, { body: "{}", headers: keyed })).body.event_id).toBe(`wh:${hook.id}:order-77`);
    const a = await postHook(hook.id, hook.path, { body: "{}" });
    const b = await postHook(hook.id, hook.path, { body: "{}" });
    expect(a.body.event_id).not.toBe(b.body.event_id);
    const long = "k".repeat(LIMITS.MAX_WEBHOOK_DELIVERY_ID_LENGTH + 1);
    const hashed = await postHook(hook.id, hook.path, { body: "{}", headers: { "idempotency-key": long } });
    expect(hashed.body.event_id).toMatch(new RegExp(`^wh:${hook.id}:sha256:[0-9a-f]{64}$`));
  });

  it("GitHub provider: X-Hub-Signature-256 verified, deduplicated by X-GitHub-Delivery", async () => {
    const secret = "github-hook-secret-0123";
    const hook = await webhookFlow({ secret, provider: "github" });
    const body = JSON.stringify({ ref: "refs/heads/main" });
    const headers = await githubHeaders(secret, body, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    const res = await postHook(hook.id, hook.path, { body, headers });
    expect(res.status).toBe(202);
    expect(res.body.event_id).toBe(`wh:${hook.id}:72d3162e-cc78-11e3-81ab-4c9367dc0958`);
    expect(sent[0].headers["x-github-event"]).toBe("push");
    expect(sent[0].headers["x-hub-signature-256"]).toBeUndefined();
    // Standard Webhooks headers mean nothing to a GitHub trigger.
    const wrong = await postHook(hook.id, hook.path, { body, headers: await standardHeaders(secret, body) });
    expect(wrong.status).toBe(401);
    expect(sent).toHaveLength(1);
  });

  it("Stripe provider: Stripe-Signature verified, deduplicated by the Stripe event id", async () => {
    const secret = "whsec_stripe_endpoint_secret";
    const hook = await webhookFlow({ secret, provider: "stripe" });
    const body = JSON.stringify({ id: "evt_123", type: "invoice.paid", data: { object: { amount_paid: 1200 } } });
    const res = await postHook(hook.id, hook.path, { body, headers: await stripeHeaders(secret, body) });
    expect(res.status).toBe(202);
    expect(res.body.event_id).toBe(`wh:${hook.id}:evt_123`);
    const stale = await postHook(hook.id, hook.path, {
      body,
      headers: await stripeHeaders(secret, body, Math.floor(Date.now() / 1000) - 301),
    });
    expect(stale.status).toBe(401);
    expect(stale.body.error.details[0].code).toBe("timestamp_out_of_range");
    expect(sent).toHaveLength(1);
  });

  it("unsigned calls: accepted only by a flow without a secret that says allow_unsigned", async () => {
    const open = await webhookFlow({ allow_unsigned: true });
    expect((await postHook(open.id, open.path, { body: "{}" })).status).toBe(202);
    expect(sent).toHaveLength(1);

    // A configured secret is always enforced, allow_unsigned or not.
    const both = await webhookFlow({ secret: SECRET, allow_unsigned: true });
    const res = await postHook(both.id, both.path, { body: "{}" });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("INVALID_SIGNATURE");
    const closed = await webhookFlow({ secret: SECRET });
    expect((await postHook(closed.id, closed.path, { body: "{}" })).status).toBe(401);
    expect(sent).toHaveLength(1);
  });

  it("a flow saved without a secret and without allow_unsigned is refused at save time", async () => {
    const res = await call("POST", "/v1/automation/flows", {
      body: { flow_name: "no secret", triggers: [{ type: "webhook", configuration: { path: "x" } }], actions: [] },
    });
    expect(res.status).toBe(400);
  });

  it("unknown flow or path → 404, disabled flow → 410, deleted flow → 404; nothing enqueued", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const body = "{}";
    const signed = async () => ({ body, headers: await standardHeaders(SECRET, body) });
    expect((await postHook(crypto.randomUUID(), hook.path, await signed())).status).toBe(404);
    expect((await postHook(hook.id, "other-path", await signed())).status).toBe(404);
    expect((await postHook(hook.id, "bad%20path", await signed())).status).toBe(404);
    expect((await postHook("x".repeat(300), hook.path, await signed())).status).toBe(404);

    expect((await call("POST", `/v1/automation/flows/${hook.id}/disable`)).status).toBe(200);
    const gone = await postHook(hook.id, hook.path, await signed());
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe("FLOW_DISABLED");
    expect((await call("POST", `/v1/automation/flows/${hook.id}/enable`)).status).toBe(200);
    expect((await postHook(hook.id, hook.path, await signed())).status).toBe(202);
    sent.length = 0;

    expect((await call("DELETE", `/v1/automation/flows/${hook.id}`)).status).toBe(200);
    expect((await postHook(hook.id, hook.path, await signed())).status).toBe(404);
    expect(sent).toHaveLength(0);
  });

  it("another method on the webhook URL is 405", async () => {
    const hook = await webhookFlow({ allow_unsigned: true });
    const res = await call("GET", `/v1/webhooks/${hook.id}/${hook.path}`, { token: null });
    expect(res.status).toBe(405);
  });

  it("413 above the body limit (declared or streamed), before anything is enqueued", async () => {
    const hook = await webhookFlow({ allow_unsigned: true });
    const big = JSON.stringify({ pad: "x".repeat(LIMITS.MAX_WEBHOOK_BODY_BYTES) });
    const res = await postHook(hook.id, hook.path, { body: big });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");

    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let n = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (n++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await call("POST", `/v1/webhooks/${hook.id}/${hook.path}`, {
      token: null,
      rawBody: stream,
      headers: { "content-type": "text/plain" },
    });
    expect(streamed.status).toBe(413);

    // Just under the body limit passes, as long as the event fits a queue message.
    const fits = JSON.stringify({ pad: "y".repeat(LIMITS.MAX_WEBHOOK_BODY_BYTES - 20) });
    expect((await postHook(hook.id, hook.path, { body: fits })).status).toBe(202);
    // A body that grows when carried in the event (escaped text) is refused with 413 too.
    const escaped = '"'.repeat(LIMITS.MAX_WEBHOOK_BODY_BYTES - 10);
    const grown = await postHook(hook.id, hook.path, { body: escaped, contentType: "text/plain" });
    expect(grown.status).toBe(413);
    expect(sent).toHaveLength(1);
  });

  it("malformed JSON → 400 (after the signature is checked); nothing enqueued", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const body = '{"a": 1,';
    const res = await postHook(hook.id, hook.path, { body, headers: await standardHeaders(SECRET, body) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("MALFORMED_JSON");
    const unsigned = await postHook(hook.id, hook.path, { body });
    expect(unsigned.status).toBe(401);
    expect(sent).toHaveLength(0);
  });

  it("form bodies become objects, +json is JSON, other types are text, an empty body is null", async () => {
    const hook = await webhookFlow({ allow_unsigned: true });
    const form = "name=Ada+Lovelace&tag=a&tag=b&empty=";
    expect((await postHook(hook.id, hook.path, { body: form, contentType: "application/x-www-form-urlencoded" })).status).toBe(
      202,
    );
    expect(sent[0].body).toEqual({ name: "Ada Lovelace", tag: ["a", "b"], empty: "" });
    expect(sent[0].content_type).toBe("application/x-www-form-urlencoded");

    await postHook(hook.id, hook.path, { body: '{"x":true}', contentType: "application/vnd.api+json; charset=utf-8" });
    expect(sent[1].body).toEqual({ x: true });
    await postHook(hook.id, hook.path, { body: "<ping/>", contentType: "application/xml" });
    expect(sent[2].body).toBe("<ping/>");
    await postHook(hook.id, hook.path, { body: "" });
    expect(sent[3].body).toBeNull();
  });

  it("is listed in the OpenAPI document as a public operation", async () => {
    const doc = await call("GET", "/openapi.json", { token: null });
    const op = doc.body.paths["/v1/webhooks/{flow_id}/{path}"].post;
    expect(op.operationId).toBe("receiveWebhook");
    expect(op.security).toEqual([]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["202", "401", "404", "410", "413"]));
  });
});
