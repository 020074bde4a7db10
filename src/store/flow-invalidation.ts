/**
 * Every write of a flow made through store/ reports here (flows.ts, flow-secrets.ts, organizations.ts, and the
 * circuit breaker and key rotation through them), and the per-isolate caches of flows (flow-cache.ts) subscribe.
 * The writers need not import the cache, which reads through them.
 */
interface FlowCacheDrops {
  /** Drop one flow, in any org. */
  flow(flowId: string): void;
  /** Drop every flow of an org. */
  org(orgId: string): void;
  /** Drop everything. */
  all(): void;
}

const caches: FlowCacheDrops[] = [];
let writes = 0;

export function subscribeFlowCache(cache: FlowCacheDrops): void {
  caches.push(cache);
}

/** Bumped by every invalidation: a read in flight across one is not kept (it may be older than the write). */
export const flowWriteCount = (): number => writes;

/** Drops one flow (any org): its writes call this. */
export function invalidateFlow(flowId: string): void {
  writes++;
  for (const cache of caches) cache.flow(flowId);
}

/** Drops every flow of an org (the org was deleted and its flows disabled). */
export function invalidateOrgFlows(orgId: string): void {
  writes++;
  for (const cache of caches) cache.org(orgId);
}

/** Drops everything (a bulk rewrite of secrets, e.g. re-encryption). */
export function invalidateAllFlows(): void {
  writes++;
  for (const cache of caches) cache.all();
}
