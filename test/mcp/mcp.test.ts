import { SELF } from "cloudflare:test";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { beforeEach, describe, expect, it } from "vitest";
import { BASE, apiKey, call } from "../helpers";
import { SINK, createFlow, sinkRequests, sinkReset } from "../support/engine";
import { CONFIGS, connect, driveIn, jwtFor } from "../integrations/support";
import { adminHeaders, auditOf, bearer, mcpClient, rawPost } from "./support";

beforeEach(sinkReset);

let n = 0;
const org = () => `mcp-${++n}`;

const VARIABLES = {
  channel: { type: "string", description: "Where to post", required: true },
  count: { type: "integer", default: 2 },
  mode: { type: "string", enum: ["fast", "slow"] },
};

/** An enabled flow with a manual trigger declaring VARIABLES, posting them to the sink. */
async function variableFlow(o: string, name = "Post to Channel!") {
  return createFlow(
    {
      flow_name: name,
      triggers: [{ type: "manual", configuration: { variables: VARIABLES } }],
      actions: [
        {
          id: "post",
          type: "call_webhook",
          config: { url: `${SINK}/mcp-hook`, body: { channel: "{{ variables.channel }}", count: "{{ variables.count }}" } },
        },
      ],
    },
    o,
  );
}

const toolError = (err: unknown) => {
  expect(err).toBeInstanceOf(McpError);
  return err as McpError;
};

describe("MCP server: initialize and tools/list", () => {
  it("initializes over Streamable HTTP with the SDK client (stateless: no session id)", async () => {
    const client = await mcpClient(adminHeaders(org()));
    expect(client.getServerVersion()).toMatchObject({ name: "automation-engine" });
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {} });
    expect(client.getInstructions()).toContain("execution://");
    expect(await client.ping()).toEqual({});
    await client.close();
  });

  it("lists the catalog and the enabled manual flows of the caller's org, with the declared variables as input schema", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const flow = await variableFlow(o);
    const plain = await createFlow({ flow_name: "No input", actions: [] }, o);
    const disabled = await createFlow({ flow_name: "Off", enabled: false, actions: [] }, o);
    const noManual = await createFlow(
      { flow_name: "On event", triggers: [{ type: "event", configuration: { event_name: "x" } }], actions: [] },
      o,
    );
    const foreign = await createFlow({ flow_name: "Foreign", actions: [] }, `${o}-other`);

    const client = await mcpClient(adminHeaders(o));
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["slack_post_message", "send_notification", "create_record"]));
    expect(names).not.toContain("hubspot_create_contact"); // no connection: left out, as GET /v1/tools does

    const short = (id: string) => id.replace(/-/g, "").slice(0, 8);
    const flowTools = tools.filter((t) => t.name.startsWith("flow_"));
    expect(flowTools.map((t) => t.name).sort()).toEqual(
      [`flow_post_to_channel_${short(flow.id)}`, `flow_no_input_${short(plain.id)}`].sort(),
    );
    for (const other of [disabled, noManual, foreign]) expect(names.join()).not.toContain(short(other.id));

    const tool = flowTools.find((t) => t.name.startsWith("flow_post_to_channel_"))!;
    expect(tool.title).toBe("Post to Channel!");
    expect(tool._meta).toEqual({ kind: "flow", flow_id: flow.id });
    expect(tool.inputSchema).toEqual({
      type: "object",
      properties: {
        channel: { type: "string", description: "Where to post" },
        count: { type: "integer", default: 2 },
        mode: { type: "string", enum: ["fast", "slow"] },
      },
      required: ["channel"],
      additionalProperties: false,
    });
    expect(flowTools.find((t) => t.name.startsWith("flow_no_input_"))!.inputSchema).toEqual({
      type: "object",
      properties: {},
      additionalProperties: false,
    });
    // The catalog tool carries the same argument schema as GET /v1/tools.
    const rest = await call("GET", "/v1/tools", { org: o });
    const slackRest = rest.body.tools.find((t: any) => t.name === "slack_post_message");
    expect(tools.find((t) => t.name === "slack_post_message")!.inputSchema).toEqual(slackRest.inputSchema);
    await client.close();
  });

  it("a manual trigger's variables are validated when the flow is written", async () => {
    const o = org();
    const bad = await call("POST", "/v1/automation/flows", {
      org: o,
      body: {
        flow_name: "bad vars",
        triggers: [
          { type: "manual", configuration: { variables: { "1bad": { type: "string" }, n: { type: "integer", default: "x" } } } },
        ],
        actions: [],
      },
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.error.details.map((d: any) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/triggers\.0\.configuration\.variables/),
        "triggers.0.configuration.variables.n.default",
      ]),
    );
  });
});

describe("MCP server: tools/call", () => {
  it("calls a catalog tool against a faked vendor and audits it", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const token = await jwtFor("mcp-user", o);
    const client = await mcpClient(bearer(token));
    const res = await client.callTool({ name: "slack_post_message", arguments: { text: "hello from mcp" } });
    expect(res.isError).toBe(false);
    expect(res.structuredContent).toMatchObject({ name: "slack_post_message", success: true, data: { channel: "C0001" } });
    expect(JSON.parse((res.content as { text: string }[])[0].text)).toEqual(res.structuredContent);
    const sent = await sinkRequests("/slack/");
    expect(JSON.parse(sent[0].body)).toMatchObject({ text: "hello from mcp" });

    // A vendor refusal is a tool result with isError, not a protocol error.
    const failed = await client.callTool({ name: "slack_post_message", arguments: { channel: "#missing", text: "x" } });
    expect(failed.isError).toBe(true);
    expect(failed.structuredContent).toMatchObject({ success: false, error: "channel_not_found" });

    const audit = await auditOf(o);
    expect(audit.map((r) => [r.via, r.tool, r.outcome, r.actor, r.error_message])).toEqual([
      ["mcp.call", "slack_post_message", "error", "user:mcp-user", "channel_not_found"],
      ["mcp.call", "slack_post_message", "success", "user:mcp-user", null],
    ]);
    expect(JSON.stringify(audit)).not.toContain("hello from mcp");
    await client.close();
  });

  it("calls a flow tool: an execution starts at once, reaches success, and is read as a resource", async () => {
    const o = org();
    const flow = await variableFlow(o);
    const key = await apiKey(o, ["automations:read", "automations:trigger"]);
    const client = await mcpClient(bearer(key));
    const tool = (await client.listTools()).tools.find((t) => t.name.startsWith("flow_post_to_channel_"))!;
    const res = await client.callTool({ name: tool.name, arguments: { channel: "#sales", mode: "fast" } });
    expect(res.isError).toBe(false);
    const out = res.structuredContent as { execution_id: string; flow_id: string; status: string; resource_uri: string };
    expect(out).toMatchObject({ flow_id: flow.id, resource_uri: `execution://${out.execution_id}` });
    expect(["pending", "starting", "in_progress"]).toContain(out.status);
    expect(await sinkRequests("/mcp-hook")).toEqual([]); // nothing ran yet: the call returned at once

    const exec = await driveIn(out.execution_id, o);
    expect(exec.execution_status).toBe("success");
    const [hook] = await sinkRequests("/mcp-hook");
    expect(JSON.parse(hook.body)).toEqual({ channel: "#sales", count: 2 }); // the default filled in

    const read = await client.readResource({ uri: out.resource_uri });
    const run = JSON.parse((read.contents[0] as { text: string }).text);
    expect(read.contents[0]).toMatchObject({ uri: out.resource_uri, mimeType: "application/json" });
    expect(run).toMatchObject({ run_id: out.execution_id, flow_id: flow.id, execution_status: "success", status: "completed" });
    expect(run.action_results[0]).toMatchObject({ action_id: "post", status: "success" });

    const listed = await client.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain(out.resource_uri);
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toEqual(["execution://{execution_id}"]);

    const audit = await auditOf(o);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      via: "mcp.call",
      tool: tool.name,
      outcome: "success",
      actor: expect.stringMatching(/^api_key:/),
    });
    await client.close();
  });

  it("refuses bad arguments as a tool error naming each argument, starting nothing, and audits them", async () => {
    const o = org();
    await variableFlow(o);
    const client = await mcpClient(adminHeaders(o));
    const tool = (await client.listTools()).tools.find((t) => t.name.startsWith("flow_post_to_channel_"))!;
    const bad = await client.callTool({ name: tool.name, arguments: { count: "three", mode: "medium", extra: 1 } });
    expect(bad.isError).toBe(true);
    const err = (bad.structuredContent as any).error;
    expect(err.code).toBe("VALIDATION_ERROR");
    expect(err.details.map((d: any) => d.path).sort()).toEqual(
      ["arguments.channel", "arguments.count", "arguments.extra", "arguments.mode"].sort(),
    );
    expect(err.details.find((d: any) => d.path === "arguments.count").message).toBe("must be of type integer, got string");
    expect((await call("GET", "/v1/automation/executions", { org: o })).body.total ?? 0).toBe(0);

    const badCore = await client.callTool({ name: "send_notification", arguments: { title: "x" } });
    expect(badCore.isError).toBe(true);
    expect((badCore.structuredContent as any).error.details[0].path).toBe("arguments.user_id");

    const audit = await auditOf(o);
    expect(audit.map((r) => [r.tool, r.outcome])).toEqual([
      ["send_notification", "error"],
      [tool.name, "error"],
    ]);
    await client.close();
  });

  it("an unknown tool is JSON-RPC error -32602, catalog or flow, and is audited", async () => {
    const o = org();
    const client = await mcpClient(adminHeaders(o));
    for (const name of ["myspace_post", "slack_delete_workspace", "flow_nothing_deadbeef"]) {
      const err = toolError(await client.callTool({ name, arguments: {} }).catch((e) => e));
      expect(err.code).toBe(-32602);
      expect(err.message).toContain(`Unknown tool: ${name}`);
    }
    // A disabled flow is not a tool, even by its old name.
    const flow = await variableFlow(o, "Soon off");
    const name = (await client.listTools()).tools.find((t) => t.name.startsWith("flow_soon_off_"))!.name;
    expect((await call("POST", `/v1/automation/flows/${flow.id}/disable`, { org: o })).status).toBe(200);
    expect(toolError(await client.callTool({ name, arguments: { channel: "x" } }).catch((e) => e)).code).toBe(-32602);
    const audit = await auditOf(o);
    expect(audit.map((r) => r.outcome)).toEqual(["error", "error", "error", "error"]);
    await client.close();
  });
});

describe("MCP server: scopes, credentials and isolation", () => {
  it("a caller without automations:trigger lists but cannot call: JSON-RPC error -32003, audited", async () => {
    const o = org();
    const reader = await apiKey(o, ["automations:read"]);
    const client = await mcpClient(bearer(reader));
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const err = toolError(await client.callTool({ name: "send_notification", arguments: {} }).catch((e) => e));
    expect(err.code).toBe(-32003);
    expect(err.message).toContain("automations:trigger");
    expect(err.data).toEqual({ code: "FORBIDDEN", required_scope: "automations:trigger" });
    const audit = await auditOf(o);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ tool: "send_notification", outcome: "error", via: "mcp.call" });
    expect((await call("GET", "/v1/notifications?user_id=u", { org: o })).body.results).toEqual([]);
    await client.close();
  });

  it("a caller without automations:read is refused with 403; no credentials with 401", async () => {
    const o = org();
    const triggerOnly = await apiKey(o, ["automations:trigger"]);
    await expect(mcpClient(bearer(triggerOnly))).rejects.toMatchObject({
      code: 403,
      message: expect.stringContaining("automations:read"),
    });
    await expect(mcpClient({})).rejects.toMatchObject({ code: 401 });
    await expect(mcpClient(bearer("ak_not_a_real_key"))).rejects.toMatchObject({ code: 401 });
  });

  it("another organization's run is not found as a resource, and not listed", async () => {
    const a = org();
    const b = `${a}-b`;
    await variableFlow(a);
    const clientA = await mcpClient(adminHeaders(a));
    const tool = (await clientA.listTools()).tools.find((t) => t.name.startsWith("flow_"))!;
    const out = (await clientA.callTool({ name: tool.name, arguments: { channel: "#a" } })).structuredContent as any;
    await driveIn(out.execution_id, a);

    const clientB = await mcpClient(adminHeaders(b));
    const err = toolError(await clientB.readResource({ uri: out.resource_uri }).catch((e) => e));
    expect(err.code).toBe(-32002);
    expect(err.data).toEqual({ uri: out.resource_uri });
    expect((await clientB.listResources()).resources).toEqual([]);
    for (const uri of ["execution://00000000-0000-4000-8000-000000000000", "record://x", "execution://../x"]) {
      expect(toolError(await clientA.readResource({ uri }).catch((e) => e)).code).toBe(-32002);
    }
    // Another org's flow is not a tool of B either.
    expect(toolError(await clientB.callTool({ name: tool.name, arguments: { channel: "#b" } }).catch((e) => e)).code).toBe(
      -32602,
    );
    await clientA.close();
    await clientB.close();
  });
});

describe("MCP server: HTTP transport", () => {
  it("answers notifications with 202, an unknown method with JSON-RPC -32601, and carries no session id", async () => {
    const h = adminHeaders(org());
    const note = await rawPost(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), h);
    expect(note.status).toBe(202);
    const unknown = await rawPost(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "prompts/list" }), h);
    expect(unknown.status).toBe(200);
    expect(unknown.json).toMatchObject({ jsonrpc: "2.0", id: 7, error: { code: -32601 } });
    expect(unknown.headers.get("mcp-session-id")).toBeNull();
    // Without initialize first (stateless), and with a plain Accept header (curl-style).
    const list = await rawPost(JSON.stringify({ jsonrpc: "2.0", id: "a", method: "tools/list" }), { ...h, accept: "*/*" });
    expect(list.status).toBe(200);
    expect(list.headers.get("content-type")).toMatch(/^application\/json/);
    expect(list.json.result.tools.map((t: any) => t.name)).toContain("send_notification");
  });

  it("refuses bad requests with the API's error body: malformed JSON, not JSON-RPC, not JSON, too large, not acceptable", async () => {
    const h = adminHeaders(org());
    const malformed = await rawPost('{"jsonrpc":', h);
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.code).toBe("MALFORMED_REQUEST");
    const notRpc = await rawPost(JSON.stringify({ jsonrpc: "1.0", id: 1, method: "tools/list" }), h);
    expect(notRpc.status).toBe(400);
    expect(notRpc.json.error.code).toBe("VALIDATION_ERROR");
    const batch = await rawPost(JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }]), h);
    expect(batch.status).toBe(400);
    const text = await rawPost("{}", { ...h, "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect(text.json.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const big = await rawPost(JSON.stringify({ jsonrpc: "2.0", method: "x", params: { pad: "z".repeat(1_100_000) } }), h);
    expect(big.status).toBe(413);
    const html = await rawPost(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), { ...h, accept: "text/html" });
    expect(html.status).toBe(406);
    expect(html.json.error.code).toBe("NOT_ACCEPTABLE");
    // A transport refusal (an unsupported protocol version) comes in the same body.
    const version = await rawPost(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), {
      ...h,
      "mcp-protocol-version": "1999-01-01",
    });
    expect(version.status).toBe(400);
    expect(version.json.error).toMatchObject({ code: "MCP_BAD_REQUEST", message: expect.stringContaining("protocol version") });
  });

  it("GET and DELETE /mcp are 405 (no sessions, no server stream); without credentials 401", async () => {
    const h = adminHeaders(org());
    for (const method of ["GET", "DELETE"]) {
      const res = await SELF.fetch(`${BASE}/mcp`, { method, headers: { ...h, accept: "text/event-stream" } });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect((await SELF.fetch(`${BASE}/mcp`, { method })).status).toBe(401);
    }
    const none = await rawPost(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }), {});
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("UNAUTHORIZED");
  });

  it("is documented in the OpenAPI document under the arrotech tag, needing automations:read", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    const op = doc.paths["/mcp"].post;
    expect(op).toMatchObject({ operationId: "mcpPost", tags: ["arrotech"], "x-required-scope": "automations:read" });
    expect(Object.keys(op.responses)).toEqual(
      expect.arrayContaining(["200", "202", "400", "401", "403", "406", "413", "415", "429"]),
    );
    expect(Object.keys(doc.paths["/mcp"])).toEqual(["post"]);
  });
});
