import { SELF } from "cloudflare:test";
import { z } from "zod";
import { beforeEach, describe, expect, it } from "vitest";
import { ADMIN_KEY, BASE, apiKey, call } from "../helpers";
import { sinkRequests, sinkReset } from "../support/engine";
import { readSse, type SseEvent } from "./sse";
import { CONFIGS, callTool, connect, jwtFor } from "./support";

beforeEach(sinkReset);

let n = 0;
const org = () => `tools-${++n}`;

/** Every keyword of JSON Schema 2020-12 (core, applicator, validation, meta-data, format, content, unevaluated). */
const KEYWORDS = new Set(
  "$schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties patternProperties additionalProperties propertyNames unevaluatedItems unevaluatedProperties type enum const multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern maxItems minItems uniqueItems maxContains minContains maxProperties minProperties required dependentRequired title description default deprecated readOnly writeOnly examples format contentEncoding contentMediaType contentSchema".split(
    " ",
  ),
);
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "dependentSchemas"]);
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
const TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);

/** Walks a schema and returns every violation of the 2020-12 meta-schema's shape that we can see. */
function schemaProblems(s: unknown, path = "#"): string[] {
  if (typeof s === "boolean") return [];
  if (!s || typeof s !== "object" || Array.isArray(s)) return [`${path}: a schema must be an object or boolean`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (!KEYWORDS.has(k)) out.push(`${path}: unknown keyword ${k}`);
    if (SCHEMA_MAPS.has(k))
      for (const [pk, pv] of Object.entries(v as object)) out.push(...schemaProblems(pv, `${path}/${k}/${pk}`));
    else if (SCHEMA_LISTS.has(k)) (v as unknown[]).forEach((x, i) => out.push(...schemaProblems(x, `${path}/${k}/${i}`)));
    else if (["items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"].includes(k))
      out.push(...schemaProblems(v, `${path}/${k}`));
  }
  const t = (s as Record<string, unknown>).type;
  for (const x of Array.isArray(t) ? t : t === undefined ? [] : [t])
    if (!TYPES.has(x as string)) out.push(`${path}: bad type ${String(x)}`);
  const req = (s as Record<string, unknown>).required;
  if (req !== undefined && !(Array.isArray(req) && req.every((r) => typeof r === "string")))
    out.push(`${path}: required must be strings`);
  return out;
}

describe("tool catalog", () => {
  it("lists tools of connected platforms and core tools; include_all adds those without a connection", async () => {
    const o = org();
    const conn = await connect("slack", CONFIGS.slack, o);
    const some = await call("GET", "/v1/tools", { org: o });
    expect(some.status).toBe(200);
    expect(some.body.tools.map((t: any) => t.name)).toEqual([
      "slack_post_message",
      "send_notification",
      "create_record",
      "get_record",
    ]);
    expect(some.body.tools[0]).toMatchObject({
      kind: "provider",
      platform: "slack",
      action: "post_message",
      available: true,
      connections: [{ id: conn.id, status: "active" }],
    });
    const all = await call("GET", "/v1/tools?include_all=true", { org: o });
    const names = all.body.tools.map((t: any) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "hubspot_create_contact",
        "hubspot_update_contact",
        "google_calendar_appointment",
        "resend_send_email",
        "twilio_send_sms",
        "discord_post_message",
        "teams_post_message",
        "http_request",
      ]),
    );
    expect(all.body.tools.find((t: any) => t.name === "hubspot_create_contact")).toMatchObject({
      available: false,
      connections: [],
    });
    expect((await call("GET", "/v1/tools?all=true", { org: o })).body.total).toBe(all.body.total);
  });

  it("every tool's input and output schema is valid JSON Schema 2020-12 that a JSON Schema consumer accepts", async () => {
    const res = await call("GET", "/v1/tools?include_all=true", { org: org() });
    for (const tool of res.body.tools) {
      for (const schema of [tool.inputSchema, tool.outputSchema]) {
        expect(schema.$schema, tool.name).toBe("https://json-schema.org/draft/2020-12/schema");
        expect(schemaProblems(schema), tool.name).toEqual([]);
        expect(schema.type, tool.name).toBe("object");
        // zod's JSON Schema reader builds a validator from it.
        expect(() => z.fromJSONSchema(schema), tool.name).not.toThrow();
      }
      if (tool.kind === "provider")
        expect(tool.inputSchema.properties.connection_id, tool.name).toEqual(expect.objectContaining({ type: "string" }));
    }
    const slack = z.fromJSONSchema(res.body.tools.find((t: any) => t.name === "slack_post_message").inputSchema);
    expect(slack.safeParse({ text: "hi", channel: "#x" }).success).toBe(true);
    expect(slack.safeParse({ channel: "#x" }).success).toBe(false);
    expect(slack.safeParse({ text: "hi", chanel: "#x" }).success).toBe(false);
    const sms = z.fromJSONSchema(res.body.tools.find((t: any) => t.name === "twilio_send_sms").inputSchema);
    expect(sms.safeParse({ to: "+15551234567", body: "x" }).success).toBe(true);
    expect(sms.safeParse({ to: "555", body: "x" }).success).toBe(false);
  });
});

describe("tool calls", () => {
  it("a core tool runs without a connection (send_notification lands in the user's inbox)", async () => {
    const o = org();
    const res = await callTool("send_notification", { user_id: "u-42", title: "Hello", message: "From a tool" }, o);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, data: { notification_id: expect.any(String) }, connection_id: null });
    const inbox = await call("GET", "/v1/notifications?user_id=u-42", { org: o });
    expect(inbox.body.results[0]).toMatchObject({ title: "Hello", message: "From a tool", read: false });
    const rec = await callTool("create_record", { schema: "lead", data: { name: "Ada" } }, o);
    expect(rec.body.success).toBe(true);
    expect((await call("GET", `/v1/entities/lead/${rec.body.data.record_id}`, { org: o })).body.name).toBe("Ada");
  });

  it("bad input is a clear 4xx: unknown tool, unknown action, bad arguments, no connection, another org's connection", async () => {
    const o = org();
    const unknownTool = await callTool("myspace_post", {}, o);
    expect(unknownTool.status).toBe(404);
    expect(unknownTool.body.error.code).toBe("UNKNOWN_TOOL");
    const unknownAction = await callTool("slack_delete_workspace", {}, o);
    expect(unknownAction.status).toBe(400);
    expect(unknownAction.body.error.code).toBe("UNKNOWN_ACTION");
    const noConn = await callTool("slack_post_message", { text: "x" }, o);
    expect(noConn.status).toBe(400);
    expect(noConn.body.error.code).toBe("NO_CONNECTION");
    await connect("slack", CONFIGS.slack, o);
    const badArgs = await callTool("slack_post_message", { text: 42, extra: true }, o);
    expect(badArgs.status).toBe(400);
    expect(badArgs.body.error.details.map((d: any) => d.path)).toEqual(expect.arrayContaining(["arguments.text", "arguments"]));
    const badCore = await callTool("send_notification", { title: "x" }, o);
    expect(badCore.status).toBe(400);
    expect(badCore.body.error.details[0].path).toBe("arguments.user_id");
    const foreign = await connect("slack", CONFIGS.slack, "tools-other");
    expect((await callTool("slack_post_message", { text: "x", connection_id: foreign.id }, o)).status).toBe(404);
    const hub = await connect("hubspot", CONFIGS.hubspot, o);
    const mismatch = await callTool("slack_post_message", { text: "x", connection_id: hub.id }, o);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.code).toBe("CONNECTION_PLATFORM_MISMATCH");
    await connect("slack", CONFIGS.slack, o, "second");
    expect((await callTool("slack_post_message", { text: "x" }, o)).body.error.code).toBe("CONNECTION_REQUIRED");
    expect((await call("POST", "/v1/tools/call", { org: o, body: { arguments: {} } })).status).toBe(400);
    expect(await sinkRequests("/slack/")).toHaveLength(0);
  });

  it("scopes: listing needs automations:read, calling automations:trigger", async () => {
    const o = org();
    const reader = await apiKey(o, ["automations:read"]);
    const trigger = await apiKey(o, ["automations:trigger"]);
    expect((await call("GET", "/v1/tools", { token: reader })).status).toBe(200);
    expect(
      (
        await call("POST", "/v1/tools/call", {
          token: reader,
          body: { name: "send_notification", arguments: { user_id: "u", title: "t" } },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call("POST", "/v1/tools/call", {
          token: trigger,
          body: { name: "send_notification", arguments: { user_id: "u", title: "t" } },
        })
      ).status,
    ).toBe(200);
    expect((await call("GET", "/v1/tools/audit", { token: reader })).status).toBe(403);
  });

  it("every call is audit-logged: who, tool, when, outcome, duration, never the arguments", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const token = await jwtFor("auditor-1", o);
    await call("POST", "/v1/tools/call", {
      token,
      body: { name: "slack_post_message", arguments: { text: "secret-ish text 123" } },
    });
    await call("POST", "/v1/tools/call", {
      token,
      body: { name: "slack_post_message", arguments: { channel: "#missing", text: "x" } },
    });
    await call("POST", "/v1/tools/call", { token, body: { name: "nope_tool", arguments: {} } });
    const audit = await call("GET", "/v1/tools/audit", { org: o });
    expect(audit.status).toBe(200);
    expect(audit.body.total).toBe(3);
    const byOutcome = audit.body.results.map((r: any) => [r.tool, r.outcome, r.http_status, r.error_message, r.actor, r.via]);
    expect(byOutcome).toEqual(
      expect.arrayContaining([
        ["slack_post_message", "success", 200, null, "user:auditor-1", "tools.call"],
        ["slack_post_message", "error", 200, "channel_not_found", "user:auditor-1", "tools.call"],
        ["nope_tool", "error", null, expect.stringContaining("No tool named"), "user:auditor-1", "tools.call"],
      ]),
    );
    for (const r of audit.body.results) {
      expect(r.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(r.started_at)).not.toBeNaN();
      expect(r.user_id).toBe("auditor-1");
    }
    expect(JSON.stringify(audit.body)).not.toContain("secret-ish text");
    expect((await call("GET", "/v1/tools/audit?tool=nope_tool", { org: o })).body.total).toBe(1);
  });
});

describe("streaming tool calls", () => {
  async function stream(o: string, body: unknown): Promise<{ res: Response; events: SseEvent[] }> {
    const res = await SELF.fetch(`${BASE}/v1/tools/call:stream`, {
      method: "POST",
      headers: { "x-key": ADMIN_KEY, "x-org-id": o, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    const events: SseEvent[] = [];
    if (res.headers.get("content-type")?.startsWith("text/event-stream"))
      for await (const e of readSse(res.body!)) events.push(e);
    return { res, events };
  }

  it("streams start, progress, the result and done as SSE", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const { res, events } = await stream(o, { name: "slack_post_message", arguments: { text: "streamed" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(events.map((e) => e.event)).toEqual(["start", "progress", "progress", "result", "done"]);
    expect(events.map((e) => e.id)).toEqual(["1", "2", "3", "4", "5"]);
    const result = JSON.parse(events[3].data);
    expect(result).toMatchObject({ name: "slack_post_message", success: true, data: { channel: "C0001" } });
    expect(JSON.parse(events[0].data).request_id).toBe(res.headers.get("x-request-id"));
    expect(JSON.parse((await sinkRequests("/slack/"))[0].body).text).toBe("streamed");
    const audit = await call("GET", "/v1/tools/audit", { org: o });
    expect(audit.body.results[0]).toMatchObject({ via: "tools.stream", outcome: "success" });
  });

  it("a vendor failure is a result event; bad input is a plain 4xx before any stream", async () => {
    const o = org();
    await connect("slack", CONFIGS.slack, o);
    const failed = await stream(o, { name: "slack_post_message", arguments: { channel: "#missing", text: "x" } });
    expect(JSON.parse(failed.events.find((e) => e.event === "result")!.data)).toMatchObject({
      success: false,
      error: "channel_not_found",
    });
    const bad = await stream(o, { name: "slack_post_message", arguments: {} });
    expect(bad.res.status).toBe(400);
    expect(bad.res.headers.get("content-type")).toMatch(/json/);
    expect(((await bad.res.json()) as any).error.code).toBe("VALIDATION_ERROR");
    expect(bad.events).toEqual([]);
  });

  it("the parser handles the spec's edge cases", async () => {
    const enc = new TextEncoder();
    const chunks = [": comment\r\n", "event: a\r", "\ndata: one\ndata:two\n\n", "data: x\r\rid: 7\nevent: b\ndata:  y\n", "\n"];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(enc.encode(ch));
        c.close();
      },
    });
    const out: SseEvent[] = [];
    for await (const e of readSse(body)) out.push(e);
    expect(out).toEqual([
      { event: "a", data: "one\ntwo" },
      { event: "message", data: "x" },
      { event: "b", data: " y", id: "7" },
    ]);
  });
});

describe("OpenAPI", () => {
  it("documents every integration route with its scope", async () => {
    const res = await call("GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    const paths = res.body.paths;
    for (const [path, method, scope] of [
      ["/v1/connections", "post", "automations:write"],
      ["/v1/connections/platforms", "get", "automations:read"],
      ["/v1/connections/{connection_id}/test", "post", "automations:write"],
      ["/v1/notifications", "get", "automations:read"],
      ["/v1/automation/execute", "post", "automations:trigger"],
      ["/v1/tools", "get", "automations:read"],
      ["/v1/tools/call", "post", "automations:trigger"],
      ["/v1/tools/call:stream", "post", "automations:trigger"],
    ]) {
      expect(paths[path]?.[method]?.["x-required-scope"], `${method} ${path}`).toBe(scope);
    }
  });
});
