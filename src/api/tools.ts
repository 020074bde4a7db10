import { z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import {
  ToolAuditListSchema,
  ToolCallRequest,
  ToolCallResultSchema,
  ToolListQuery,
  ToolListSchema,
} from "../schemas/integrations";
import { callTool, callerOf, listTools, prepareToolAudited, runToolAudited } from "../services/tools";
import { listToolAudit } from "../store/tool-audit";
import { createRouter, errorResponses, scopedRoute, triggerRoute, jsonBody, jsonResponse } from "./router";

/** The tool catalog (seed 002): list tools with their argument schemas, call one, or stream a call as SSE. */

const TAGS = ["Tools"];

const listRoute = scopedRoute("automations:read", {
  method: "get",
  path: "/",
  operationId: "listTools",
  tags: TAGS,
  summary:
    "Every provider action, core action, MCP server tool and flow exposed as a tool, with the JSON Schema of its arguments",
  request: { query: ToolListQuery },
  responses: { 200: jsonResponse(ToolListSchema, "Tools"), ...errorResponses(400, 401, 403) },
});

const callRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/call",
  operationId: "callTool",
  tags: TAGS,
  summary: "Run one tool. A vendor failure is `success: false` with the vendor's message and status",
  request: jsonBody(ToolCallRequest),
  responses: { 200: jsonResponse(ToolCallResultSchema, "The tool's result"), ...errorResponses(400, 401, 403, 404, 413, 415) },
});

const streamRoute = triggerRoute("automations:trigger", {
  method: "post",
  path: "/call:stream",
  operationId: "callToolStream",
  tags: TAGS,
  summary: "Run one tool, streaming progress and the result as Server-Sent Events (start, progress, result | error, done)",
  request: jsonBody(ToolCallRequest),
  responses: {
    200: { description: "An SSE stream", content: { "text/event-stream": { schema: z.string() } } },
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
});

const auditRoute = scopedRoute("admin", {
  method: "get",
  path: "/audit",
  operationId: "listToolAudit",
  tags: TAGS,
  summary: "The audit log of tool calls and unified executes (who, tool, when, outcome, duration; never arguments)",
  request: {
    query: z.object({
      tool: z.string().max(LIMITS.MAX_TOOL_NAME_LENGTH).optional(),
      size: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
      from: z.coerce.number().int().min(0).max(100_000).optional(),
    }),
  },
  responses: { 200: jsonResponse(ToolAuditListSchema, "Audit entries"), ...errorResponses(400, 401, 403) },
});

export const toolsRouter = createRouter()
  .openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const tools = await listTools(c.env, c.get("principal").orgId, q.include_all === "true" || q.all === "true");
    return c.json({ total: tools.length, tools }, 200);
  })
  .openapi(callRoute, async (c) => {
    const input = c.req.valid("json");
    const result = await callTool(c.env, callerOf(c.get("principal")), {
      name: input.name,
      arguments: input.arguments,
      requestId: c.get("requestId"),
      via: "tools.call",
    });
    return c.json(result, 200);
  })
  .openapi(streamRoute, async (c) => {
    const input = c.req.valid("json");
    const who = callerOf(c.get("principal"));
    const req = { name: input.name, arguments: input.arguments, requestId: c.get("requestId"), via: "tools.stream" as const };
    // Bad input is refused with a plain 4xx before the stream opens.
    const prepared = await prepareToolAudited(c.env, who, req);
    return streamSSE(c, async (stream) => {
      let id = 0;
      const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data), id: String(++id) });
      await send("start", { request_id: req.requestId, name: req.name });
      await send("progress", { stage: "validated", message: "Arguments match the tool's schema" });
      await send("progress", { stage: "calling", message: `Running ${req.name}` });
      try {
        const result = await runToolAudited(c.env, who, req, prepared);
        await send("result", result);
      } catch (err) {
        const e = err instanceof AppError ? err : new AppError(500, "INTERNAL_ERROR", "Internal error");
        await send("error", { code: e.code, message: e.message });
      }
      await send("done", { request_id: req.requestId });
    });
  })
  .openapi(auditRoute, async (c) => {
    const q = c.req.valid("query");
    const page = await listToolAudit(c.env.DB, c.get("principal").orgId, {
      tool: q.tool,
      limit: q.size ?? LIMITS.DEFAULT_PAGE_SIZE,
      offset: q.from ?? 0,
    });
    return c.json({ total: page.total, results: page.results.map(({ org_id: _org, ...rest }) => rest) }, 200);
  });
