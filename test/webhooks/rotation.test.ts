import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { call } from "../helpers";
import { SINK } from "../support/engine";
import { captureEvents, postHook, standardHeaders, stripeHeaders, webhookFlow } from "./support";

const sent = captureEvents();

const A = "whsec_c2VjcmV0LUEtYnl0ZXMtMDEyMzQ1";
const B = "whsec_c2VjcmV0LUItYnl0ZXMtNjc4OWFi";

/** PUTs the flow with its one webhook trigger's configuration replaced. */
async function putTrigger(hook: { id: string; trigger_id: string; path: string }, configuration: Record<string, unknown>) {
  const res = await call("PUT", `/v1/automation/flows/${hook.id}`, {
    body: {
      flow_name: `webhook ${hook.path}`,
      triggers: [{ id: hook.trigger_id, type: "webhook", configuration: { path: hook.path, ...configuration } }],
      actions: [{ id: "a", type: "call_webhook", config: { url: `${SINK}/${hook.path}` } }],
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The status of a call signed with `secret`. */
async function signedWith(hook: { id: string; path: string }, secret: string): Promise<number> {
  const body = JSON.stringify({ at: crypto.randomUUID() });
  return (await postHook(hook.id, hook.path, { body, headers: await standardHeaders(secret, body) })).status;
}

async function retiredRows(flowId: string) {
  const { results } = await env.DB.prepare("SELECT * FROM flow_secrets_retired WHERE flow_id = ? ORDER BY retired_at")
    .bind(flowId)
    .all<{ org_id: string; trigger_id: string; ciphertext: string; retired_at: string; expires_at: string }>();
  return results;
}

describe("webhook secret rotation", () => {
  it("a replaced secret keeps verifying during the overlap, and is refused after it", async () => {
    const hook = await webhookFlow({ secret: A });
    expect(await signedWith(hook, A)).toBe(202);
    expect(await signedWith(hook, B)).toBe(401);

    const flow = await putTrigger(hook, { secret: B });
    expect(flow.triggers[0].configuration).toEqual({
      path: hook.path,
      provider: "standard",
      allow_unsigned: false,
      secret_configured: true,
    });
    expect([await signedWith(hook, A), await signedWith(hook, B)]).toEqual([202, 202]);

    const rows = await retiredRows(hook.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ org_id: "org-a", trigger_id: hook.trigger_id });
    expect(Date.parse(rows[0].expires_at) - Date.parse(rows[0].retired_at)).toBe(LIMITS.WEBHOOK_SECRET_OVERLAP_MS);
    expect(rows[0].ciphertext).not.toContain("c2VjcmV0LUEt");

    // Sending the fetched flow back unchanged keeps the overlap.
    const fetched = await call("GET", `/v1/automation/flows/${hook.id}`);
    expect((await call("PUT", `/v1/automation/flows/${hook.id}`, { body: fetched.body })).status).toBe(200);
    expect(await signedWith(hook, A)).toBe(202);

    // The overlap ends (moved into the past instead of waiting 24 hours).
    await env.DB.prepare("UPDATE flow_secrets_retired SET expires_at = ? WHERE flow_id = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), hook.id)
      .run();
    const stale = await postHook(hook.id, hook.path, { body: "{}", headers: await standardHeaders(A, "{}") });
    expect(stale.status).toBe(401);
    expect(stale.body.error.details[0].code).toBe("no_matching_signature");
    expect(await signedWith(hook, B)).toBe(202);
    // The next write of the flow drops the expired row.
    await putTrigger(hook, {});
    expect(await retiredRows(hook.id)).toHaveLength(0);
  });

  it("rotate_immediately refuses the old secret at once, and is not stored", async () => {
    const hook = await webhookFlow({ secret: A });
    const flow = await putTrigger(hook, { secret: B, rotate_immediately: true });
    expect(flow.triggers[0].configuration.rotate_immediately).toBeUndefined();
    const doc = await env.DB.prepare("SELECT doc FROM flows WHERE id = ?").bind(hook.id).first<{ doc: string }>();
    expect(doc?.doc).not.toContain("rotate_immediately");
    expect([await signedWith(hook, A), await signedWith(hook, B)]).toEqual([401, 202]);
    expect(await retiredRows(hook.id)).toHaveLength(0);
  });

  it("rotate_immediately without a new secret ends a running overlap and keeps the current secret", async () => {
    const hook = await webhookFlow({ secret: A });
    await putTrigger(hook, { secret: B });
    expect(await signedWith(hook, A)).toBe(202);
    await putTrigger(hook, { rotate_immediately: true });
    expect([await signedWith(hook, A), await signedWith(hook, B)]).toEqual([401, 202]);
  });

  it(`keeps at most ${LIMITS.MAX_WEBHOOK_RETIRED_SECRETS} replaced secrets, the newest`, async () => {
    const secrets = ["a", "b", "c", "d", "e"].map((c) => `rotating-secret-${c.repeat(8)}`);
    const hook = await webhookFlow({ secret: secrets[0] });
    for (const s of secrets.slice(1)) await putTrigger(hook, { secret: s });
    expect(await retiredRows(hook.id)).toHaveLength(LIMITS.MAX_WEBHOOK_RETIRED_SECRETS);
    const statuses = [];
    for (const s of secrets) statuses.push(await signedWith(hook, s));
    expect(statuses).toEqual([401, 202, 202, 202, 202]);
  });

  it("removing the secret, removing the trigger or deleting the flow drops the replaced secrets", async () => {
    const removed = await webhookFlow({ secret: A });
    await putTrigger(removed, { secret: B });
    expect(await retiredRows(removed.id)).toHaveLength(1);
    await putTrigger(removed, { secret: null, allow_unsigned: true });
    expect(await retiredRows(removed.id)).toHaveLength(0);

    const noTrigger = await webhookFlow({ secret: A });
    await putTrigger(noTrigger, { secret: B });
    const res = await call("PUT", `/v1/automation/flows/${noTrigger.id}`, {
      body: { flow_name: "manual now", triggers: [{ type: "manual" }], actions: [] },
    });
    expect(res.status).toBe(200);
    expect(await retiredRows(noTrigger.id)).toHaveLength(0);

    const deleted = await webhookFlow({ secret: A });
    await putTrigger(deleted, { secret: B });
    expect((await call("DELETE", `/v1/automation/flows/${deleted.id}`)).status).toBe(200);
    expect(await retiredRows(deleted.id)).toHaveLength(0);
  });

  it("a replaced secret is bound to its flow and trigger, and works for the Stripe scheme too", async () => {
    const hook = await webhookFlow({ secret: "whsec_stripe_old_secret_1", provider: "stripe" });
    await putTrigger(hook, { secret: "whsec_stripe_new_secret_2", provider: "stripe" });
    for (const s of ["whsec_stripe_old_secret_1", "whsec_stripe_new_secret_2"]) {
      const body = JSON.stringify({ id: `evt_${s}` });
      expect((await postHook(hook.id, hook.path, { body, headers: await stripeHeaders(s, body) })).status).toBe(202);
    }
    // A retired blob copied to another flow does not decrypt there (its AAD names the owner): refused.
    const other = await webhookFlow({ secret: "whsec_stripe_other_secret", provider: "stripe" });
    const [row] = await retiredRows(hook.id);
    await env.DB.prepare(
      "INSERT INTO flow_secrets_retired (org_id, flow_id, trigger_id, key_id, ciphertext, retired_at, expires_at) VALUES (?, ?, ?, 'k', ?, ?, ?)",
    )
      .bind("org-a", other.id, other.trigger_id, row.ciphertext, row.retired_at, row.expires_at)
      .run();
    const body = JSON.stringify({ id: "evt_copied" });
    const res = await postHook(other.id, other.path, { body, headers: await stripeHeaders("whsec_stripe_old_secret_1", body) });
    expect(res.status).toBe(401);
    expect(sent.map((e) => e.flow_id)).toEqual([hook.id, hook.id]);
  });
});
