import { errorBody } from "../lib/errors";
import { handleMcpPost, normalizedAccept } from "../mcp/transport";
import { ErrorSchema } from "../schemas/common";
import { McpMessageSchema, McpResponseSchema } from "../schemas/mcp";
import { triggerLimitRefusal } from "./rate-limit";
import { createRouter, errorResponses, jsonBody, jsonResponse, scopedRoute } from "./router";

/**
 * The Model Context Protocol server (Streamable HTTP, stateless), mounted at /mcp outside /v1 but behind the same
 * pipeline: JSON only, body limit, authentication, rate limits. Connecting needs automations:read (tools/list,
 * resources); tools/call also needs automations:trigger, refused as a JSON-RPC error. GET and DELETE (the
 * server-initiated stream and session end) have no use without sessions: 405, as the transport specification allows.
 */

const postRoute = scopedRoute("automations:read", {
  method: "post",
  path: "/",
  operationId: "mcpPost",
  tags: ["arrotech"],
  summary:
    "MCP (Model Context Protocol) over Streamable HTTP: one JSON-RPC message per request (initialize, tools/list, " +
    "tools/call, resources/list, resources/templates/list, resources/read, ping). Tools: the tool catalog and every " +
    "enabled flow with a manual trigger; resources: runs as execution://{execution_id}. Stateless: no Mcp-Session-Id.",
  description:
    "Needs `automations:read`; `tools/call` also needs `automations:trigger` (else JSON-RPC error -32003). " +
    "Bad arguments and vendor failures are tool results with `isError: true`; an unknown tool is JSON-RPC error -32602, " +
    "another organization's or an unknown run -32002. Every tools/call is written to the tool audit (via `mcp.call`). See docs/mcp.md.",
  "x-scope-when": [{ body: "tools/call", scope: "automations:trigger" }],
  request: jsonBody(McpMessageSchema),
  responses: {
    200: jsonResponse(McpResponseSchema, "The JSON-RPC response"),
    202: { description: "A notification or a response was accepted; no body" },
    ...errorResponses(400, 401, 403, 413, 415, 429),
    406: jsonResponse(ErrorSchema, "The Accept header names neither application/json nor text/event-stream"),
  },
});

export const mcpRouter = createRouter().openapi(postRoute, async (c) => {
  if (normalizedAccept(c.req.header("accept") ?? null) === null) {
    return c.json(errorBody("NOT_ACCEPTABLE", "The client must accept application/json or text/event-stream"), 406);
  }
  const message = c.req.valid("json");
  // A tool call may start an execution or call a vendor: counted as a trigger, like POST /v1/tools/call.
  if ("method" in message && message.method === "tools/call") {
    const limited = await triggerLimitRefusal(c);
    if (limited) return limited;
  }
  const ctx = { env: c.env, principal: c.get("principal"), requestId: c.get("requestId") };
  return handleMcpPost(ctx, c.req.raw, message);
});
