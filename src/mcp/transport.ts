import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { errorBody } from "../lib/errors";
import type { McpContext } from "./context";
import { buildMcpServer } from "./server";

/**
 * One MCP request over Streamable HTTP, stateless: a fresh server and the SDK's web-standard transport per request
 * (no session id, JSON responses rather than an SSE stream). A Worker keeps no memory between requests that could
 * hold a session, and every method we serve answers in one response, so nothing is lost by not streaming.
 */

const BOTH = "application/json, text/event-stream";

/**
 * The transport insists on an Accept header naming both media types. Clients that send none, `*\/*`, or just one
 * of them (curl, several MCP clients) get the JSON answer they can read; null when the client accepts neither.
 */
export function normalizedAccept(accept: string | null): string | null {
  const a = (accept ?? "").toLowerCase();
  if (a.trim() === "" || a.includes("*/*") || a.includes("application/json") || a.includes("text/event-stream")) return BOTH;
  return null;
}

/** Transport-level refusals (before any JSON-RPC message is handled) in the API's common error body. */
async function commonError(res: Response): Promise<Response> {
  let message = res.statusText || "Request rejected";
  try {
    const body = (await res.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    /* not JSON: keep the status text */
  }
  const code = res.status === 400 ? "MCP_BAD_REQUEST" : res.status === 406 ? "NOT_ACCEPTABLE" : "MCP_TRANSPORT_ERROR";
  return Response.json(errorBody(code, message), { status: res.status });
}

/** Serves one POST: `body` is the JSON-RPC message, already parsed and validated by the route. */
export async function handleMcpPost(ctx: McpContext, request: Request, body: unknown): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.set("accept", normalizedAccept(request.headers.get("accept")) ?? BOTH);
  const req = new Request(request.url, { method: "POST", headers });
  const server = buildMcpServer(ctx);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    const res = await transport.handleRequest(req, { parsedBody: body });
    return res.status >= 400 ? await commonError(res) : res;
  } finally {
    await server.close();
  }
}
