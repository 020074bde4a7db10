import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { prepareFlowWrite } from "../../src/services/flow-write";
import { AppError } from "../../src/lib/errors";
import { AutomationFlowInputSchema } from "../../src/schemas/flow";
import { actionSecretOwner, readFlowSecret } from "../../src/store/flow-secrets";
import { call } from "../helpers";
import { WEBHOOK_SECRET, createFlow, freshOrg } from "./flows-fixtures";

const webhookFlow = (configuration: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  flow_name: "hook",
  triggers: [{ type: "webhook", configuration: { path: "orders", ...configuration } }],
  actions: [],
  ...extra,
});

async function secretRows(flowId: string) {
  const { results } = await env.DB.prepare(
    "SELECT org_id, trigger_id, key_id, ciphertext FROM flow_secrets WHERE flow_id = ? ORDER BY trigger_id",
  )
    .bind(flowId)
    .all<{ org_id: string; trigger_id: string; key_id: string; ciphertext: string }>();
  return results;
}

describe("flows: webhook and outbound secrets", () => {
  it("stores a webhook secret encrypted, never returns it and reports secret_configured", async () => {
    const org = freshOrg();
    const flow = await createFlow(webhookFlow({ secret: WEBHOOK_SECRET, provider: "stripe" }), org);
    const trigger = flow.triggers[0];
    expect(trigger.configuration).toEqual({ path: "orders", provider: "stripe", allow_unsigned: false, secret_configured: true });
    for (const res of [
      await call("GET", `/v1/automation/flows/${flow.id}`, { org }),
      await call("GET", "/v1/automation/flows", { org }),
      await call("POST", "/v1/automation/flows:batchGet", { org, body: { ids: [flow.id] } }),
    ]) {
      expect(JSON.stringify(res.body)).not.toContain(WEBHOOK_SECRET);
    }
    const rows = await secretRows(flow.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ org_id: org, trigger_id: trigger.id });
    expect(rows[0].ciphertext).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(rows[0].ciphertext).not.toContain(WEBHOOK_SECRET);
    expect(rows[0].ciphertext.startsWith(`v1.${rows[0].key_id}.`)).toBe(true);
    const doc = await env.DB.prepare("SELECT doc FROM flows WHERE id = ?").bind(flow.id).first<{ doc: string }>();
    expect(doc?.doc).not.toContain(WEBHOOK_SECRET);

    expect(await readFlowSecret(env, org, flow.id, trigger.id)).toBe(WEBHOOK_SECRET);
    // Bound to its owner: another org or flow reading the same row id gets nothing.
    expect(await readFlowSecret(env, freshOrg(), flow.id, trigger.id)).toBeNull();
  });

  it("keeps the stored secret on a PUT that omits it, replaces it when sent and removes it with null", async () => {
    const org = freshOrg();
    const flow = await createFlow(webhookFlow({ secret: WEBHOOK_SECRET }), org);
    const triggerId = flow.triggers[0].id;
    const before = (await secretRows(flow.id))[0].ciphertext;

    // The fetched document sent back as-is (secret_configured included) keeps the secret.
    const same = await call("PUT", `/v1/automation/flows/${flow.id}`, { org, body: flow });
    expect(same.status).toBe(200);
    expect(same.body.triggers[0].configuration.secret_configured).toBe(true);
    expect((await secretRows(flow.id))[0].ciphertext).toBe(before);

    // Sent without the trigger id: the webhook with the same path keeps its id and secret.
    const noId = await call("PUT", `/v1/automation/flows/${flow.id}`, { org, body: webhookFlow({}) });
    expect(noId.body.triggers[0].id).toBe(triggerId);
    expect(await readFlowSecret(env, org, flow.id, triggerId)).toBe(WEBHOOK_SECRET);

    const replaced = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      org,
      body: webhookFlow({ secret: "whsec_replacement-secret-1" }),
    });
    expect(replaced.status).toBe(200);
    expect(await readFlowSecret(env, org, flow.id, triggerId)).toBe("whsec_replacement-secret-1");

    const removed = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      org,
      body: webhookFlow({ secret: null, allow_unsigned: true }),
    });
    expect(removed.status).toBe(200);
    expect(removed.body.triggers[0].configuration.secret_configured).toBe(false);
    expect(await secretRows(flow.id)).toEqual([]);
  });

  it("requires a secret for a webhook trigger unless allow_unsigned is true", async () => {
    const res = await call("POST", "/v1/automation/flows", { body: webhookFlow({}) });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(["triggers.0.configuration.secret"]);

    const flow = await createFlow(webhookFlow({ secret: WEBHOOK_SECRET }));
    const cleared = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: webhookFlow({ secret: null }) });
    expect(cleared.status).toBe(400);
    expect((await secretRows(flow.id)).length).toBe(1);
  });

  it("drops a webhook trigger's secret when the trigger is removed", async () => {
    const flow = await createFlow(webhookFlow({ secret: WEBHOOK_SECRET }));
    const res = await call("PUT", `/v1/automation/flows/${flow.id}`, { body: { ...flow, triggers: [{ type: "manual" }] } });
    expect(res.status).toBe(200);
    expect(await secretRows(flow.id)).toEqual([]);
  });

  it("encrypts the signing secrets of trigger-webhook and call_webhook actions the same way", async () => {
    const org = freshOrg();
    const flow = await createFlow(
      {
        flow_name: "outbound",
        triggers: [{ type: "manual" }],
        actions: [
          { id: "hook-a", type: "call_webhook", config: { url: "https://example.com/a", secret: "outbound-secret-aaaa" } },
          { id: "hook-b", type: "trigger-webhook", config: { url: "https://example.com/b", secret: "outbound-secret-bbbb" } },
          { id: "hook-c", type: "call_webhook", config: { url: "https://example.com/c" } },
        ],
      },
      org,
    );
    expect(flow.actions.map((a: any) => a.config.secret_configured)).toEqual([true, true, false]);
    expect(JSON.stringify(flow)).not.toContain("outbound-secret");
    expect((await secretRows(flow.id)).map((r) => r.trigger_id)).toEqual(["action:hook-a", "action:hook-b"]);
    expect(await readFlowSecret(env, org, flow.id, actionSecretOwner("hook-a"))).toBe("outbound-secret-aaaa");
    expect(await readFlowSecret(env, org, flow.id, actionSecretOwner("hook-b"))).toBe("outbound-secret-bbbb");

    const put = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      org,
      body: { ...flow, actions: [flow.actions[0], { ...flow.actions[1], config: { ...flow.actions[1].config, secret: null } }] },
    });
    expect(put.body.actions.map((a: any) => a.config.secret_configured)).toEqual([true, false]);
    expect((await secretRows(flow.id)).map((r) => r.trigger_id)).toEqual(["action:hook-a"]);
  });

  it("indexes every trigger with its source key for the matcher, mirroring enabled", async () => {
    const flow = await createFlow({
      flow_name: "index",
      enabled: false,
      triggers: [
        { id: "t1", type: "entity_operation", configuration: { schema: "contact" } },
        { id: "t2", type: "entity_operation", configuration: {} },
        { id: "t3", type: "record.updated", configuration: { module: "deals" } },
        { id: "t4", type: "field.changed", configuration: { module: "deals", field: "stage" } },
        { id: "t5", type: "api_submission", configuration: { source_id: "src-1" } },
        { id: "t6", type: "frontend_submission", configuration: {} },
        { id: "t7", type: "webhook", configuration: { path: "in-hook", allow_unsigned: true } },
        { id: "t8", type: "event", configuration: { event_name: "deal.won" } },
        { id: "t9", type: "schedule", configuration: { cron: "0 * * * *" } },
        { id: "t10", type: "manual" },
        { id: "t11", type: "activity", configuration: { schema: "meter" } },
      ],
      actions: [],
    });
    const { results } = await env.DB.prepare(
      "SELECT trigger_id, trigger_type, source_key, enabled, org_id FROM flow_triggers WHERE flow_id = ? ORDER BY CAST(SUBSTR(trigger_id, 2) AS INTEGER)",
    )
      .bind(flow.id)
      .all();
    expect(results.map((r: any) => [r.trigger_id, r.trigger_type, r.source_key])).toEqual([
      ["t1", "entity_operation", "contact"],
      ["t2", "entity_operation", "*"],
      ["t3", "record.updated", "deals"],
      ["t4", "field.changed", "deals"],
      ["t5", "api_submission", "src-1"],
      ["t6", "frontend_submission", "*"],
      ["t7", "webhook", "in-hook"],
      ["t8", "event", "deal.won"],
      ["t9", "schedule", "*"],
      ["t10", "manual", "*"],
      ["t11", "activity", "meter"],
    ]);
    expect(new Set(results.map((r: any) => r.enabled))).toEqual(new Set([0]));
    expect(new Set(results.map((r: any) => r.org_id))).toEqual(new Set(["org-a"]));

    // A PUT rewrites the index in the same batch as the flow.
    const put = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      body: { ...flow, enabled: true, triggers: [{ id: "t3", type: "record.created", configuration: { module: "tasks" } }] },
    });
    expect(put.status).toBe(200);
    const after = await env.DB.prepare(
      "SELECT trigger_id, trigger_type, source_key, enabled FROM flow_triggers WHERE flow_id = ?",
    )
      .bind(flow.id)
      .all();
    expect(after.results).toEqual([{ trigger_id: "t3", trigger_type: "record.created", source_key: "tasks", enabled: 1 }]);
  });

  it("refuses to store a secret without an ENCRYPTION_KEY (503) and stores nothing", async () => {
    const input = AutomationFlowInputSchema.parse(webhookFlow({ secret: WEBHOOK_SECRET }));
    const args = {
      env: { ...env, ENCRYPTION_KEY: undefined },
      orgId: "org-a",
      flowId: "f-no-key",
      input,
      existing: null,
      existingSecrets: [],
      at: new Date().toISOString(),
      actor: "superuser",
      blame: "superuser",
    };
    const err = await prepareFlowWrite(args).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 503, code: "ENCRYPTION_NOT_CONFIGURED" });
    // Without a secret to store, the missing key is no obstacle.
    const open = AutomationFlowInputSchema.parse(webhookFlow({ allow_unsigned: true }));
    await expect(prepareFlowWrite({ ...args, input: open })).resolves.toMatchObject({ secrets: [] });
  });
});
