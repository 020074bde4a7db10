import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { BASE, apiKey } from "../helpers";

/**
 * POST /mcp runs under the API's rate limits, and a tools/call also under the trigger limits (as POST
 * /v1/tools/call does). The app is called with the test-only limiter of 5 per minute swapped in
 * (vitest.config.ts), as test/security/rate-limits.test.ts does; a fresh API key per test keeps counts apart.
 */

const limiters = env as unknown as { RL_TEST_5: RateLimit };

async function post(overrides: Partial<Env>, key: string, message: unknown) {
  const ctx = createExecutionContext();
  const req = new Request(`${BASE}/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(message),
  });
  const res = await createApp().fetch(req, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
}

const toolCall = (i: number) => ({
  jsonrpc: "2.0",
  id: i,
  method: "tools/call",
  params: { name: "send_notification", arguments: { user_id: "u", title: "t", message: `m${i}` } },
});

describe("MCP rate limits", () => {
  it("counts tools/call as a trigger: 429 with Retry-After once the trigger limit is spent", async () => {
    const key = await apiKey("mcp-rl-1", ["automations:read", "automations:trigger"]);
    const limits = {
      RL_TRIGGER_KEY: limiters.RL_TEST_5,
      RL_TRIGGER_ORG: undefined,
      RL_API_KEY: undefined,
      RL_API_ORG: undefined,
    };
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof post>> | null = null;
    for (let i = 0; i < 11 && !refused; i++) {
      const res = await post(limits, key, toolCall(i));
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(refused, `no 429 in ${statuses}`).not.toBeNull();
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused!.body.error).toMatchObject({ code: "RATE_LIMITED", message: expect.stringContaining("executions started") });
  });

  it("does not count listing as a trigger, but counts it as an API call", async () => {
    const key = await apiKey("mcp-rl-2", ["automations:read", "automations:trigger"]);
    const list = (i: number) => ({ jsonrpc: "2.0", id: i, method: "tools/list" });
    const triggerOnly = {
      RL_TRIGGER_KEY: limiters.RL_TEST_5,
      RL_TRIGGER_ORG: undefined,
      RL_API_KEY: undefined,
      RL_API_ORG: undefined,
    };
    for (let i = 0; i < 12; i++) expect((await post(triggerOnly, key, list(i))).status).toBe(200);

    const apiLimited = {
      RL_API_KEY: limiters.RL_TEST_5,
      RL_API_ORG: undefined,
      RL_TRIGGER_KEY: undefined,
      RL_TRIGGER_ORG: undefined,
    };
    const statuses: number[] = [];
    for (let i = 0; i < 11 && !statuses.includes(429); i++) statuses.push((await post(apiLimited, key, list(i))).status);
    expect(statuses).toContain(429);
  });
});
