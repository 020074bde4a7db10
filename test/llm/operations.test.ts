import { beforeEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import { call } from "../helpers";
import { keyWith, llmConnection, sinkRequests } from "./support";

/** /v1/llm helpers: direct response, intent, relevant tools, tool-call validation, providers, tools, Ollama checks. */

beforeEach(async () => {
  await env.DB.exec("DELETE FROM connections; DELETE FROM tool_audit_log; DELETE FROM notifications;");
});

const post = (path: string, body: unknown, org = "org-a") => call("POST", `/v1/llm${path}`, { org, body });

describe("model helpers", () => {
  it("answers directly without tools", async () => {
    const conn = await llmConnection("chat");
    const res = await post("/respond", { content: "ping" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ content: "Echo: ping", finish_reason: "stop", tokens_used: 18, provider: "openai" });
    expect(JSON.parse((await sinkRequests(conn.path))[0].body).tools).toBeUndefined();
  });

  it("explains the intent, keeping only catalog tools", async () => {
    await llmConnection("intent");
    const res = await post("/explain-intent", { content: "Send the team a notification" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      intent: "action",
      requires_tools: true,
      confidence: 0.9,
      suggested_tools: ["send_notification"],
    });
  });

  it("explains the relevant tools, dropping names the catalog does not have", async () => {
    await llmConnection("explain");
    const res = await post("/explain-tools", { content: "notify me" });
    expect(res.status).toBe(200);
    expect(res.body.tools).toEqual([
      { name: "send_notification", title: expect.any(String), reason: "to notify", available: true, platform: null },
    ]);
    expect(res.body.ignored).toEqual(["ghost_tool"]);
  });

  it("answers 502 LLM_INVALID_OUTPUT when the model ignores the requested JSON shape", async () => {
    await llmConnection("garbage");
    for (const path of ["/explain-intent", "/explain-tools"]) {
      const res = await post(path, { content: "x" });
      expect(res.status, path).toBe(502);
      expect(res.body.error.code).toBe("LLM_INVALID_OUTPUT");
    }
  });

  it("refuses bad input, unknown or foreign providers and missing scopes", async () => {
    await llmConnection("chat");
    const theirs = await llmConnection("chat", { org: "org-b" });
    for (const path of ["/respond", "/explain-intent", "/explain-tools"]) {
      expect((await post(path, {})).status, path).toBe(400);
      expect((await post(path, { content: "" })).status, path).toBe(400);
      expect((await post(path, { content: "x", provider: theirs.id })).body.error.code, path).toBe("UNKNOWN_PROVIDER");
      const read = await keyWith(["automations:read"]);
      expect((await call("POST", `/v1/llm${path}`, { token: read, body: { content: "x" } })).status, path).toBe(403);
    }
    expect(await sinkRequests(theirs.path)).toHaveLength(0);
  });
});

describe("tool-call validation", () => {
  it("checks arguments against the tool's schema without running or auditing anything", async () => {
    const ok = await post("/tools:validate", { name: "send_notification", arguments: { user_id: "u-1", title: "Hi" } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ name: "send_notification", valid: true, errors: [] });
    const bad = await post("/tools:validate", { name: "send_notification", arguments: { title: 5 } });
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(["arguments.title", "arguments.user_id"]);
    const noConn = await post("/tools:validate", { name: "slack_post_message", arguments: { text: "hi" } });
    expect(noConn.status).toBe(200);
    expect(noConn.body.valid).toBe(false);
    const notes = await env.DB.prepare("SELECT COUNT(*) AS n FROM notifications").first<{ n: number }>();
    expect(notes?.n).toBe(0);
    expect((await call("GET", "/v1/tools/audit")).body.total).toBe(0);
  });

  it("answers 404 for an unknown tool or another org's connection, 400 for bad input, 403 without automations:read", async () => {
    expect((await post("/tools:validate", { name: "nope_tool", arguments: {} })).status).toBe(404);
    const theirs = await call("POST", "/v1/connections", {
      org: "org-b",
      body: { platform: "slack", name: "s", config: { bot_token: "xoxb-good-slack-token-1234" } },
    });
    const foreign = await post("/tools:validate", {
      name: "slack_post_message",
      arguments: { text: "hi", connection_id: theirs.body.id },
    });
    expect(foreign.body.valid).toBe(false);
    expect(foreign.body.errors[0].message).toMatch(/not found/i);
    expect((await post("/tools:validate", { arguments: {} })).status).toBe(400);
    expect((await post("/tools:validate", { name: "send_notification", arguments: [] })).status).toBe(400);
    const write = await keyWith(["automations:write"]);
    expect((await call("POST", "/v1/llm/tools:validate", { token: write, body: { name: "send_notification" } })).status).toBe(
      403,
    );
  });
});

describe("providers and tools", () => {
  it("lists providers with their status and no secret, and the tool catalog (all tools by default)", async () => {
    const empty = await call("GET", "/v1/llm/providers");
    expect(empty.body).toEqual({ default_provider: null, providers: [] });
    const conn = await llmConnection("chat");
    await llmConnection("chat", { org: "org-b" });
    const res = await call("GET", "/v1/llm/providers");
    expect(res.body.providers).toEqual([
      {
        id: conn.id,
        provider: "openai",
        name: "openai chat",
        model: "fake-model",
        base_url: expect.stringContaining(conn.path),
        status: "active",
        is_default: true,
        source: "connection",
      },
    ]);
    const tools = await call("GET", "/v1/llm/tools");
    expect(tools.status).toBe(200);
    expect(tools.body.tools.map((t: any) => t.name)).toEqual(expect.arrayContaining(["slack_post_message", "send_notification"]));
    const available = await call("GET", "/v1/llm/tools?include_all=false");
    expect(available.body.tools.map((t: any) => t.name)).not.toContain("slack_post_message");
    expect((await call("GET", "/v1/llm/tools?include_all=maybe")).status).toBe(400);
    const write = await keyWith(["automations:write"]);
    expect((await call("GET", "/v1/llm/providers", { token: write })).status).toBe(403);
    expect((await call("GET", "/v1/llm/tools", { token: write })).status).toBe(403);
  });

  it("registers openai, anthropic and ollama as connection platforms with secret api keys and checked base URLs", async () => {
    const platforms = await call("GET", "/v1/connections/platforms");
    const llm = platforms.body.platforms.filter((p: any) => p.category === "llm");
    expect(llm.map((p: any) => [p.platform, p.secret_fields])).toEqual([
      ["openai", ["api_key"]],
      ["anthropic", ["api_key"]],
      ["ollama", ["api_key"]],
    ]);
    const conn = await llmConnection("chat");
    expect(conn.body.config.api_key).toBe("********");
    const tested = await call("POST", `/v1/connections/${conn.id}/test`);
    expect(tested.body).toMatchObject({ success: true, details: { model_available: true } });
    const local = await call("POST", "/v1/connections", {
      body: { platform: "ollama", name: "local", config: { base_url: "http://localhost:11434", model: "llama3.2" } },
    });
    expect(local.status).toBe(400);
    expect(local.body.error.details[0].path).toBe("config.base_url");
    const missing = await call("POST", "/v1/connections", { body: { platform: "anthropic", name: "a", config: { model: "x" } } });
    expect(missing.status).toBe(400);
  });
});

describe("ollama status and diagnostic", () => {
  it("reports an unconfigured org without calling anything", async () => {
    const status = await call("GET", "/v1/llm/ollama/status");
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ configured: false, reachable: false });
    const diag = await call("GET", "/v1/llm/ollama/diagnostic");
    expect(diag.body).toMatchObject({ configured: false, healthy: false });
  });

  it("checks the configured endpoint: reachable, models, the configured model", async () => {
    const ok = await llmConnection("ok", { platform: "ollama" });
    const status = await call("GET", "/v1/llm/ollama/status");
    expect(status.body).toMatchObject({
      configured: true,
      connection_id: ok.id,
      reachable: true,
      model: "llama3.2",
      model_available: true,
      error: null,
    });
    expect(status.body.models).toEqual(["llama3.2:latest", "qwen2.5:7b"]);
    expect((await sinkRequests(`${ok.path}/api/tags`)).length).toBe(1);

    const diag = await call("GET", "/v1/llm/ollama/diagnostic?generate=true");
    expect(diag.body.healthy).toBe(true);
    expect(diag.body.checks.map((c: any) => [c.name, c.ok])).toEqual([
      ["connection", true],
      ["outbound_policy", true],
      ["version", true],
      ["models", true],
      ["model_available", true],
      ["generation", true],
    ]);
    expect(diag.body.checks.find((c: any) => c.name === "version").detail).toBe("Ollama 0.5.7");
    expect(await sinkRequests(`${ok.path}/v1/chat/completions`)).toHaveLength(1);
  });

  it("reports a missing model and an endpoint that does not answer", async () => {
    const nomodel = await llmConnection("nomodel", { platform: "ollama" });
    const status = await call("GET", `/v1/llm/ollama/status?connection_id=${nomodel.id}`);
    expect(status.body).toMatchObject({ reachable: true, model_available: false, models: ["mistral:latest"] });
    const diag = await call("GET", `/v1/llm/ollama/diagnostic?connection_id=${nomodel.id}&generate=true`);
    expect(diag.body.healthy).toBe(false);
    expect(diag.body.checks.find((c: any) => c.name === "model_available")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("ollama pull llama3.2"),
    });
    expect(diag.body.checks.map((c: any) => c.name)).not.toContain("generation");

    const down = await llmConnection("down", { platform: "ollama" });
    const s2 = await call("GET", `/v1/llm/ollama/status?connection_id=${down.id}`);
    expect(s2.body).toMatchObject({ reachable: false, error: "HTTP 503", models: [] });
  });

  it("answers 404 for another org's or a non-ollama connection, 403 without automations:read", async () => {
    const theirs = await llmConnection("ok", { platform: "ollama", org: "org-b" });
    const openai = await llmConnection("chat");
    for (const id of [theirs.id, openai.id, "nope"]) {
      expect((await call("GET", `/v1/llm/ollama/status?connection_id=${id}`)).status, id).toBe(404);
      expect((await call("GET", `/v1/llm/ollama/diagnostic?connection_id=${id}`)).status, id).toBe(404);
    }
    expect(await sinkRequests(theirs.path)).toHaveLength(0);
    const write = await keyWith(["automations:write"]);
    expect((await call("GET", "/v1/llm/ollama/status", { token: write })).status).toBe(403);
    expect((await call("GET", "/v1/llm/ollama/diagnostic?generate=maybe")).status).toBe(400);
  });
});
