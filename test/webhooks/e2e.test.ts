import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyStandardWebhook } from "../../src/engine/webhook-signatures";
import { processEvent } from "../../src/queues/events";
import { call } from "../helpers";
import { SINK, createFlow, drive, sinkRequests, sinkReset, startExec } from "../support/engine";
import { SECRET, captureEvents, postHook, standardHeaders, uniquePath, webhookFlow } from "./support";

const sent = captureEvents();
beforeEach(sinkReset);

/** Runs the captured events through the consumer and drives each execution to its end. */
async function runCaptured(): Promise<any[]> {
  const out = [];
  for (const event of sent) for (const id of (await processEvent(env, event)).started) out.push(await drive(id));
  return out;
}

describe("webhook → execution", () => {
  it("trigger.body, trigger.query and trigger.headers render in action templates", async () => {
    const path = uniquePath("orders");
    const hook = await webhookFlow(
      { path, secret: SECRET },
      {
        actions: [
          {
            id: "notify",
            type: "call_webhook",
            config: {
              url: `${SINK}/rendered/${path}`,
              body: {
                order: "{{ trigger.body.order.id }}",
                customer: "{{ trigger.body.order.customer | upcase }}",
                shop: "{{ trigger.query.shop }}",
                agent: "{{ trigger.headers['x-agent'] }}",
                event: "{{ trigger.event_id }}",
              },
            },
          },
        ],
      },
    );
    const body = JSON.stringify({ order: { id: "A-17", customer: "ada" } });
    const res = await postHook(hook.id, path, {
      body,
      query: "?shop=berlin",
      headers: { ...(await standardHeaders(SECRET, body, "msg_e2e")), "x-agent": "shopify/2.0" },
    });
    expect(res.status).toBe(202);
    // Accepted means stored: the delivery is in the event inbox before its message is sent.
    const stored = await env.DB.prepare("SELECT body FROM event_inbox WHERE org_id = 'org-a' AND id = ?")
      .bind(`wh:${hook.id}:msg_e2e`)
      .first<{ body: string }>();
    expect(JSON.parse(stored!.body)).toMatchObject({ type: "webhook", body: { order: { id: "A-17" } } });
    const [exec] = await runCaptured();
    expect(exec.execution_status).toBe("success");
    expect(exec.trigger_event).toMatchObject({ type: "webhook", body: { order: { id: "A-17" } }, query: { shop: "berlin" } });
    const [req] = await sinkRequests(`/rendered/${path}`);
    expect(JSON.parse(req.body)).toEqual({
      order: "A-17",
      customer: "ADA",
      shop: "berlin",
      agent: "shopify/2.0",
      event: `wh:${hook.id}:msg_e2e`,
    });
  });

  it("form fields are usable in templates, and trigger conditions see the webhook", async () => {
    const path = uniquePath("form");
    const hook = await webhookFlow(
      { path, allow_unsigned: true },
      {
        trigger_conditions: [{ source: "body.kind", comparison: "equals", value: "lead" }],
        actions: [
          { id: "a", type: "call_webhook", config: { url: `${SINK}/form/${path}`, body: { name: "{{ trigger.body.name }}" } } },
        ],
      },
    );
    const form = { contentType: "application/x-www-form-urlencoded" };
    expect((await postHook(hook.id, path, { ...form, body: "kind=lead&name=Grace+Hopper" })).status).toBe(202);
    expect((await postHook(hook.id, path, { ...form, body: "kind=spam&name=Bot" })).status).toBe(202);
    const execs = await runCaptured();
    expect(execs).toHaveLength(1);
    const reqs = await sinkRequests(`/form/${path}`);
    expect(reqs.map((r) => JSON.parse(r.body))).toEqual([{ name: "Grace Hopper" }]);
  });
});

describe("outbound signing (trigger-webhook / call_webhook)", () => {
  it("signs with the action's secret; the receiver can verify with the Standard Webhooks scheme", async () => {
    const secret = "whsec_b3V0Ym91bmQtc2lnbmluZy1zZWNyZXQ=";
    const flow = await createFlow({
      flow_name: "signed outbound",
      actions: [
        { id: "signed", type: "trigger-webhook", config: { url: `${SINK}/signed`, body: { hello: "world", n: 1 }, secret } },
        { id: "plain", type: "call_webhook", config: { url: `${SINK}/plain`, body: { x: 1 } } },
      ],
    });
    expect(flow.actions[0].config.secret_configured).toBe(true);
    const id = await startExec(flow.id);
    const exec = await drive(id);
    expect(exec.execution_status).toBe("success");

    const [req] = await sinkRequests("/signed");
    expect(req.headers["webhook-id"]).toBe(`${id}:signed`);
    expect(req.headers["webhook-id"]).toBe(req.headers["idempotency-key"]);
    const ts = Number(req.headers["webhook-timestamp"]);
    const headers = new Headers(req.headers);
    const bytes = new TextEncoder().encode(req.body);
    expect(await verifyStandardWebhook([secret], headers, bytes, ts * 1000)).toEqual({ ok: true, secret_index: 0 });
    expect((await verifyStandardWebhook(["whsec_d3Jvbmc="], headers, bytes, ts * 1000)).ok).toBe(false);
    // The run history does not show the signature.
    expect(JSON.stringify(exec)).not.toContain(req.headers["webhook-signature"].slice(3));

    const [plain] = await sinkRequests("/plain");
    expect(plain.headers["webhook-signature"]).toBeUndefined();
    expect(plain.headers["webhook-id"]).toBeUndefined();
  });

  it("an outbound webhook to this engine's own inbound URL is accepted with the shared secret", async () => {
    const secret = "whsec_cm91bmQtdHJpcC1zZWNyZXQtMDE=";
    const hook = await webhookFlow({ secret });
    const sender = await createFlow({
      flow_name: "sender",
      actions: [{ id: "s", type: "call_webhook", config: { url: `${SINK}/relay`, body: { relayed: true }, secret } }],
    });
    const execId = await startExec(sender.id);
    await drive(execId);
    const [req] = await sinkRequests("/relay");
    // Replay what the sink received against the inbound endpoint: same headers, same bytes.
    const res = await postHook(hook.id, hook.path, {
      body: req.body,
      headers: {
        "webhook-id": req.headers["webhook-id"],
        "webhook-timestamp": req.headers["webhook-timestamp"],
        "webhook-signature": req.headers["webhook-signature"],
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.event_id).toBe(`wh:${hook.id}:${execId}:s`);
  });

  it("fails rather than sending unsigned when the configured secret is gone", async () => {
    const flow = await createFlow({
      flow_name: "lost secret",
      actions: [{ id: "w", type: "call_webhook", config: { url: `${SINK}/lost`, secret: "whsec_bG9zdC1zZWNyZXQtYnl0ZXM=" } }],
    });
    await env.DB.prepare("DELETE FROM flow_secrets WHERE flow_id = ?").bind(flow.id).run();
    const exec = await drive(await startExec(flow.id));
    expect(exec.execution_status).toBe("failed");
    expect(exec.actions[0].error_output.error_code).toBe("BAD_CONFIG");
    expect(await sinkRequests("/lost")).toHaveLength(0);
    const check = await call("GET", `/v1/automation/flows/${flow.id}`);
    expect(check.body.actions[0].config.secret_configured).toBe(true);
  });
});
