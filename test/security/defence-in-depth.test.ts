/**
 * Issue 24 item 10, defence in depth (conversation ownership is in conversation-ownership.test.ts):
 *  - execution reads and controls check the organization inside the object call, not only in the caller;
 *  - `x-request-id` is validated (at most 128 characters of a safe alphabet, else a fresh id) and never becomes a
 *    vendor idempotency key;
 *  - a retriggered execution counts once in the flow statistics and the circuit breaker: its latest outcome;
 *  - request paths are redacted (URL tokens) in the engine's logs;
 *  - `global_fetch_strictly_public` is a compatibility flag of the Worker, and outbound calls still reach the sink;
 *  - Coherence's logs read at most LIMITS.MAX_PARALLEL_EXECUTION_READS executions at once.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import wranglerToml from "../../wrangler.toml?raw";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { LIMITS } from "../../src/lib/limits";
import { safeFetch } from "../../src/lib/outbound";
import type { ExecutionSnapshot } from "../../src/contracts/execution-object";
import { BASE, call } from "../helpers";
import { SINK, createFlow, drive, executionStub, sinkRequests, sinkReset, startExec } from "../support/engine";

beforeEach(sinkReset);

describe("the execution object checks the organization itself", () => {
  it("reads and controls naming another organization are refused inside the object (404 / null), nothing changes", async () => {
    const flow = await createFlow({
      flow_name: "org check",
      actions: [{ id: "ask", type: "custom-action", config: { wait_for_callback: true, url: `${SINK}/org-check-approve` } }],
    });
    const id = await startExec(flow.id);
    expect((await drive(id)).execution_status).toBe("paused");
    const token = JSON.parse((await sinkRequests("/org-check-approve"))[0].body).resume_token as string;
    const stub = executionStub(id);

    expect(await stub.snapshot("org-b")).toBeNull();
    expect(((await stub.snapshot("org-a")) as unknown as ExecutionSnapshot).state.status).toBe("paused");
    expect(await stub.cancel("org-b", "not yours")).toMatchObject({ ok: false, status: 404 });
    expect(await stub.retrigger("org-b", "ask", "RETRY_AND_RESUME")).toMatchObject({ ok: false, status: 404 });
    expect(await stub.cancelSchedule("org-b", "s1")).toMatchObject({ ok: false, status: 404 });
    expect(await stub.resume("org-b", token)).toMatchObject({ ok: false, status: 404 });
    expect(((await stub.snapshot("org-a")) as unknown as ExecutionSnapshot).state.status).toBe("paused");
    // The owner's calls work (the token was not used up by the refused resume).
    expect(await stub.resume("org-a", token)).toMatchObject({ ok: true });
  });
});

describe("x-request-id", () => {
  const requestId = async (value: string) => {
    const res = await call("GET", "/v1/automation/flows", { headers: { "x-request-id": value } });
    expect(res.status).toBe(200);
    return res.headers.get("x-request-id");
  };

  it("a valid one is kept; one too long or with other characters is replaced by a fresh id", async () => {
    expect(await requestId("req-1_2.3:abc")).toBe("req-1_2.3:abc");
    expect(await requestId("a".repeat(128))).toBe("a".repeat(128));
    for (const bad of ["a".repeat(129), "two words", "<script>", "pipe|char", "semi;colon"]) {
      const got = await requestId(bad);
      expect(got).not.toBe(bad);
      expect(got).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("never becomes a vendor's idempotency key: two tool calls with the same x-request-id send different keys", async () => {
    const org = `req-id-${crypto.randomUUID().slice(0, 8)}`;
    const conn = await call("POST", "/v1/connections", {
      org,
      body: {
        platform: "http",
        name: "api",
        config: { base_url: `${SINK}/req-id-vendor`, auth: { type: "bearer", token: "tok-req-id-1" } },
      },
    });
    expect(conn.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const res = await call("POST", "/v1/tools/call", {
        org,
        headers: { "x-request-id": "chosen-by-the-caller" },
        body: { name: "http_request", arguments: { method: "POST", path: "/x", body: { i } } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const keys = (await sinkRequests("/req-id-vendor")).map((r) => r.headers["idempotency-key"]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBeTruthy();
    expect(keys[0]).not.toBe(keys[1]);
    for (const k of keys) expect(k).not.toContain("chosen-by-the-caller");
  });
});

describe("a retriggered execution counts once in the flow statistics and the circuit breaker", () => {
  const stats = async (flowId: string) => (await call("GET", `/v1/automation/flows/${flowId}`)).body;

  it("failed, retriggered, succeeded: one run, counted as a success", async () => {
    const flow = await createFlow({
      flow_name: "retrigger counts once",
      retry_policy: { max_attempts: 1 },
      actions: [{ id: "h", type: "call_webhook", config: { url: `${SINK}/flaky/1/counts-once-${crypto.randomUUID()}` } }],
    });
    const t0 = Date.parse("2026-05-01T08:00:00Z");
    const id = await startExec(flow.id);
    expect((await drive(id, t0)).execution_status).toBe("failed");
    expect(await stats(flow.id)).toMatchObject({ runs: 1, consecutive_failures: 1, success_rate: 0 });
    expect((await call("POST", `/v1/automation/executions/${id}/h/retrigger`, { body: {} })).status).toBe(200);
    expect((await drive(id, t0 + 1000)).execution_status).toBe("success");
    expect(await stats(flow.id)).toMatchObject({ runs: 1, consecutive_failures: 0, success_rate: 1 });
  });

  it("failed twice by retriggers: one failure, the circuit breaker does not count it again", async () => {
    const flow = await createFlow({
      flow_name: "retrigger breaker",
      retry_policy: { max_attempts: 1 },
      error_handling: { disable_after_failures: 2 },
      actions: [{ id: "h", type: "call_webhook", config: { url: `${SINK}/status/500` } }],
    });
    const t0 = Date.parse("2026-05-01T09:00:00Z");
    const id = await startExec(flow.id);
    expect((await drive(id, t0)).execution_status).toBe("failed");
    for (let i = 1; i <= 2; i++) {
      expect((await call("POST", `/v1/automation/executions/${id}/h/retrigger`, { body: {} })).status).toBe(200);
      expect((await drive(id, t0 + i * 1000)).execution_status).toBe("failed");
    }
    expect(await stats(flow.id)).toMatchObject({ runs: 1, consecutive_failures: 1, enabled: true });
  });
});

describe("request paths are redacted in logs", () => {
  it("redactPath hides URL tokens and credential-like query values", async () => {
    const { redactPath } = await import("../../src/lib/redact");
    const token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde";
    expect(redactPath(`/v1/webhooks/f1/incoming.${token}`)).toBe("/v1/webhooks/f1/incoming.[redacted]");
    expect(redactPath(`/v1/webhooks/f1/plain-path`)).toBe("/v1/webhooks/f1/plain-path");
    expect(redactPath(`/v1/x?token=${token}&page=2`)).toBe("/v1/x?token=[redacted]&page=2");
    expect(redactPath(`/v1/x?api_key=secret1&signature=s&resume_token=r`)).toBe(
      "/v1/x?api_key=[redacted]&signature=[redacted]&resume_token=[redacted]",
    );
  });

  it("an unhandled error on a webhook URL with a token is logged without the token", async () => {
    const token = "ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210_-zyxwv";
    const lines: string[] = [];
    const spies = (["error", "warn", "log"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      }),
    );
    const broken = {
      prepare: () => {
        throw new Error("D1 is down");
      },
      batch: () => Promise.reject(new Error("D1 is down")),
    } as unknown as D1Database;
    try {
      const ctx = createExecutionContext();
      const res = await createApp().fetch(
        new Request(`${BASE}/v1/webhooks/00000000-0000-4000-8000-000000000000/incoming.${token}`, { method: "POST", body: "{}" }),
        { ...env, DB: broken } as Env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(500);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const logged = lines.join("\n");
    expect(logged).toContain("/v1/webhooks/");
    expect(logged).not.toContain(token);
  });
});

describe("global_fetch_strictly_public", () => {
  it("is a compatibility flag of the Worker (wrangler.toml), with the compatibility date workerd accepts", () => {
    const flags = /^compatibility_flags\s*=\s*\[(.*)\]/m.exec(wranglerToml)?.[1] ?? "";
    expect(flags).toContain('"global_fetch_strictly_public"');
    expect(/^compatibility_date\s*=\s*"2026-11-01"/m.test(wranglerToml)).toBe(true);
  });

  it("outbound calls still reach the test sink under it (the whole suite runs with wrangler.toml's flags)", async () => {
    const res = await safeFetch(`${SINK}/strictly-public-probe`, { method: "GET" }, { allowedHosts: env.ALLOWED_OUTBOUND_HOSTS });
    expect(res.status).toBe(200);
    expect(await sinkRequests("/strictly-public-probe")).toHaveLength(1);
  });
});

describe("Coherence logs read a bounded number of executions at once", () => {
  it("runDetails never has more than MAX_PARALLEL_EXECUTION_READS object reads in flight", async () => {
    let inFlight = 0;
    let most = 0;
    let reads = 0;
    const stub = {
      snapshot: async () => {
        reads++;
        inFlight++;
        most = Math.max(most, inFlight);
        // Let every other started read run up to here before this one ends.
        for (let i = 0; i < 5; i++) await Promise.resolve();
        inFlight--;
        return null;
      },
    };
    const namespace = { idFromName: (n: string) => n, get: () => stub } as unknown as DurableObjectNamespace;
    const ids = Array.from({ length: 100 }, () => crypto.randomUUID());
    const { runDetails } = await import("../../src/services/runs");
    const details = await runDetails({ ...env, EXECUTIONS: namespace } as unknown as Env, "org-a", ids);
    expect(details).toHaveLength(100);
    expect(reads).toBe(100);
    expect(LIMITS.MAX_PARALLEL_EXECUTION_READS).toBeLessThan(LIMITS.MAX_PAGE_SIZE);
    expect(most).toBeLessThanOrEqual(LIMITS.MAX_PARALLEL_EXECUTION_READS);
    expect(most).toBeGreaterThan(1);
  });
});
