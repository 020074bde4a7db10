import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { planClock } from "../../src/services/plans";
import { ADMIN_KEY, BASE } from "../helpers";

vi.setConfig({ testTimeout: 60_000 });

/**
 * Plans: free (100 requests a UTC day) and pro (10,000) quotas per organization, set by the superuser, answered
 * with 429 + Retry-After to the next UTC midnight; orgs without a plan are unlimited and cost no plan statement
 * per request. The quota day's clock (planClock) is moved on purpose, never waited for.
 */

const app = createApp();
let n = 0;
const newOrg = () => `plan-${++n}-${crypto.randomUUID().slice(0, 6)}`;

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

async function send(
  method: string,
  path: string,
  opts: { token?: string; org?: string; body?: unknown; db?: D1Database } = {},
): Promise<Res> {
  const headers: Record<string, string> = opts.token
    ? { authorization: `Bearer ${opts.token}` }
    : { "x-key": ADMIN_KEY, "x-org-id": opts.org ?? "default" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const req = new Request(`${BASE}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const res = await app.fetch(req, { ...env, ...(opts.db ? { DB: opts.db } : {}) } as Env, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function keyOf(org: string, scopes: string[]): Promise<string> {
  const res = await send("POST", "/v1/api-keys", { org, body: { name: "k", scopes } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key;
}

/** Registers the org (a plan is set only on a registered organization; 409 when it already is), then sets the plan. */
async function setPlan(org: string, plan: string | null) {
  const created = await send("POST", "/v1/organizations", { body: { id: org } });
  expect([201, 409]).toContain(created.status);
  return send("PUT", `/v1/organizations/${org}/plan`, { body: { plan } });
}

/** A D1 binding that records the SQL of every statement prepared through it. */
function countingDb(): { db: D1Database; sql: string[] } {
  const sql: string[] = [];
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          sql.push(query);
          return target.prepare(query);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { db, sql };
}

const realNow = planClock.now;
afterEach(() => {
  planClock.now = realNow;
});

describe("organizations without a plan", () => {
  it("are unlimited, count nothing, and read their plan once per isolate cache period", async () => {
    const org = newOrg();
    const key = await keyOf(org, ["automations:read"]);
    const first = countingDb();
    expect((await send("GET", "/v1/workflows", { token: key, db: first.db })).status).toBe(200);
    const second = countingDb();
    for (let i = 0; i < 3; i++) {
      const res = await send("GET", "/v1/workflows", { token: key, db: second.db });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBeNull();
    }
    const planSql = (sql: string[]) => sql.filter((q) => /SELECT plan FROM organizations|org_daily_usage/.test(q));
    expect(planSql(first.sql)).toHaveLength(1);
    expect(planSql(second.sql)).toEqual([]);
    const usage = await send("GET", `/v1/organizations/${org}/usage`, { token: key });
    expect(usage.body).toMatchObject({ org_id: org, plan: null, daily_quota: null, remaining: null, history: [] });
  });
});

describe("the free plan", () => {
  it("serves 100 requests a UTC day, then 429 with Retry-After to midnight; the next day starts again", async () => {
    const org = newOrg();
    const key = await keyOf(org, ["automations:read"]);
    const set = await setPlan(org, "free");
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ org_id: org, plan: "free", daily_quota: 100, requests: 0, remaining: 100 });
    const evening = Date.parse("2031-03-04T23:58:30Z");
    planClock.now = () => evening;
    for (let i = 1; i <= 100; i++) {
      const res = await send("GET", "/v1/workflows", { token: key });
      expect(res.status, `request ${i}`).toBe(200);
      if (i === 1 || i === 100) {
        expect(res.headers.get("x-ratelimit-limit")).toBe("100");
        expect(res.headers.get("x-ratelimit-remaining")).toBe(String(100 - i));
      }
    }
    const refused = await send("GET", "/v1/workflows", { token: key });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("90");
    expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(refused.body.error).toMatchObject({
      code: "DAILY_QUOTA_EXCEEDED",
      message: expect.stringMatching(/free plan \(100 requests per UTC day\)/),
      details: [{ message: "Retry after 90 s (the next UTC midnight)" }],
    });
    // Every route of the API counts, writes included; the superuser key is never limited.
    expect((await send("POST", "/v1/workflows", { token: key, body: { name: "x", steps: [] } })).status).toBe(429);
    expect((await send("GET", "/v1/workflows", { org })).status).toBe(200);
    const usage = await send("GET", `/v1/organizations/${org}/usage`, { org });
    expect(usage.body).toMatchObject({ day: "2031-03-04", requests: 100, remaining: 0, resets_at: "2031-03-05T00:00:00.000Z" });

    // A minute later it is the next UTC day: the count starts again.
    planClock.now = () => evening + 120_000;
    const next = await send("GET", "/v1/workflows", { token: key });
    expect(next.status).toBe(200);
    expect(next.headers.get("x-ratelimit-remaining")).toBe("99");
    const after = await send("GET", `/v1/organizations/${org}/usage`, { token: key });
    expect(after.body).toMatchObject({ day: "2031-03-05", requests: 2, remaining: 98 });
    expect(after.body.history[0]).toEqual({ day: "2031-03-05", requests: 2 });
    expect(after.body.history[1].day).toBe("2031-03-04");
  });

  it("upgrading to pro or clearing the plan lifts the refusal at once", async () => {
    const org = newOrg();
    const key = await keyOf(org, ["automations:read"]);
    planClock.now = () => Date.parse("2031-06-01T12:00:00Z");
    await setPlan(org, "free");
    for (let i = 0; i < 100; i++) await send("GET", "/v1/workflows", { token: key });
    const refused = await send("GET", "/v1/workflows", { token: key });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe(String(12 * 3600));
    const pro = await setPlan(org, "pro");
    expect(pro.body).toMatchObject({ plan: "pro", daily_quota: 10_000 });
    const ok = await send("GET", "/v1/workflows", { token: key });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-limit")).toBe("10000");
    await setPlan(org, "free");
    expect((await send("GET", "/v1/workflows", { token: key })).status).toBe(429);
    const cleared = await setPlan(org, null);
    expect(cleared.body).toMatchObject({ plan: null, daily_quota: null });
    const free = await send("GET", "/v1/workflows", { token: key });
    expect(free.status).toBe(200);
    expect(free.headers.get("x-ratelimit-limit")).toBeNull();
  });
});

describe("plan and usage operations", () => {
  it("only the superuser sets a plan; bad input is 400; a deleted organization is 404", async () => {
    const org = newOrg();
    const admin = await keyOf(org, ["admin"]);
    expect((await send("PUT", `/v1/organizations/${org}/plan`, { token: admin, body: { plan: "pro" } })).status).toBe(403);
    for (const body of [{ plan: "gold" }, {}, { plan: "free", extra: 1 }]) {
      expect((await send("PUT", `/v1/organizations/${org}/plan`, { body })).status, JSON.stringify(body)).toBe(400);
    }
    expect((await send("PUT", "/v1/organizations/bad%20id/plan", { body: { plan: "free" } })).status).toBe(400);
    expect((await send("GET", `/v1/organizations/${org}/usage`, { org })).body.plan).toBeNull();
    const gone = newOrg();
    expect((await send("DELETE", `/v1/organizations/${gone}`)).status).toBe(200);
    expect((await setPlan(gone, "free")).status).toBe(404);
    expect((await send("GET", `/v1/organizations/${gone}/usage`, { org: gone })).status).toBe(404);
    // An id never registered gets no plan and no organization row: 404, nothing created.
    const unknown = newOrg();
    expect((await send("PUT", `/v1/organizations/${unknown}/plan`, { body: { plan: "pro" } })).status).toBe(404);
    expect(await env.DB.prepare(`SELECT 1 FROM organizations WHERE id = ?`).bind(unknown).first()).toBeNull();
  });

  it("an organization reads its own usage with automations:read; another's is 404", async () => {
    const org = newOrg();
    const other = newOrg();
    await setPlan(other, "pro");
    const reader = await keyOf(org, ["automations:read"]);
    const writer = await keyOf(org, ["automations:write"]);
    expect((await send("GET", `/v1/organizations/${org}/usage`, { token: reader })).status).toBe(200);
    expect((await send("GET", `/v1/organizations/${other}/usage`, { token: reader })).status).toBe(404);
    expect((await send("GET", `/v1/organizations/${org}/usage`, { token: writer })).status).toBe(403);
    // The superuser reads an organization's usage in that organization (x-org-id), like any of its data.
    const superuser = await send("GET", `/v1/organizations/${other}/usage`, { org: other });
    expect(superuser.body).toMatchObject({ org_id: other, plan: "pro", daily_quota: 10_000 });
    expect((await send("GET", `/v1/organizations/${other}/usage`, { org })).status).toBe(404);
  });
});
