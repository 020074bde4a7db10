/**
 * A remote MCP server for the AI steps' tests, run in Node (behind the test sink) with the official SDK's McpServer
 * over its web-standard Streamable HTTP transport, stateless (a fresh server per request). Paths:
 *   /mcp-server/open/<tag>     no credentials needed
 *   /mcp-server/secret/<tag>   `Authorization: Bearer mcp-secret` required (401 otherwise)
 * Tools: `add` and `weather` (read-only), `open_ticket` (writes: no readOnlyHint).
 */

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

function buildServer(): McpServer {
  const server = new McpServer({ name: "test-tools", version: "1.0.0" });
  server.registerTool(
    "add",
    {
      title: "Add two numbers",
      description: "Adds a and b",
      inputSchema: { a: z.number(), b: z.number() },
      annotations: { readOnlyHint: true },
    },
    async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }], structuredContent: { sum: a + b } }),
  );
  server.registerTool(
    "weather",
    { description: "The weather in a city", inputSchema: { city: z.string() }, annotations: { readOnlyHint: true } },
    async ({ city }) => ({ content: [{ type: "text", text: `Sunny in ${city}, 21°C` }] }),
  );
  server.registerTool(
    "open_ticket",
    { description: "Opens a support ticket", inputSchema: { title: z.string() } },
    async ({ title }) =>
      title === "fail"
        ? { isError: true, content: [{ type: "text", text: "The ticket system is read-only today" }] }
        : { content: [{ type: "text", text: `Ticket T-1 opened: ${title}` }] },
  );
  return server;
}

export async function mcpServerAnswer(req: Request, url: URL, body: string): Promise<Response> {
  const mode = url.pathname.split("/")[2];
  if (mode === "secret" && req.headers.get("authorization") !== "Bearer mcp-secret")
    return new Response(JSON.stringify({ error: "unauthorized" }), {
      status: 401,
      headers: { "content-type": "application/json" },
    });
  if (req.method !== "POST") return new Response(null, { status: 405, headers: { allow: "POST" } });
  const server = buildServer();
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    const request = new Request(req.url, { method: "POST", headers: req.headers, body });
    return await transport.handleRequest(request);
  } finally {
    await server.close();
  }
}
