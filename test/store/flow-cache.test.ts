import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { receiveWebhook } from "../../src/services/inbound-webhooks";
import { startExecution } from "../../src/services/executions";
import { cachedFlow, cachedWebhookTarget, flowCacheTtl, webhookFlowOrgId } from "../../src/store/flow-cache";
import { invalidateAllFlows } from "../../src/store/flow-invalidation";
import { deleteFlow, getFlow, setFlowEnabled } from "../../src/store/flows";
import { deleteOrganization } from "../../src/store/organizations";
import { call } from "../helpers";
import { countingDb } from "../support/d1-count";
import { createFlow } from "../support/engine";
import { SECRET, standardHeaders, webhookFlow } from "../webhooks/support";

// The suite runs with the cache off (vitest.config.ts: tests change flows behind store/'s back with raw
// SQL); here it is on, as in production, through an env of its own.
function cachedEnv() {
  const counter = { statements: 0, batches: 0 };
  return { env: { ...env, DB: countingDb(env.DB, counter), FLOW_CACHE_TTL_MS: "2000" }, counter };
}

const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(() => invalidateAllFlows());

describe("the flow cache of start paths", () => {
  it("reads a flow once within the TTL, and again after it", async () => {
    const flow = await createFlow({ flow_name: "cached", actions: [] });
    const { env: e, counter } = cachedEnv();
    const t = Date.now();
    const first = await cachedFlow(e, "org-a", flow.id, t);
    const second = await cachedFlow(e, "org-a", flow.id, t + 1999);
    expect(second).toEqual(first);
    expect(counter.batches).toBe(1);
    await cachedFlow(e, "org-a", flow.id, t + 2000);
    expect(counter.batches).toBe(2);
  });

  it("hands out copies: a caller changing its flow changes no one else's", async () => {
    const flow = await createFlow({ flow_name: "copies", actions: [] });
    const { env: e } = cachedEnv();
    const a = (await cachedFlow(e, "org-a", flow.id))!;
    a.flow_name = "changed";
    a.actions.push({ id: "x", type: "delay", config: {} } as never);
    const b = (await cachedFlow(e, "org-a", flow.id))!;
    expect(b.flow_name).toBe("copies");
    expect(b.actions).toEqual([]);
  });

  it("is per organization: another org's id is not found, cached or not", async () => {
    const flow = await createFlow({ flow_name: "mine", actions: [] });
    const { env: e } = cachedEnv();
    expect(await cachedFlow(e, "org-a", flow.id)).not.toBeNull();
    expect(await cachedFlow(e, "org-b", flow.id)).toBeNull();
  });

  it("keeps no 'not found': a flow created after a miss is found at once", async () => {
    const { env: e, counter } = cachedEnv();
    expect(await cachedFlow(e, "org-a", "no-such-flow")).toBeNull();
    expect(await cachedFlow(e, "org-a", "no-such-flow")).toBeNull();
    expect(counter.batches).toBe(2);
  });

  it("drops a flow on every write made through store/: update, disable, delete, org deletion", async () => {
    const flow = await createFlow({ flow_name: "v1", actions: [] }, "org-cache-w");
    const { env: e } = cachedEnv();
    expect((await cachedFlow(e, "org-cache-w", flow.id))!.flow_name).toBe("v1");

    const put = await call("PUT", `/v1/automation/flows/${flow.id}`, {
      org: "org-cache-w",
      body: { flow_name: "v2", triggers: [{ type: "manual" }], actions: [] },
    });
    expect(put.status).toBe(200);
    expect((await cachedFlow(e, "org-cache-w", flow.id))!.flow_name).toBe("v2");

    await setFlowEnabled(env.DB, "org-cache-w", flow.id, false, null, iso(Date.now()), "test");
    expect((await cachedFlow(e, "org-cache-w", flow.id))!.enabled).toBe(false);
    await setFlowEnabled(env.DB, "org-cache-w", flow.id, true, null, iso(Date.now()), "test");
    expect((await cachedFlow(e, "org-cache-w", flow.id))!.enabled).toBe(true);

    await deleteOrganization(env.DB, "org-cache-w", iso(Date.now()), "test");
    expect((await cachedFlow(e, "org-cache-w", flow.id))!.enabled).toBe(false);

    expect(await deleteFlow(env.DB, "org-cache-w", flow.id)).toBe(true);
    expect(await cachedFlow(e, "org-cache-w", flow.id)).toBeNull();
  });

  it("does not keep a read that was in flight across a write (it may be older than the write)", async () => {
    const flow = await createFlow({ flow_name: "race", actions: [] });
    const { env: e, counter } = cachedEnv();
    const inFlight = cachedFlow(e, "org-a", flow.id);
    await setFlowEnabled(env.DB, "org-a", flow.id, false, null, iso(Date.now()), "test");
    await inFlight;
    const after = await cachedFlow(e, "org-a", flow.id);
    expect(after!.enabled).toBe(false);
    expect(counter.batches).toBe(2);
  });

  it("'0' turns it off; bad values mean off, large ones are capped", () => {
    expect(flowCacheTtl({})).toBe(2000);
    expect(flowCacheTtl({ FLOW_CACHE_TTL_MS: "0" })).toBe(0);
    expect(flowCacheTtl({ FLOW_CACHE_TTL_MS: "abc" })).toBe(0);
    expect(flowCacheTtl({ FLOW_CACHE_TTL_MS: "-5" })).toBe(0);
    expect(flowCacheTtl({ FLOW_CACHE_TTL_MS: "99999999" })).toBe(60_000);
  });

  it("off: every read goes to D1", async () => {
    const flow = await createFlow({ flow_name: "off", actions: [] });
    const counter = { statements: 0, batches: 0 };
    const e = { ...env, DB: countingDb(env.DB, counter), FLOW_CACHE_TTL_MS: "0" };
    await cachedFlow(e, "org-a", flow.id);
    await cachedFlow(e, "org-a", flow.id);
    expect(counter.batches).toBe(2);
  });
});

describe("the start path's D1 reads", () => {
  it("an API start reads the flow, then the record and the hot-flow count in one round trip; the next start skips the flow", async () => {
    const flow = await createFlow({ flow_name: "reads", actions: [] });
    const { env: e, counter } = cachedEnv();
    const start = (entityId: string) =>
      startExecution(e, { orgId: "org-a", flow: flow.id, entityId, triggerEvent: { type: "manual" } });
    const first = counter.batches;
    await start("rec-1");
    const afterFirst = counter.batches;
    await start("rec-2");
    // Only the start path's reads run on this env: the execution's object writes through its own binding.
    expect(afterFirst - first).toBe(2);
    expect(counter.batches - afterFirst).toBe(1);
  });
});

describe("webhook targets", () => {
  it("the rate limiter's org lookup fills the cache for the handler: one D1 read per webhook URL within the TTL", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const { env: e, counter } = cachedEnv();
    expect(await webhookFlowOrgId(e, hook.id)).toBe("org-a");
    const target = await cachedWebhookTarget(e, hook.id, iso(Date.now()));
    expect(target!.flow.id).toBe(hook.id);
    expect(target!.secrets).toHaveLength(1);
    expect(counter.batches).toBe(1);
    expect(await webhookFlowOrgId(e, "unknown-flow")).toBeNull();
  });

  it("a retired secret stops verifying at its expiry even while its target is cached", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const put = await call("PUT", `/v1/automation/flows/${hook.id}`, {
      body: {
        flow_name: "rotated",
        triggers: [
          {
            id: hook.trigger_id,
            type: "webhook",
            configuration: { path: hook.path, secret: "whsec_bmV3LXNlY3JldC1ieXRlcy0wMTIzNDU2" },
          },
        ],
        actions: [],
      },
    });
    expect(put.status).toBe(200);
    const { env: e } = cachedEnv();
    const now = Date.now();
    const fresh = await cachedWebhookTarget(e, hook.id, iso(now), now);
    expect(fresh!.retired).toHaveLength(1);
    const later = Date.parse(fresh!.retired[0].expires_at) + 1;
    // Still within the TTL by the cache's clock, past the retired secret's expiry by the caller's.
    const cached = await cachedWebhookTarget(e, hook.id, iso(later), now + 1);
    expect(cached!.retired).toEqual([]);
  });

  it("a webhook of a flow disabled in this isolate is refused at once (410), cache or not", async () => {
    const hook = await webhookFlow({ secret: SECRET });
    const { env: e } = cachedEnv();
    const deliver = async () => {
      const body = JSON.stringify({ n: crypto.randomUUID() });
      const headers = new Headers({ "content-type": "application/json", ...(await standardHeaders(SECRET, body)) });
      return receiveWebhook(e, {
        flowId: hook.id,
        path: hook.path,
        headers,
        query: new URLSearchParams(),
        readBody: async () => new TextEncoder().encode(body),
        now: Date.now(),
      });
    };
    await expect(deliver()).resolves.toMatch(/^wh:/);
    await setFlowEnabled(env.DB, "org-a", hook.id, false, null, iso(Date.now()), "test");
    await expect(deliver()).rejects.toMatchObject({ status: 410 });
    expect((await getFlow(env.DB, "org-a", hook.id))!.enabled).toBe(false);
  });
});
