import { z } from "zod";
import { LIMITS } from "../lib/limits";
import { SecretString, defineProvider, httpFailure, obj, str } from "./types";

/**
 * A remote MCP server over Streamable HTTP (docs/mcp.md, "MCP tools"): its tools are listed with the SDK's Client
 * (services/mcp-client.ts) and appear in the catalog as `mcp_<connection>_<tool>`. This descriptor holds the
 * connection's config and checks it with an `initialize` request; the tools themselves are not static actions.
 */

const McpConfig = z.strictObject({
  url: z.string().url().max(2000).describe("The MCP server's Streamable HTTP endpoint (outbound host rules apply)"),
  bearer_token: SecretString("Sent as `Authorization: Bearer …` with every request (optional)").optional(),
  timeout_ms: z
    .number()
    .int()
    .min(LIMITS.MIN_WEBHOOK_TIMEOUT_MS)
    .max(LIMITS.MAX_WEBHOOK_TIMEOUT_MS)
    .optional()
    .describe(`Timeout of one request in ms (default ${LIMITS.MCP_DEFAULT_TIMEOUT_MS})`),
});
type McpConfig = z.output<typeof McpConfig>;

export const mcpHeaders = (c: { bearer_token?: string }): Record<string, string> =>
  c.bearer_token ? { authorization: `Bearer ${c.bearer_token}` } : {};

/** The JSON-RPC answer of a JSON or SSE (`data: …`) response body. */
function rpcAnswer(body: unknown): Record<string, unknown> {
  if (typeof body !== "string") return obj(body);
  for (const line of body.split("\n")) {
    if (!line.startsWith("data:")) continue;
    try {
      return obj(JSON.parse(line.slice(5)));
    } catch {
      /* not this line */
    }
  }
  return {};
}

export const mcpProvider = defineProvider({
  platform: "mcp",
  title: "MCP server",
  description: "A remote Model Context Protocol server (Streamable HTTP): its tools join the catalog.",
  category: "mcp",
  docs_url: "https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http",
  config: McpConfig,
  secretFields: ["bearer_token"],
  urlFields: ["url"],
  apiRoot: (c: McpConfig) => c.url,
  actions: {},
  async authCheck(ctx) {
    const res = await ctx.request({
      method: "POST",
      path: "",
      headers: { ...mcpHeaders(ctx.config), accept: "application/json, text/event-stream" },
      json: {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cf-automation-engine", version: "1" } },
      },
    });
    if (!res.ok) return httpFailure(res, str(obj(res.body), "error") ?? `The MCP server answered HTTP ${res.status}`);
    const answer = rpcAnswer(res.body);
    const result = obj(answer.result);
    if (!answer.result)
      return {
        success: false,
        kind: "vendor",
        error: str(obj(answer.error), "message") ?? "Not an MCP answer",
        status: res.status,
      };
    const info = obj(result.serverInfo);
    return {
      success: true,
      status: res.status,
      data: {
        server: str(info, "name") ?? null,
        version: str(info, "version") ?? null,
        protocol: str(result, "protocolVersion") ?? null,
      },
    };
  },
});
