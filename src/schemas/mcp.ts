import { z } from "@hono/zod-openapi";

/**
 * The JSON-RPC 2.0 messages of the Model Context Protocol's Streamable HTTP transport, as POST /mcp takes and
 * answers them: one message per request (MCP 2025-06-18 dropped batches). The MCP methods themselves
 * (initialize, tools/list, tools/call, resources/list, resources/templates/list, resources/read, ping) are
 * described by the specification; the SDK validates each method's params.
 */

const JSONRPC = z.literal("2.0");
const RequestId = z.union([z.string().max(200), z.number().int()]).openapi({ description: "Chosen by the client" });
const Params = z.record(z.string(), z.unknown()).openapi({ description: "The method's parameters (MCP specification)" });
const Method = z.string().min(1).max(200);

const JsonRpcRequest = z
  .strictObject({ jsonrpc: JSONRPC, id: RequestId, method: Method, params: Params.optional() })
  .openapi("JsonRpcRequest", { example: { jsonrpc: "2.0", id: 1, method: "tools/list" } });
const JsonRpcNotification = z
  .strictObject({ jsonrpc: JSONRPC, method: Method, params: Params.optional() })
  .openapi("JsonRpcNotification", { example: { jsonrpc: "2.0", method: "notifications/initialized" } });
const JsonRpcResult = z
  .strictObject({ jsonrpc: JSONRPC, id: RequestId, result: z.record(z.string(), z.unknown()) })
  .openapi("JsonRpcResult");
const JsonRpcErrorObject = z.object({
  code: z.number().int().openapi({
    description: "-32602 unknown tool or invalid params, -32601 unknown method, -32002 resource not found, -32003 missing scope",
  }),
  message: z.string(),
  data: z.unknown().optional(),
});
const JsonRpcError = z
  .strictObject({ jsonrpc: JSONRPC, id: RequestId.nullable().optional(), error: JsonRpcErrorObject })
  .openapi("JsonRpcError");

export const McpMessageSchema = z
  .union([JsonRpcRequest, JsonRpcNotification, JsonRpcResult, JsonRpcError])
  .openapi("McpMessage", { description: "A JSON-RPC 2.0 message: a request, a notification, or a response to the server" });

export const McpResponseSchema = z
  .union([JsonRpcResult, JsonRpcError])
  .openapi("McpResponse", { description: "The JSON-RPC response to the request: its result or its error" });
