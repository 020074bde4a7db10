/**
 * Issue 24 item 6: no replay. GitHub signs the body only (no timestamp, and its delivery id is not signed), so a
 * captured delivery can be sent again under a new `X-GitHub-Delivery` and its signature still verifies. Such a
 * delivery is deduplicated on a hash of its signature and body for at least 24 hours (LIMITS.WEBHOOK_REPLAY_WINDOW_MS):
 * the replay is answered like the original (202, the same event id) and starts nothing. The table is pruned by the
 * scheduled reconciliation once the window has passed. Standard Webhooks and Stripe sign a timestamp (and the
 * delivery id), so they are not kept.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/lib/limits";
import { reconcileAll } from "../../src/services/reconcile-all";
import { SECRET, captureEvents, githubHeaders, postHook, standardHeaders, webhookFlow } from "../webhooks/support";

const sent = captureEvents();

const rows = async (flowId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE flow_id = ?`).bind(flowId).first<{ n: number }>())!.n;

describe("signed webhooks without a signed timestamp are not replayed (item 6)", () => {
  it("GitHub: the same body and signature under a new delivery id starts nothing", async () => {
    const secret = "github-replay-secret-0123";
    const hook = await webhookFlow({ secret, provider: "github" });
    const body = JSON.stringify({ ref: "refs/heads/main", after: "abc123" });
    const first = await postHook(hook.id, hook.path, { body, headers: await githubHeaders(secret, body, "delivery-1") });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const replay = await postHook(hook.id, hook.path, { body, headers: await githubHeaders(secret, body, "delivery-2") });
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    expect(replay.body.event_id).toBe(first.body.event_id);
    expect(sent.map((e) => e.id)).toEqual([first.body.event_id]);
    // Another body is another delivery.
    const other = JSON.stringify({ ref: "refs/heads/main", after: "def456" });
    const next = await postHook(hook.id, hook.path, { body: other, headers: await githubHeaders(secret, other, "delivery-3") });
    expect(next.status).toBe(202);
    expect(sent).toHaveLength(2);
  });

  it("the same delivery to another flow is that flow's own", async () => {
    const secret = "github-replay-secret-4567";
    const a = await webhookFlow({ secret, provider: "github" });
    const b = await webhookFlow({ secret, provider: "github" });
    const body = JSON.stringify({ zen: "Keep it logically awesome." });
    expect((await postHook(a.id, a.path, { body, headers: await githubHeaders(secret, body, "d-a") })).status).toBe(202);
    expect((await postHook(b.id, b.path, { body, headers: await githubHeaders(secret, body, "d-b") })).status).toBe(202);
    expect(sent).toHaveLength(2);
  });

  it("kept for at least 24 hours, then pruned by the scheduled reconciliation", async () => {
    const secret = "github-replay-secret-89ab";
    const hook = await webhookFlow({ secret, provider: "github" });
    const body = JSON.stringify({ action: "opened" });
    expect((await postHook(hook.id, hook.path, { body, headers: await githubHeaders(secret, body, "p-1") })).status).toBe(202);
    expect(await rows(hook.id)).toBe(1);
    expect(LIMITS.WEBHOOK_REPLAY_WINDOW_MS).toBeGreaterThanOrEqual(24 * 3_600_000);
    await reconcileAll(env, Date.now() + LIMITS.WEBHOOK_REPLAY_WINDOW_MS - 60_000);
    expect(await rows(hook.id)).toBe(1);
    await reconcileAll(env, Date.now() + LIMITS.WEBHOOK_REPLAY_WINDOW_MS + 60_000);
    expect(await rows(hook.id)).toBe(0);
  });

  it("Standard Webhooks sign their id and timestamp: nothing is kept for them", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const body = JSON.stringify({ type: "invoice.paid" });
    expect((await postHook(hook.id, hook.path, { body, headers: await standardHeaders(SECRET, body) })).status).toBe(202);
    expect(await rows(hook.id)).toBe(0);
  });
});
