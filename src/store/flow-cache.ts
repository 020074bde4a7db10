import { LIMITS } from "../lib/limits";
import type { AutomationFlow } from "../schemas/flow";
import { getFlow, getWebhookTarget, type WebhookTarget } from "./flows";
import { flowWriteCount, subscribeFlowCache } from "./flow-invalidation";
import { flowOrgId } from "./organizations";

/**
 * A short per-isolate cache of the flows that start paths read (API starts, the events consumer, the
 * webhook endpoint and its rate limiter), so a burst of starts of one flow costs one D1 read, not one
 * each. Only start paths use it; reads of a flow through the API always go to D1.
 *
 * Freshness: every write of a flow made through store/ in this isolate drops its entry at once
 * (flow-invalidation.ts); a write made in another isolate (or the circuit breaker's, in the execution's
 * object) reaches this one within the TTL, `FLOW_CACHE_TTL_MS` (default LIMITS.FLOW_CACHE_TTL_MS_DEFAULT;
 * "0" turns the cache off). Only found flows are kept, so a new flow is never answered "not found" from
 * here. Entries are cloned on the way out: no caller can change another's copy.
 */

interface Entry<T> {
  at: number;
  value: T;
}

const flows = new Map<string, Entry<AutomationFlow>>();
const targets = new Map<string, Entry<WebhookTarget>>();

const flowKey = (orgId: string, id: string) => `${orgId}\n${id}`;

export function flowCacheTtl(env: { FLOW_CACHE_TTL_MS?: string }): number {
  const raw = env.FLOW_CACHE_TTL_MS;
  if (raw === undefined || raw === "") return LIMITS.FLOW_CACHE_TTL_MS_DEFAULT;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? Math.min(n, LIMITS.MAX_FLOW_CACHE_TTL_MS) : 0;
}

function fresh<T>(map: Map<string, Entry<T>>, key: string, ttl: number, now: number): T | undefined {
  const e = map.get(key);
  if (!e) return undefined;
  if (now - e.at < ttl) return e.value;
  map.delete(key);
  return undefined;
}

function keep<T>(map: Map<string, Entry<T>>, key: string, value: T, now: number): void {
  map.delete(key); // re-inserted last: the Map's order is oldest first
  map.set(key, { at: now, value });
  if (map.size > LIMITS.FLOW_CACHE_MAX_ENTRIES) map.delete(map.keys().next().value as string);
}

/**
 * Read-through: a fresh entry (cloned), else `load()`; a found value is kept unless an invalidation came
 * while it was being read (it may be older than that write).
 */
async function readThrough<T>(
  map: Map<string, Entry<T>>,
  key: string,
  ttl: number,
  now: number,
  load: () => Promise<T | null>,
): Promise<T | null> {
  const hit = fresh(map, key, ttl, now);
  if (hit) return structuredClone(hit);
  const writes = flowWriteCount();
  const value = await load();
  if (value && writes === flowWriteCount()) keep(map, key, structuredClone(value), now);
  return value;
}

/** A flow of the org for starting it (getFlow, through the cache). */
export async function cachedFlow(
  env: { DB: D1Database; FLOW_CACHE_TTL_MS?: string },
  orgId: string,
  id: string,
  now = Date.now(),
): Promise<AutomationFlow | null> {
  const ttl = flowCacheTtl(env);
  if (ttl === 0) return getFlow(env.DB, orgId, id);
  return readThrough(flows, flowKey(orgId, id), ttl, now, () => getFlow(env.DB, orgId, id));
}

/** A webhook URL's flow and its trigger secrets (getWebhookTarget, through the cache). */
export async function cachedWebhookTarget(
  env: { DB: D1Database; FLOW_CACHE_TTL_MS?: string },
  flowId: string,
  atIso: string,
  now = Date.now(),
): Promise<WebhookTarget | null> {
  const ttl = flowCacheTtl(env);
  if (ttl === 0) return getWebhookTarget(env.DB, flowId, atIso);
  const target = await readThrough(targets, flowId, ttl, now, () => getWebhookTarget(env.DB, flowId, atIso));
  // Retired secrets stop verifying at their expiry, cached or not.
  return target && { ...target, retired: target.retired.filter((r) => r.expires_at > atIso) };
}

/** The org owning a webhook URL's flow, for the webhook rate limiter (it fills the cache for the handler). */
export async function webhookFlowOrgId(
  env: { DB: D1Database; FLOW_CACHE_TTL_MS?: string },
  flowId: string,
  now = Date.now(),
): Promise<string | null> {
  if (flowCacheTtl(env) === 0) return flowOrgId(env.DB, flowId);
  return (await cachedWebhookTarget(env, flowId, new Date(now).toISOString(), now))?.flow.org_id ?? null;
}

subscribeFlowCache({
  flow(flowId) {
    targets.delete(flowId);
    for (const key of flows.keys()) if (key.endsWith(`\n${flowId}`)) flows.delete(key);
  },
  org(orgId) {
    for (const key of flows.keys()) if (key.startsWith(`${orgId}\n`)) flows.delete(key);
    for (const [key, e] of targets) if (e.value.flow.org_id === orgId) targets.delete(key);
  },
  all() {
    flows.clear();
    targets.clear();
  },
});
