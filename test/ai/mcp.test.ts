import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { SINK, sinkRequests, sinkReset } from "../support/engine";
import { freshOrg, modelCalls, modelConnection, runOne, uniqueTag } from "./support";

/** MCP tools: a remote MCP server (test/ai/mcp-server.ts: the SDK's McpServer, in Node) connected as platform `mcp`. */

beforeEach(sinkReset);

async function mcpConnection(org: string, opts: { secret?: boolean; token?: string; name?: string } = {}) {
  const path = `/mcp-server/${opts.secret ? "secret" : "open"}/${uniqueTag()}`;
  const res = await call("POST", "/v1/connections", {
    org,
    body: {
      platform: "mcp",
      name: opts.name ?? "Test Tools",
      config: { url: `${SINK}${path}`, ...(opts.token ? { bearer_token: opts.token } : {}) },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, path };
}

describe("MCP tools", () => {
  it("lists a server's tools in GET /v1/tools, named after their connection, with their read/write mark", async () => {
    const org = freshOrg();
    await mcpConnection(org, { secret: true, token: "mcp-secret" });
    const res = await call("GET", "/v1/tools", { org });
    expect(res.status).toBe(200);
    const mcp = res.body.tools.filter((t: any) => t.kind === "mcp");
    expect(mcp.map((t: any) => t.name).sort()).toEqual([
      "mcp_test_tools_add",
      "mcp_test_tools_open_ticket",
      "mcp_test_tools_weather",
    ]);
    const add = mcp.find((t: any) => t.name === "mcp_test_tools_add");
    expect(add).toMatchObject({ platform: "mcp", action: "add", effect: "read", available: true });
    expect(add.inputSchema.properties).toHaveProperty("a");
    expect(add.description).toContain("Test Tools (MCP server)");
    expect(mcp.find((t: any) => t.name === "mcp_test_tools_open_ticket").effect).toBe("write");
  });

  it("calls a tool through /v1/tools/call, checks its arguments and audits it", async () => {
    const org = freshOrg();
    const conn = await mcpConnection(org, { secret: true, token: "mcp-secret" });
    const res = await call("POST", "/v1/tools/call", { org, body: { name: "mcp_test_tools_add", arguments: { a: 2, b: 3 } } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ success: true, data: { sum: 5 }, connection_id: conn.id });
    const sent = (await sinkRequests(conn.path)).filter((r) => r.method === "POST");
    expect(sent.every((r) => r.headers.authorization === "Bearer mcp-secret")).toBe(true);
    const bad = await call("POST", "/v1/tools/call", { org, body: { name: "mcp_test_tools_add", arguments: { a: "two" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.path)).toEqual(expect.arrayContaining(["arguments.a"]));
    const failing = await call("POST", "/v1/tools/call", {
      org,
      body: { name: "mcp_test_tools_open_ticket", arguments: { title: "fail" } },
    });
    expect(failing.body).toMatchObject({ success: false, error: "The ticket system is read-only today" });
    const audit = await call("GET", "/v1/tools/audit?size=100", { org });
    expect(
      audit.body.results
        .filter((r: any) => r.tool.startsWith("mcp_"))
        .map((r: any) => r.outcome)
        .sort(),
    ).toEqual(["error", "error", "success"]);
  });

  it("a server that refuses the credentials lists no tools; an unknown MCP tool is 404", async () => {
    const org = freshOrg();
    await mcpConnection(org, { secret: true, token: "wrong" });
    const res = await call("GET", "/v1/tools", { org });
    expect(res.body.tools.filter((t: any) => t.kind === "mcp")).toHaveLength(0);
    expect((await call("POST", "/v1/tools/call", { org, body: { name: "mcp_test_tools_add", arguments: {} } })).status).toBe(404);
  });

  it("refuses an MCP URL the outbound policy forbids", async () => {
    const res = await call("POST", "/v1/connections", {
      org: freshOrg(),
      body: { platform: "mcp", name: "internal", config: { url: "http://169.254.169.254/mcp" } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe("config.url");
  });

  it("tests the connection with an initialize request", async () => {
    const org = freshOrg();
    const conn = await mcpConnection(org);
    const res = await call("POST", `/v1/connections/${conn.id}/test`, { org });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.details).toMatchObject({ server: "test-tools", version: "1.0.0" });
  });

  it("ai_agent calls MCP tools (read-only ones without approval)", async () => {
    const org = freshOrg();
    const conn = await mcpConnection(org);
    const model = await modelConnection("mcp-agent", { org });
    const exec = await runOne(
      {
        type: "ai_agent",
        config: {
          connection_id: model.id,
          input: "Add and check the weather",
          tools: ["mcp_test_tools_add", "mcp_test_tools_weather"],
        },
      },
      org,
    );
    expect(exec.execution_status, JSON.stringify(exec.actions[0])).toBe("success");
    const a = exec.actions[0];
    expect(a.outputs.text).toContain('"sum":42');
    expect(a.outputs.text).toContain("Sunny in Berlin");
    expect(a.outputs.steps.filter((s: any) => s.type === "tool").map((s: any) => s.name)).toEqual([
      "mcp_test_tools_add",
      "mcp_test_tools_weather",
    ]);
    const tools = (await modelCalls(model.path))[0].body.tools.map((t: any) => t.function.name);
    expect(tools).toEqual(["mcp_test_tools_add", "mcp_test_tools_weather"]);
    const calls = (await sinkRequests(conn.path)).filter((r) => r.body.includes('"tools/call"'));
    expect(calls.map((r) => r.headers["idempotency-key"])).toEqual([`tool:${exec.id}:ai:step-1`, `tool:${exec.id}:ai:step-3`]);
  });

  it("a conversation's model calls MCP tools too (the catalog the chat gets includes them), audited", async () => {
    const org = freshOrg();
    await mcpConnection(org);
    const model = await modelConnection("mcp-agent", { org });
    const conv = await call("POST", "/v1/conversations", { org, body: {} });
    expect(conv.status).toBe(201);
    const res = await call("POST", `/v1/conversations/${conv.body.id}/messages`, {
      org,
      body: { content: "Add and check the weather", provider: model.id },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(JSON.stringify(res.body)).toContain("Sunny in Berlin");
    const audit = await call("GET", "/v1/tools/audit?size=100", { org });
    expect(
      audit.body.results
        .filter((r: any) => r.via === "conversations.chat")
        .map((r: any) => r.tool)
        .sort(),
    ).toEqual(["mcp_test_tools_add", "mcp_test_tools_weather"]);
  });
});
