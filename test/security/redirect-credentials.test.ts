/**
 * Issue 24 item 3: every outbound call follows a redirect to another origin without `Authorization`, `Cookie`,
 * `Proxy-Authorization` or any header that carried a connection secret. Every fetch of the Worker goes through
 * lib/outbound.ts `safeFetch`; each caller is exercised on its own: safeFetch itself, the providers' requester
 * (a tool call on an `http` connection), the actions' HTTP call (performHttpCall) and the AI SDK's fetch (a model
 * call through /v1/llm/respond). The sink answers `/redirect?to=<url>` with a 302; the target is
 * `https://sink.test/...`, another origin (scheme) of the same allowed host, so the outbound policy lets it through
 * and the sink records what arrived there.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { performHttpCall } from "../../src/actions/http-call";
import type { ActionContext } from "../../src/actions/types";
import { safeFetch } from "../../src/lib/outbound";
import { outboundFetch } from "../../src/llm/fetch";
import { call } from "../helpers";
import { sinkRequests, sinkReset } from "../support/engine";
import { llmConnection, uniqueTag } from "../llm/support";

beforeEach(sinkReset);

const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization", "x-api-key"];

/** A URL that redirects (302) to another origin, where the sink records the request under `landedPath`. */
const crossOrigin = (landedPath: string) =>
  `http://sink.test/redirect?to=${encodeURIComponent(`https://sink.test${landedPath}`)}`;

async function landed(path: string) {
  const hits = (await sinkRequests(path)).filter((r) => r.url.startsWith("https://"));
  expect(hits.length, `nothing arrived at ${path}`).toBe(1);
  return hits[0];
}

const leaked = (headers: Record<string, string>, secrets: string[]) =>
  Object.entries(headers)
    .filter(([k, v]) => CREDENTIAL_HEADERS.includes(k) || secrets.some((s) => v.includes(s)))
    .map(([k]) => k);

describe("redirects to another origin drop credentials (item 3)", () => {
  it("safeFetch: Authorization, Cookie, Proxy-Authorization and secret-bearing headers are not sent on", async () => {
    const path = `/landed/${uniqueTag()}`;
    const res = await safeFetch(
      crossOrigin(path),
      {
        method: "POST",
        headers: {
          authorization: "Bearer sf-secret-bearer",
          cookie: "session=sf-secret-cookie",
          "proxy-authorization": "Basic sf-secret-proxy",
          "x-vendor-auth": "sf-secret-custom",
          "content-type": "application/json",
        },
        body: JSON.stringify({ hello: "world" }),
      },
      { allowedHosts: env.ALLOWED_OUTBOUND_HOSTS, secrets: ["sf-secret-custom"] },
    );
    expect(res.status).toBe(200);
    const hit = await landed(path);
    expect(leaked(hit.headers, ["sf-secret"])).toEqual([]);
    // What is not a credential still goes: the method, the body and its type.
    expect(hit.method).toBe("POST");
    expect(hit.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(hit.body)).toEqual({ hello: "world" });
  });

  it("safeFetch: a redirect within the same origin keeps the headers", async () => {
    const path = `/landed/${uniqueTag()}`;
    await safeFetch(
      `http://sink.test/redirect?to=${encodeURIComponent(`http://sink.test${path}`)}`,
      { method: "GET", headers: { authorization: "Bearer same-origin" } },
      { allowedHosts: env.ALLOWED_OUTBOUND_HOSTS },
    );
    const hit = (await sinkRequests(path))[0];
    expect(hit.headers.authorization).toBe("Bearer same-origin");
  });

  it("providers: a tool call on an http connection (a header credential of any name) follows the redirect without it", async () => {
    const org = `redir-prov-${uniqueTag()}`;
    const created = await call("POST", "/v1/connections", {
      org,
      body: {
        platform: "http",
        name: "api",
        config: { base_url: "http://sink.test", auth: { type: "header", name: "X-Vendor-Auth", value: "prov-secret-value" } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/landed/${uniqueTag()}`;
    const res = await call("POST", "/v1/tools/call", {
      org,
      body: { name: "http_request", arguments: { method: "GET", path: "/redirect", query: { to: `https://sink.test${path}` } } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const hit = await landed(path);
    expect(leaked(hit.headers, ["prov-secret-value"])).toEqual([]);
  });

  it("providers: a bearer credential is not sent on either", async () => {
    const org = `redir-bearer-${uniqueTag()}`;
    const created = await call("POST", "/v1/connections", {
      org,
      body: {
        platform: "http",
        name: "api",
        config: { base_url: "http://sink.test", auth: { type: "bearer", token: "prov-bearer-secret" } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/landed/${uniqueTag()}`;
    const res = await call("POST", "/v1/tools/call", {
      org,
      body: {
        name: "http_request",
        arguments: { method: "POST", path: "/redirect", query: { to: `https://sink.test${path}` }, body: { a: 1 } },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const hit = await landed(path);
    expect(leaked(hit.headers, ["prov-bearer-secret"])).toEqual([]);
  });

  it("actions: an HTTP call's own Authorization header is not sent to the other origin", async () => {
    const path = `/landed/${uniqueTag()}`;
    const ctx = { env, idempotencyKey: "exec:action", now: Date.now() } as unknown as ActionContext;
    const result = await performHttpCall(
      ctx,
      {
        url: crossOrigin(path),
        method: "POST",
        headers: { Authorization: "Bearer action-secret", "X-Api-Key": "action-key-secret" },
        body: { ok: true },
      },
      "TRIGGER_WEBHOOK_ERROR",
    );
    expect(result.kind).toBe("success");
    const hit = await landed(path);
    expect(leaked(hit.headers, ["action-secret", "action-key-secret"])).toEqual([]);
  });

  it("LLM: the AI SDK's fetch does not send the API key to the other origin", async () => {
    const path = `/landed/${uniqueTag()}`;
    const fetch = outboundFetch(env, 10_000);
    const res = await fetch(
      new Request(crossOrigin(path), { method: "POST", headers: { authorization: "Bearer sk-llm-secret" }, body: "{}" }),
    );
    expect(res.status).toBe(200);
    const hit = await landed(path);
    expect(leaked(hit.headers, ["sk-llm-secret"])).toEqual([]);
  });

  it("LLM: a model call whose base_url redirects reaches the model without the connection's key", async () => {
    const org = `redir-llm-${uniqueTag()}`;
    const tag = uniqueTag();
    const target = `https://sink.test/llm/chat/${tag}`;
    const conn = await llmConnection("chat", {
      org,
      config: { base_url: `http://sink.test/redirect?to=${encodeURIComponent(target)}` },
    });
    expect(conn.id).toBeTruthy();
    const res = await call("POST", "/v1/llm/respond", { org, body: { content: "hello" } });
    const hits = (await sinkRequests(`/llm/chat/${tag}`)).filter((r) => r.url.startsWith("https://"));
    expect(hits.length, JSON.stringify(res.body)).toBeGreaterThan(0);
    for (const hit of hits) expect(leaked(hit.headers, ["sk-good-openai-key"])).toEqual([]);
  });
});
