import { LIMITS } from "../lib/limits";
import { countRequest, getOrgPlan, setOrgPlan, usageSince } from "../store/plans";

/**
 * Plans: free and pro tiers with a daily request quota per organization (Arrotech's "100 requests / day" and
 * "10,000 requests / day"), counted per UTC day. An organization without a plan is the operator's own and is
 * unlimited; its "no plan" is cached in the isolate, so its requests cost no D1 statement beyond one read per
 * LIMITS.PLAN_CACHE_TTL_MS. A plan change is seen at once by the isolate that made it, by others within that TTL.
 */

export const PLAN_QUOTAS = {
  free: LIMITS.FREE_PLAN_DAILY_REQUESTS,
  pro: LIMITS.PRO_PLAN_DAILY_REQUESTS,
} as const;
export type Plan = keyof typeof PLAN_QUOTAS;
/** Model tokens an organization's AI steps may spend per UTC day, by plan (services/llm-usage.ts); no plan: unlimited. */
export const PLAN_LLM_TOKEN_BUDGETS: Record<Plan, number> = {
  free: LIMITS.FREE_PLAN_DAILY_LLM_TOKENS,
  pro: LIMITS.PRO_PLAN_DAILY_LLM_TOKENS,
};
export const PLANS = Object.keys(PLAN_QUOTAS) as Plan[];

const isPlan = (v: string | null): v is Plan => v !== null && Object.prototype.hasOwnProperty.call(PLAN_QUOTAS, v);

/** The clock of quota days (ms); tests move it to cross a UTC midnight. */
export const planClock = { now: (): number => Date.now() };

const DAY_MS = 86_400_000;
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** The next UTC midnight after `ms`, in ms. */
export const nextUtcMidnight = (ms: number): number => (Math.floor(ms / DAY_MS) + 1) * DAY_MS;

const planCache = new Map<string, { plan: Plan | null; until: number }>();
/** Orgs refused today, by plan: refused again without a D1 write until the day or the plan changes. */
const exhausted = new Map<string, { plan: Plan; day: string }>();

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= LIMITS.MAX_PLAN_CACHE_ENTRIES) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** The org's plan (null: none, unlimited), from the isolate's cache when fresh. */
export async function orgPlan(db: D1Database, orgId: string): Promise<Plan | null> {
  const now = Date.now();
  const hit = planCache.get(orgId);
  if (hit && hit.until > now) return hit.plan;
  const stored = await getOrgPlan(db, orgId);
  const plan = isPlan(stored) ? stored : null;
  remember(planCache, orgId, { plan, until: now + LIMITS.PLAN_CACHE_TTL_MS });
  return plan;
}

export interface QuotaDecision {
  admitted: boolean;
  plan: Plan;
  quota: number;
  /** Requests counted today, this one included. */
  used: number;
  /** When the day's count starts again (the next UTC midnight), in ms. */
  resetAt: number;
  /** Seconds from now to resetAt (at least 1). */
  retryAfter: number;
}

/** Counts a request of the org against its plan; null when the org has no plan (nothing counted). */
export async function admitRequest(db: D1Database, orgId: string): Promise<QuotaDecision | null> {
  const plan = await orgPlan(db, orgId);
  if (!plan) return null;
  const now = planClock.now();
  const day = utcDay(now);
  const quota = PLAN_QUOTAS[plan];
  const resetAt = nextUtcMidnight(now);
  const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000));
  const known = exhausted.get(orgId);
  if (known && known.plan === plan && known.day === day)
    return { admitted: false, plan, quota, used: quota + 1, resetAt, retryAfter };
  const used = await countRequest(db, orgId, day);
  const admitted = used <= quota;
  if (admitted) exhausted.delete(orgId);
  else remember(exhausted, orgId, { plan, day });
  return { admitted, plan, quota, used, resetAt, retryAfter };
}

/** Sets or clears a registered org's plan; false when the org is unknown or deleted. */
export async function changeOrgPlan(db: D1Database, orgId: string, plan: Plan | null): Promise<boolean> {
  const ok = await setOrgPlan(db, orgId, plan);
  planCache.delete(orgId);
  exhausted.delete(orgId);
  return ok;
}

/** The org's plan, quota and today's count, with the counts of the last days. */
export async function orgUsage(db: D1Database, orgId: string) {
  const stored = await getOrgPlan(db, orgId);
  const plan = isPlan(stored) ? stored : null;
  const now = planClock.now();
  const today = utcDay(now);
  const history = await usageSince(db, orgId, utcDay(now - (LIMITS.PLAN_USAGE_HISTORY_DAYS - 1) * DAY_MS));
  const quota = plan ? PLAN_QUOTAS[plan] : null;
  const requests = history.find((h) => h.day === today)?.requests ?? 0;
  return {
    org_id: orgId,
    plan,
    daily_quota: quota,
    day: today,
    // Admitted requests (refused attempts are counted too, but the quota caps what was served).
    requests: quota === null ? requests : Math.min(requests, quota),
    remaining: quota === null ? null : Math.max(0, quota - requests),
    resets_at: new Date(nextUtcMidnight(now)).toISOString(),
    history,
  };
}
