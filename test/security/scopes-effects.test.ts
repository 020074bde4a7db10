/**
 * Issue 24 item 5: scopes match effects. `POST /v1/llm/workflows:generate` saves a flow: it needs automations:write.
 * The `create_record` tool writes a record: it needs automations:write wherever it is reachable (POST /v1/tools/call,
 * MCP `tools/call`, a conversation's model, Plura's execute), not only automations:trigger. A model call from a
 * diagnostic (`GET /v1/llm/ollama/diagnostic?generate=true`) needs automations:trigger. The table of every operation
 * and its scope in docs/security.md is kept in sync by test/security/scope-table.test.ts.
 */
import { describe, expect, it } from "vitest";
import { apiKey, call } from "../helpers";
import { jwtFor } from "../integrations/support";
import { llmConnection } from "../llm/support";
import { bearer, mcpClient } from "../mcp/support";

let n = 0;
const org = () => `scope-fx-${++n}-${Math.random().toString(36).slice(2, 8)}`;
const RECORD = { schema: "scopecheck", data: { title: "made by a tool" } };

async function recordCount(o: string): Promise<number> {
  const res = await call("GET", `/v1/entities/${RECORD.schema}?size=100`, { org: o });
  if (res.status !== 200) {
    const search = await call("POST", `/v1/entities:search`, { org: o, body: { q: `_schema:${RECORD.schema}` } });
    return search.body?.hits ?? search.body?.results?.length ?? 0;
  }
  return res.body.hits ?? res.body.results?.length ?? 0;
}

describe("create_record needs automations:write wherever it is reachable (item 5)", () => {
  it("POST /v1/tools/call: 403 with trigger alone, runs with write", async () => {
    const o = org();
    const triggerOnly = await apiKey(o, ["automations:read", "automations:trigger"]);
    const refused = await call("POST", "/v1/tools/call", {
      token: triggerOnly,
      body: { name: "create_record", arguments: RECORD },
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.error.code).toBe("FORBIDDEN");
    expect(refused.body.error.message).toContain("automations:write");
    const writer = await apiKey(o, ["automations:write", "automations:trigger"]);
    const ok = await call("POST", "/v1/tools/call", { token: writer, body: { name: "create_record", arguments: RECORD } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.success).toBe(true);
    // Other tools keep needing only automations:trigger.
    const notify = await call("POST", "/v1/tools/call", {
      token: triggerOnly,
      body: { name: "send_notification", arguments: { user_id: "u-1", title: "hi" } },
    });
    expect(notify.status, JSON.stringify(notify.body)).toBe(200);
  });

  it("MCP tools/call: refused (isError, FORBIDDEN) with trigger alone", async () => {
    const o = org();
    const client = await mcpClient(bearer(await apiKey(o, ["automations:read", "automations:trigger"])));
    const res = (await client.callTool({ name: "create_record", arguments: RECORD })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    expect(res.isError).toBe(true);
    expect(res.content[0].text).toContain("automations:write");
    await client.close();
    const writer = await mcpClient(bearer(await apiKey(o, ["automations:read", "automations:write", "automations:trigger"])));
    const ok = (await writer.callTool({ name: "create_record", arguments: RECORD })) as { isError?: boolean };
    expect(ok.isError).toBeFalsy();
    await writer.close();
  });

  it("Plura's execute: a refusal envelope with trigger alone", async () => {
    const o = org();
    const token = await apiKey(o, ["automations:read", "automations:trigger"]);
    const res = await call("POST", "/api/automation/execute", {
      token,
      body: { automationType: "core", nodeParams: { action: "create_record", params: RECORD } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body).toMatchObject({ success: false, metadata: { code: "FORBIDDEN" } });
  });

  it("a conversation's model: the call is refused to a user without automations:write, nothing is created", async () => {
    const o = org();
    await llmConnection("tools", { org: o });
    // The same user (sub) starts the conversation with write, then talks with a token that has trigger alone.
    const starter = await jwtFor("scope-user", o, "automations:read automations:write");
    const created = await call("POST", "/v1/conversations", {
      token: starter,
      body: { title: "scopes", auto_approve_tools: ["send_notification", "create_record"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const talker = await jwtFor("scope-user", o, "automations:read automations:trigger");
    const res = await call("POST", `/v1/conversations/${created.body.id}/messages`, { token: talker, body: { content: "go" } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const toolRows = res.body.new_messages.filter((m: any) => m.role === "tool");
    const createRow = toolRows.find((m: any) => m.tool_name === "create_record");
    expect(createRow, JSON.stringify(res.body.new_messages)).toBeDefined();
    expect(createRow.tool_success).toBe(false);
    expect(createRow.content).toContain("automations:write");
    expect(await recordCount(o)).toBe(0);
  });
});

describe("model calls and flow writes of /v1/llm (item 5)", () => {
  it("workflows:generate saves a flow: 403 without automations:write", async () => {
    const o = org();
    await llmConnection("gen-valid", { org: o });
    const triggerOnly = await apiKey(o, ["automations:read", "automations:trigger"]);
    const refused = await call("POST", "/v1/llm/workflows:generate", {
      token: triggerOnly,
      body: { description: "notify me weekly" },
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    const flows = await call("GET", "/v1/automation/flows", { org: o });
    expect(flows.body.total ?? flows.body.results?.length).toBe(0);
    const writer = await apiKey(o, ["automations:read", "automations:write"]);
    const ok = await call("POST", "/v1/llm/workflows:generate", { token: writer, body: { description: "notify me weekly" } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it("the Ollama diagnostic asks the model only for a caller with automations:trigger", async () => {
    const o = org();
    await llmConnection("chat", { org: o, platform: "ollama" });
    const reader = await apiKey(o, ["automations:read"]);
    const plain = await call("GET", "/v1/llm/ollama/diagnostic", { token: reader });
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    const refused = await call("GET", "/v1/llm/ollama/diagnostic?generate=true", { token: reader });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.error.message).toContain("automations:trigger");
    const trigger = await apiKey(o, ["automations:read", "automations:trigger"]);
    const ok = await call("GET", "/v1/llm/ollama/diagnostic?generate=true", { token: trigger });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });
});
