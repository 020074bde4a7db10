import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { ADMIN_KEY, BASE, apiKey, call } from "../helpers";

// Bursts and table rows add up on a loaded machine: a generous per-test budget (nothing here waits on time).
vi.setConfig({ testTimeout: 30_000 });

/**
 * Issue 8 items 4 and 5: rate limits on the Workers Rate Limiting bindings (Miniflare's implementation in
 * tests). Bad credentials go through the Worker itself with the limits of wrangler.toml; the API, trigger
 * and webhook limits go through the same app with two test-only limiters of 5 and 8 per minute swapped in
 * for the RL_* bindings (vitest.config.ts), so a burst of a few requests shows each limit.
 *
 * The limiters count in fixed one-minute windows. A window may end during a burst and reset the count, so a
 * burst asserts "the first `limit` requests pass and a 429 comes within 2 × limit + 1": true whatever the
 * phase of the window, for a burst much shorter than a minute.
 */

const limiters = env as unknown as { RL_TEST_5: RateLimit; RL_TEST_8: RateLimit };
const secret = () => new TextEncoder().encode(env.JWT_SECRET!);
let ipSeq = 0;
/** A client IP no other test uses (the limiters' state outlives a test). */
const freshIp = () => `198.51.100.${++ipSeq}-${crypto.randomUUID().slice(0, 8)}`;

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

async function appCall(
  overrides: Partial<Env>,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const req = new Request(`${BASE}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const res = await createApp().fetch(req, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** Sends until the first 429 (at most 2 × limit + 1 requests); returns the statuses and the 429. */
async function burst(limit: number, send: (i: number) => Promise<Res>): Promise<{ statuses: number[]; refused: Res | null }> {
  const statuses: number[] = [];
  for (let i = 0; i < 2 * limit + 1; i++) {
    const res = await send(i);
    statuses.push(res.status);
    if (res.status === 429) return { statuses, refused: res };
  }
  return { statuses, refused: null };
}

function expectRefusal(refused: Res | null, code: string, what: RegExp): void {
  expect(refused, "no 429 within the burst").not.toBeNull();
  const retryAfter = Number(refused!.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(refused!.body.error).toMatchObject({ code, message: expect.stringMatching(what), details: expect.any(Array) });
}

describe("the bindings of wrangler.toml", () => {
  it("are all bound in the Worker", () => {
    for (const name of ["RL_AUTH_FAILURES", "RL_API_KEY", "RL_API_ORG", "RL_TRIGGER_KEY", "RL_TRIGGER_ORG"] as const) {
      expect({ name, bound: typeof env[name]?.limit }).toEqual({ name, bound: "function" });
    }
  });
});

describe("repeated bad credentials from one client (RL_AUTH_FAILURES, 20 per minute per IP)", () => {
  it("answer 401, then 429 with Retry-After; the client stays blocked even with valid credentials", async () => {
    const ip = freshIp();
    const valid = await apiKey("rl-auth", ["automations:read"]);
    const { statuses, refused } = await burst(20, (i) =>
      call("GET", "/v1/automation/flows", { token: i % 2 ? `ak_wrong${i}` : "not.a.jwt", headers: { "cf-connecting-ip": ip } }),
    );
    expect(statuses.slice(0, 20)).toEqual(new Array(20).fill(401));
    expectRefusal(refused, "TOO_MANY_AUTH_FAILURES", /invalid credentials/);
    // Blocked before the credentials are checked: a correct guess made now does not get in.
    const blocked = await call("GET", "/v1/automation/flows", { token: valid, headers: { "cf-connecting-ip": ip } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another client, and the valid key from it, are not affected.
    expect((await call("GET", "/v1/automation/flows", { token: valid, headers: { "cf-connecting-ip": freshIp() } })).status).toBe(
      200,
    );
    expect((await call("GET", "/v1/automation/flows", { token: "bad", headers: { "cf-connecting-ip": freshIp() } })).status).toBe(
      401,
    );
  });

  it("count JWT failures too (an expired token is a bad credential)", async () => {
    const ip = freshIp();
    const expired = await new SignJWT({ org_id: "rl-auth", sub: "u" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(secret());
    const { statuses, refused } = await burst(20, () =>
      call("GET", "/v1/automation/flows", { token: expired, headers: { "cf-connecting-ip": ip } }),
    );
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expectRefusal(refused, "TOO_MANY_AUTH_FAILURES", /invalid credentials/);
  });

  it("do not count requests with valid credentials or without any", async () => {
    const ip = freshIp();
    const valid = await apiKey("rl-auth", ["automations:read"]);
    for (let i = 0; i < 25; i++) {
      expect((await call("GET", "/v1/automation/flows", { token: valid, headers: { "cf-connecting-ip": ip } })).status).toBe(200);
    }
    for (let i = 0; i < 25; i++) {
      expect((await call("GET", "/v1/automation/flows", { token: null, headers: { "cf-connecting-ip": ip } })).status).toBe(401);
    }
  });
});

describe("API calls per credential and per organization", () => {
  const small = () => ({ RL_API_KEY: limiters.RL_TEST_5, RL_API_ORG: limiters.RL_TEST_8 });

  it("limits one API key (5 per minute here) and names it", async () => {
    const key = await apiKey("rl-key", ["automations:read"]);
    const { statuses, refused } = await burst(5, () => appCall(small(), "GET", "/v1/automation/flows", { token: key }));
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expectRefusal(refused, "RATE_LIMITED", /API calls of this API key/);
  });

  it("limits one organization over all its credentials (8 per minute here)", async () => {
    const keys = [await apiKey("rl-org", ["automations:read"]), await apiKey("rl-org", ["automations:read"])];
    const { statuses, refused } = await burst(8, (i) => appCall(small(), "GET", "/v1/automation/flows", { token: keys[i % 2] }));
    expect(statuses.slice(0, 8)).toEqual(new Array(8).fill(200));
    expectRefusal(refused, "RATE_LIMITED", /API calls of this organization/);
    // Another organization is not affected.
    const other = await apiKey("rl-org-other", ["automations:read"]);
    expect((await appCall(small(), "GET", "/v1/automation/flows", { token: other })).status).toBe(200);
  });

  it("limits a JWT user like a key", async () => {
    const token = await new SignJWT({ org_id: "rl-jwt", sub: "alice", scope: "automations:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(secret());
    const { statuses, refused } = await burst(5, () => appCall(small(), "GET", "/v1/automation/flows", { token }));
    expect(statuses.slice(0, 5)).toEqual(new Array(5).fill(200));
    expectRefusal(refused, "RATE_LIMITED", /API calls of this user/);
  });

  it("does not limit the superuser key", async () => {
    for (let i = 0; i < 20; i++) {
      const res = await appCall(small(), "GET", "/v1/automation/flows", { headers: { "x-key": ADMIN_KEY, "x-org-id": "rl-su" } });
      expect(res.status).toBe(200);
    }
  });
});

describe("triggers: execution starts per credential and per organization", () => {
  const triggers = () => ({ RL_TRIGGER_KEY: limiters.RL_TEST_5, RL_TRIGGER_ORG: limiters.RL_TEST_8 });

  it("counts every start attempt, even an invalid one, and not reads", async () => {
    const key = await apiKey("rl-trig", ["automations:read", "automations:trigger"]);
    for (let i = 0; i < 12; i++)
      expect((await appCall(triggers(), "GET", "/v1/automation/flows", { token: key })).status).toBe(200);
    const { statuses, refused } = await burst(5, () =>
      appCall(triggers(), "POST", "/v1/automation/executions", { token: key, body: {} }),
    );
    expect(statuses.slice(0, 5)).toEqual(new Array(5).fill(400));
    expectRefusal(refused, "RATE_LIMITED", /executions started by this API key/);
  });

  it("limits starts over all credentials of an organization, on every trigger route", async () => {
    const keys = [
      await apiKey("rl-trig-org", ["automations:trigger"]),
      await apiKey("rl-trig-org", ["automations:trigger"]),
      await apiKey("rl-trig-org", ["automations:trigger"]),
    ];
    const routes = [
      "/v1/automation/executions",
      "/v1/automation/flows/00000000-0000-4000-8000-000000000000/trigger",
      "/v1/automation/executions/00000000-0000-4000-8000-000000000000/a1/retrigger",
    ];
    const { statuses, refused } = await burst(8, (i) =>
      appCall(triggers(), "POST", routes[i % 3], { token: keys[i % 3], body: { bad: true } }),
    );
    expect(statuses.slice(0, 8).every((s) => s !== 429)).toBe(true);
    expectRefusal(refused, "RATE_LIMITED", /executions started in this organization/);
  });
});

describe("inbound webhooks per endpoint and per organization", () => {
  const queue = { send: async () => undefined, sendBatch: async () => undefined } as unknown as Queue<unknown>;
  const hooks = () => ({ RL_TRIGGER_KEY: limiters.RL_TEST_5, RL_TRIGGER_ORG: limiters.RL_TEST_8, EVENTS_QUEUE: queue });

  async function webhookFlow(org: string, path: string): Promise<string> {
    const res = await call("POST", "/v1/automation/flows", {
      org,
      body: {
        flow_name: path,
        triggers: [{ type: "webhook", configuration: { path, allow_unsigned: true } }],
        actions: [],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  it("limits calls of one webhook", async () => {
    const id = await webhookFlow("rl-hook", "one");
    const { statuses, refused } = await burst(5, (i) =>
      appCall(hooks(), "POST", `/v1/webhooks/${id}/one`, { body: { n: i }, headers: { "idempotency-key": `d-${i}` } }),
    );
    expect(statuses.slice(0, 5)).toEqual(new Array(5).fill(202));
    expectRefusal(refused, "RATE_LIMITED", /calls of this webhook/);
  });

  it("limits calls of all webhooks of one organization", async () => {
    const ids = [await webhookFlow("rl-hook-org", "a"), await webhookFlow("rl-hook-org", "b")];
    const { statuses, refused } = await burst(8, (i) =>
      appCall(hooks(), "POST", `/v1/webhooks/${ids[i % 2]}/${i % 2 ? "b" : "a"}`, {
        body: { n: i },
        headers: { "idempotency-key": `o-${i}` },
      }),
    );
    expect(statuses.slice(0, 8)).toEqual(new Array(8).fill(202));
    expectRefusal(refused, "RATE_LIMITED", /executions started in this organization/);
  });
});
