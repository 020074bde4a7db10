import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { apiKey, call } from "../helpers";
import { sinkRequests, sinkReset } from "../support/engine";
import { CONFIGS, SINK, callTool, connect } from "./support";

beforeEach(sinkReset);

let n = 0;
const org = () => `conn-${++n}`;

describe("connections CRUD", () => {
  it("creates, lists, gets, renames and deletes; credentials are masked everywhere", async () => {
    const o = org();
    const created = await connect("slack", CONFIGS.slack, o, "Marketing Slack");
    expect(created).toMatchObject({
      platform: "slack",
      name: "Marketing Slack",
      status: "active",
      error_message: null,
      config: { bot_token: "********", default_channel: "#general", base_url: `${SINK}/slack` },
      last_tested_at: null,
    });
    const list = await call("GET", "/v1/connections", { org: o });
    expect(list.body).toMatchObject({ total: 1, results: [{ id: created.id, config: { bot_token: "********" } }] });
    const got = await call("GET", `/v1/connections/${created.id}`, { org: o });
    expect(got.body.config.bot_token).toBe("********");
    const renamed = await call("PATCH", `/v1/connections/${created.id}`, { org: o, body: { name: "Sales Slack" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe("Sales Slack");
    // The stored token is unchanged by a rename: a call still authenticates with it.
    expect((await callTool("slack_post_message", { text: "x" }, o)).body.success).toBe(true);
    for (const body of [created, list.body, got.body, renamed.body]) expect(JSON.stringify(body)).not.toContain("xoxb-good");
    const del = await call("DELETE", `/v1/connections/${created.id}`, { org: o });
    expect(del.body).toEqual({ id: created.id, deleted: true });
    expect((await call("GET", `/v1/connections/${created.id}`, { org: o })).status).toBe(404);
    expect((await call("DELETE", `/v1/connections/${created.id}`, { org: o })).status).toBe(404);
  });

  it("filters the list by platform", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    await connect("hubspot", CONFIGS.hubspot, o);
    const res = await call("GET", "/v1/connections?platform=hubspot", { org: o });
    expect(res.body.total).toBe(1);
    expect(res.body.results[0].platform).toBe("hubspot");
  });

  it("a config patch merges: masked or omitted secrets are kept, new ones replace them and reset the status", async () => {
    const o = org();
    const c = await connect("slack", { ...CONFIGS.slack, bot_token: "xoxb-bad-token" }, o);
    expect((await call("POST", `/v1/connections/${c.id}/test`, { org: o })).body.success).toBe(false);
    const kept = await call("PATCH", `/v1/connections/${c.id}`, {
      org: o,
      body: { config: { bot_token: "********", default_channel: "#ops" } },
    });
    expect(kept.body).toMatchObject({ status: "active", config: { default_channel: "#ops", bot_token: "********" } });
    expect((await callTool("slack_post_message", { text: "x" }, o)).body).toMatchObject({
      success: false,
      error: "invalid_auth",
    });
    await call("PATCH", `/v1/connections/${c.id}`, { org: o, body: { config: { bot_token: "xoxb-good-new" } } });
    expect((await callTool("slack_post_message", { text: "x" }, o)).body.success).toBe(true);
    const sent = await sinkRequests("/slack/chat.postMessage");
    expect(sent.map((r) => [r.headers.authorization, JSON.parse(r.body).channel])).toEqual([
      ["Bearer xoxb-bad-token", "#ops"],
      ["Bearer xoxb-good-new", "#ops"],
    ]);
    const removed = await call("PATCH", `/v1/connections/${c.id}`, { org: o, body: { config: { default_channel: null } } });
    expect(removed.body.config.default_channel).toBeUndefined();
  });

  it("a nested secret (http auth) is kept when masked and replaced when its type changes", async () => {
    const o = org();
    const c = await connect("http", CONFIGS.http, o);
    expect(c.config.auth).toEqual({ type: "bearer", token: "********" });
    await call("PATCH", `/v1/connections/${c.id}`, {
      org: o,
      body: { config: { auth: { type: "bearer", token: "********" }, test_path: "/health" } },
    });
    await callTool("http_request", { method: "GET", path: "/a" }, o);
    expect((await sinkRequests("/httpapi/a"))[0].headers.authorization).toBe("Bearer good-http-bearer-token-ijkl");
    const basic = await call("PATCH", `/v1/connections/${c.id}`, {
      org: o,
      body: { config: { auth: { type: "basic", username: "u", password: "good-pass-1234" } } },
    });
    expect(basic.body.config.auth).toEqual({ type: "basic", username: "u", password: "********" });
  });
});

describe("connection tests and status", () => {
  it("tests a config before saving: nothing is stored", async () => {
    const o = org();
    const ok = await call("POST", "/v1/connections/test", { org: o, body: { platform: "slack", config: CONFIGS.slack } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      success: true,
      platform: "slack",
      details: { team: "Acme", team_id: "T0001" },
      error_kind: null,
    });
    const [req] = await sinkRequests("/slack/auth.test");
    expect(req.headers.authorization).toBe("Bearer xoxb-good-slack-token-1234");
    const bad = await call("POST", "/v1/connections/test", {
      org: o,
      body: { platform: "slack", config: { bot_token: "xoxb-bad", base_url: `${SINK}/slack` } },
    });
    expect(bad.body).toMatchObject({ success: false, message: "invalid_auth", error_kind: "auth" });
    expect((await call("GET", "/v1/connections", { org: o })).body.total).toBe(0);
  });

  it("a saved connection's test sets active, error (with error_message) or expired", async () => {
    const o = org();
    const c = await connect("hubspot", { ...CONFIGS.hubspot, access_token: "pat-expired-1" }, o);
    const expired = await call("POST", `/v1/connections/${c.id}/test`, { org: o });
    expect(expired.body).toMatchObject({ success: false, error_kind: "expired", http_status: 401 });
    expect(expired.body.connection).toMatchObject({ status: "expired", error_message: expect.stringContaining("expired") });
    expect(expired.body.connection.last_tested_at).not.toBeNull();
    await call("PATCH", `/v1/connections/${c.id}`, { org: o, body: { config: { access_token: "pat-bad-2" } } });
    const refused = await call("POST", `/v1/connections/${c.id}/test`, { org: o });
    expect(refused.body.connection).toMatchObject({ status: "error", error_message: "Authentication credentials not found." });
    await call("PATCH", `/v1/connections/${c.id}`, { org: o, body: { config: { access_token: "pat-good-3" } } });
    const ok = await call("POST", `/v1/connections/${c.id}/test`, { org: o });
    expect(ok.body).toMatchObject({
      success: true,
      details: { portal_id: 62515 },
      connection: { status: "active", error_message: null },
    });
  });

  it("each provider's auth check against its vendor", async () => {
    const o = org();
    const expectations: Record<string, Record<string, unknown>> = {
      slack: { team: "Acme" },
      hubspot: { portal_id: 62515 },
      google_calendar: { calendar_id: "team@acme.test", time_zone: "Europe/Berlin" },
      resend: { restricted: false, domains: 1 },
      twilio: { friendly_name: "Acme", status: "active" },
      discord: { name: "Alerts", channel_id: "C77" },
      teams: { verified: false },
      http: { status: 200 },
    };
    for (const [platform, details] of Object.entries(expectations)) {
      const res = await call("POST", "/v1/connections/test", {
        org: o,
        body: { platform, config: CONFIGS[platform as keyof typeof CONFIGS] },
      });
      expect(res.body, platform).toMatchObject({ success: true, details });
    }
    const sendOnly = await call("POST", "/v1/connections/test", {
      org: o,
      body: { platform: "resend", config: { ...CONFIGS.resend, api_key: "re_sendonly_1" } },
    });
    expect(sendOnly.body).toMatchObject({ success: true, details: { restricted: true } });
    const twilioBad = await call("POST", "/v1/connections/test", {
      org: o,
      body: { platform: "twilio", config: { ...CONFIGS.twilio, auth_token: "bad" } },
    });
    expect(twilioBad.body).toMatchObject({
      success: false,
      error_kind: "auth",
      message: "Authenticate",
      details: { vendor_code: 20003 },
    });
    // The discord webhook token never shows in a test result, even in the vendor's echo of it.
    expect(
      JSON.stringify(
        await call("POST", "/v1/connections/test", { org: o, body: { platform: "discord", config: CONFIGS.discord } }),
      ),
    ).not.toContain("good-discord-token");
  });

  it("a failing call marks the connection error (refused) or expired; a later success makes it active", async () => {
    const o = org();
    const c = await connect("slack", { ...CONFIGS.slack, bot_token: "xoxb-expired-1" }, o);
    await callTool("slack_post_message", { text: "x" }, o);
    let row = (await call("GET", `/v1/connections/${c.id}`, { org: o })).body;
    expect(row).toMatchObject({ status: "expired", error_message: "token_expired" });
    expect(row.last_used_at).not.toBeNull();
    await call("PATCH", `/v1/connections/${c.id}`, { org: o, body: { config: { bot_token: "xoxb-bad-2" }, status: "active" } });
    await callTool("slack_post_message", { text: "x" }, o);
    expect((await call("GET", `/v1/connections/${c.id}`, { org: o })).body).toMatchObject({
      status: "error",
      error_message: "invalid_auth",
    });
    // A vendor error unrelated to the credentials leaves the status as it is.
    await call("PATCH", `/v1/connections/${c.id}`, { org: o, body: { config: { bot_token: "xoxb-good-3" } } });
    await callTool("slack_post_message", { channel: "#missing", text: "x" }, o);
    row = (await call("GET", `/v1/connections/${c.id}`, { org: o })).body;
    expect(row).toMatchObject({ status: "active", error_message: null });
  });

  it("a connection can be created and tested in one request", async () => {
    const o = org();
    const res = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "slack", name: "s", config: { ...CONFIGS.slack, bot_token: "xoxb-bad" }, test: true },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "error",
      error_message: "invalid_auth",
      test: { success: false, error_kind: "auth" },
    });
  });
});

describe("bad input", () => {
  it("unknown platform, invalid config, a refused base_url, unknown keys: 400 and nothing stored", async () => {
    const o = org();
    const unknown = await call("POST", "/v1/connections", { org: o, body: { platform: "myspace", name: "x", config: {} } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("UNKNOWN_PLATFORM");
    const invalid = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "twilio", name: "x", config: { account_sid: "nope", auth_token: "t" } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details.map((d: any) => d.path)).toEqual(
      expect.arrayContaining(["config.account_sid", "config.from"]),
    );
    const extra = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "slack", name: "x", config: { ...CONFIGS.slack, bot_tokn: "x" } },
    });
    expect(extra.status).toBe(400);
    const ssrf = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "slack", name: "x", config: { ...CONFIGS.slack, base_url: "http://169.254.169.254/latest" } },
    });
    expect(ssrf.status).toBe(400);
    expect(ssrf.body.error.details[0].path).toBe("config.base_url");
    const hook = await call("POST", "/v1/connections", {
      org: o,
      body: { platform: "teams", name: "x", config: { webhook_url: "http://10.0.0.5/webhookb2/secret-path" } },
    });
    expect(hook.status).toBe(400);
    expect(JSON.stringify(hook.body)).not.toContain("secret-path");
    const noName = await call("POST", "/v1/connections", { org: o, body: { platform: "slack", config: CONFIGS.slack } });
    expect(noName.status).toBe(400);
    const malformed = await call("POST", "/v1/connections", {
      org: o,
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    const badPatch = await call("PATCH", `/v1/connections/x`, { org: o, body: {} });
    expect(badPatch.status).toBe(400);
    expect((await call("GET", "/v1/connections", { org: o })).body.total).toBe(0);
  });

  it("another org's connection is 404 for every operation, and cannot be used", async () => {
    const mine = await connect("slack", CONFIGS.slack, "conn-owner");
    const o = org();
    for (const [method, path, body] of [
      ["GET", `/v1/connections/${mine.id}`, undefined],
      ["PATCH", `/v1/connections/${mine.id}`, { name: "stolen" }],
      ["DELETE", `/v1/connections/${mine.id}`, undefined],
      ["POST", `/v1/connections/${mine.id}/test`, undefined],
    ] as const) {
      const res = await call(method, path, { org: o, body });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const used = await callTool("slack_post_message", { text: "x", connection_id: mine.id }, o);
    expect(used.status).toBe(404);
    expect((await call("GET", `/v1/connections/${mine.id}`, { org: "conn-owner" })).body.name).toBe("slack conn");
  });

  it("scopes: read to list, write to create/update/delete/test", async () => {
    const o = org();
    const reader = await apiKey(o, ["automations:read"]);
    const writer = await apiKey(o, ["automations:write"]);
    expect((await call("GET", "/v1/connections", { token: reader })).status).toBe(200);
    expect((await call("GET", "/v1/connections/platforms", { token: reader })).status).toBe(200);
    expect(
      (await call("POST", "/v1/connections", { token: reader, body: { platform: "slack", name: "x", config: CONFIGS.slack } }))
        .status,
    ).toBe(403);
    const created = await call("POST", "/v1/connections", {
      token: writer,
      body: { platform: "slack", name: "x", config: CONFIGS.slack },
    });
    expect(created.status).toBe(201);
    expect(created.body.created_by).toMatch(/^api_key:/);
    expect((await call("POST", `/v1/connections/${created.body.id}/test`, { token: reader })).status).toBe(403);
    expect((await call("DELETE", `/v1/connections/${created.body.id}`, { token: reader })).status).toBe(403);
    expect((await call("GET", "/v1/connections", { token: null })).status).toBe(401);
    expect((await call("POST", "/v1/connections/reencrypt", { token: writer })).status).toBe(403);
  });

  it("the number of connections per org is limited", async () => {
    const o = org();
    // Fill up to the limit directly in D1 (the API path is the same insert), then one more through the API.
    const { LIMITS } = await import("../../src/lib/limits");
    const stmts = [];
    for (let i = 0; i < LIMITS.MAX_CONNECTIONS_PER_ORG; i++) {
      stmts.push(
        env.DB.prepare(
          `INSERT INTO connections (id, org_id, platform, name, status, public_config, key_id, ciphertext, created_at, updated_at, created_by) VALUES (?, ?, 'slack', 'x', 'active', '{}', 'k', 'c', '2025-01-01', '2025-01-01', 't')`,
        ).bind(`${o}-${i}`, o),
      );
    }
    await env.DB.batch(stmts);
    const res = await call("POST", "/v1/connections", { org: o, body: { platform: "slack", name: "x", config: CONFIGS.slack } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("LIMIT_REACHED");
  });
});
