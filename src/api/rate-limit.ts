import type { Context, MiddlewareHandler, Next } from "hono";
import { errorBody } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { webhookFlowOrgId } from "../store/flow-cache";
import type { AppEnv } from "./context";

/**
 * Rate limits, on Cloudflare's Workers Rate Limiting bindings (wrangler.toml `[[ratelimits]]`; each counts
 * per key per period, per Cloudflare location; Miniflare simulates them locally):
 *   RL_AUTH_FAILURES  bad credentials per client IP (CF-Connecting-IP)
 *   RL_API_KEY        API calls per credential (API key, or JWT user)       RL_API_ORG      ... per organization
 *   RL_TRIGGER_KEY    execution starts per credential, webhooks per endpoint RL_TRIGGER_ORG  ... per organization
 * A refusal is 429 with `Retry-After` and the common error body. The superuser key (the operator's own) is
 * not limited per key or org; bad credentials are limited for everyone. A missing binding means no limit.
 */

/**
 * Clients whose bad credentials hit the limit, with the time (ms) their block ends. Kept in the isolate so a
 * blocked client is refused before its credentials are even checked: a correct guess made while blocked
 * does not get in. Other isolates learn it from the binding on the client's next failure.
 */
const blockedUntil = new Map<string, number>();

/** The client's IP as Cloudflare reports it; null for requests that did not come through the edge (service bindings, tests). */
export function clientIp(headers: Headers): string | null {
  const ip = headers.get("cf-connecting-ip")?.trim();
  return ip ? ip.slice(0, 64) : null;
}

function tooMany(c: Context<AppEnv>, code: string, message: string, retryAfterSeconds: number): Response {
  c.header("Retry-After", String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return c.json(errorBody(code, message, [{ message: `Retry after ${Math.max(1, Math.ceil(retryAfterSeconds))} s` }]), 429);
}

/** 429 when this client is blocked for bad credentials; null to go on. Runs before the credentials are checked. */
export function authFailureGate(c: Context<AppEnv>): Response | null {
  const ip = clientIp(c.req.raw.headers);
  const until = ip ? blockedUntil.get(ip) : undefined;
  if (!ip || until === undefined) return null;
  const left = until - Date.now();
  if (left <= 0) {
    blockedUntil.delete(ip);
    return null;
  }
  return tooMany(c, "TOO_MANY_AUTH_FAILURES", "Too many requests with invalid credentials from this client", left / 1000);
}

/** Counts a request with invalid credentials; 429 (and a block) when the client passed its limit, else null (401 follows). */
export async function recordAuthFailure(c: Context<AppEnv>): Promise<Response | null> {
  const ip = clientIp(c.req.raw.headers);
  const limiter = c.env.RL_AUTH_FAILURES;
  if (!ip || !limiter) return null;
  if ((await limiter.limit({ key: `ip:${ip}` })).success) return null;
  if (blockedUntil.size >= LIMITS.MAX_BLOCKED_AUTH_CLIENTS) blockedUntil.delete(blockedUntil.keys().next().value!);
  blockedUntil.set(ip, Date.now() + LIMITS.RATE_LIMIT_PERIOD_SECONDS * 1000);
  return tooMany(
    c,
    "TOO_MANY_AUTH_FAILURES",
    "Too many requests with invalid credentials from this client",
    LIMITS.RATE_LIMIT_PERIOD_SECONDS,
  );
}

interface Check {
  limiter: RateLimit | undefined;
  key: string;
  what: string;
}

/** Runs the checks together; the first refusal (in order) names what was limited. */
async function firstRefusal(checks: Check[]): Promise<Check | null> {
  const active = checks.filter((ch) => ch.limiter);
  const outcomes = await Promise.all(active.map((ch) => ch.limiter!.limit({ key: ch.key })));
  const i = outcomes.findIndex((o) => !o.success);
  return i < 0 ? null : active[i];
}

/**
 * After authentication: per-credential and per-org limits on API calls, and on triggers in addition when the
 * matched route's definition counts it as one (`trigger`, from api/route-meta.ts countsAsTrigger).
 */
export async function apiRateLimit(c: Context<AppEnv>, next: Next, trigger: boolean): Promise<Response | void> {
  const principal = c.get("principal");
  if (!principal || principal.kind === "superuser") return next();
  const env = c.env;
  const credential = principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.orgId}:${principal.userId}`;
  const who = principal.apiKeyId ? "this API key" : "this user";
  const org = `org:${principal.orgId}`;
  const checks: Check[] = [
    { limiter: env.RL_API_KEY, key: credential, what: `API calls of ${who}` },
    { limiter: env.RL_API_ORG, key: org, what: "API calls of this organization" },
  ];
  if (trigger) {
    checks.push(
      { limiter: env.RL_TRIGGER_KEY, key: credential, what: `executions started by ${who}` },
      { limiter: env.RL_TRIGGER_ORG, key: org, what: "executions started in this organization" },
    );
  }
  const refused = await firstRefusal(checks);
  if (refused) return tooMany(c, "RATE_LIMITED", `Rate limit exceeded: ${refused.what}`, LIMITS.RATE_LIMIT_PERIOD_SECONDS);
  return next();
}

/**
 * The trigger limits alone, for a route whose body decides whether it starts work (an MCP `tools/call` on POST
 * /mcp, which apiRateLimit counted as an API call): the 429 response, or null to go on.
 */
export async function triggerLimitRefusal(c: Context<AppEnv>): Promise<Response | null> {
  const principal = c.get("principal");
  if (!principal || principal.kind === "superuser") return null;
  const credential = principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.orgId}:${principal.userId}`;
  const who = principal.apiKeyId ? "this API key" : "this user";
  const refused = await firstRefusal([
    { limiter: c.env.RL_TRIGGER_KEY, key: credential, what: `executions started by ${who}` },
    { limiter: c.env.RL_TRIGGER_ORG, key: `org:${principal.orgId}`, what: "executions started in this organization" },
  ]);
  return refused ? tooMany(c, "RATE_LIMITED", `Rate limit exceeded: ${refused.what}`, LIMITS.RATE_LIMIT_PERIOD_SECONDS) : null;
}

/** Inbound webhooks (no credentials): limited per endpoint (flow) and per owning organization, as triggers. */
export const webhookRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== "POST") return next();
  const flowId = c.req.path.split("/")[3];
  const env = c.env;
  if (!flowId || (!env.RL_TRIGGER_KEY && !env.RL_TRIGGER_ORG)) return next();
  const orgId = env.RL_TRIGGER_ORG ? await webhookFlowOrgId(env, flowId) : null;
  const refused = await firstRefusal([
    { limiter: env.RL_TRIGGER_KEY, key: `webhook:${flowId}`, what: "calls of this webhook" },
    // An unknown flow has no org: the handler answers 404.
    { limiter: orgId ? env.RL_TRIGGER_ORG : undefined, key: `org:${orgId}`, what: "executions started in this organization" },
  ]);
  if (refused) return tooMany(c, "RATE_LIMITED", `Rate limit exceeded: ${refused.what}`, LIMITS.RATE_LIMIT_PERIOD_SECONDS);
  return next();
};
