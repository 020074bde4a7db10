import { Validator, type Schema } from "@cfworker/json-schema";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
import type { Env } from "../env";
import { AppError, type ErrorDetail } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { safeFetch } from "../lib/outbound";
import { mcpHeaders } from "../providers/mcp";
import type { ConnectionStatus } from "../schemas/integrations";
import { listConnectionRows, type SealedConnectionRow } from "../store/connections";
import { openConnection } from "./connections";

/**
 * MCP tools: the tools of the organization's `mcp` connections (remote MCP servers over Streamable HTTP), listed
 * and called with the official SDK's `Client`. Every request goes through the outbound policy (lib/outbound.ts:
 * SSRF rules, ALLOWED_OUTBOUND_HOSTS, redirects re-checked) with the connection's timeout. A server's list is kept
 * per isolate for MCP_TOOLS_CACHE_TTL_MS (and dropped when its connection changes); a server that cannot be
 * reached lists no tools rather than failing the catalog. Tool names: `mcp_<connection name>_<tool>` (letters,
 * digits, `_` and `-`, at most 64 characters, as model APIs require).
 */

export interface McpTool {
  /** The catalog name. */
  name: string;
  /** The server's own name for it. */
  tool: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  readOnly: boolean;
  connection: { id: string; name: string; status: ConnectionStatus };
}

interface ServerTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: { title?: string; readOnlyHint?: boolean };
}

const MAX_NAME = 64;
const cache = new Map<string, { until: number; version: string; tools: ServerTool[] }>();

const slug = (s: string, max: number) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, max)
    .replace(/_+$/, "") || "server";
const toolPart = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

async function connect(env: Env, config: Record<string, unknown>, extraHeaders: Record<string, string> = {}): Promise<Client> {
  const policy = {
    allowedHosts: env.ALLOWED_OUTBOUND_HOSTS,
    timeoutMs: typeof config.timeout_ms === "number" ? config.timeout_ms : LIMITS.MCP_DEFAULT_TIMEOUT_MS,
  };
  const fetchThroughPolicy = async (input: string | URL, init?: RequestInit): Promise<Response> =>
    safeFetch(input.toString(), init ?? {}, policy);
  const transport = new StreamableHTTPClientTransport(new URL(String(config.url)), {
    fetch: fetchThroughPolicy,
    requestInit: { headers: { ...mcpHeaders(config as { bearer_token?: string }), ...extraHeaders } },
  });
  // Ajv, the SDK's default validator, compiles with new Function (refused by workerd).
  const client = new Client(
    { name: "cf-automation-engine", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return client;
}

async function serverTools(env: Env, row: SealedConnectionRow): Promise<ServerTool[]> {
  const version = `${row.updated_at}`;
  const hit = cache.get(row.id);
  if (hit && hit.version === version && hit.until > Date.now()) return hit.tools;
  const client = await connect(env, await openConnection(env, row));
  try {
    const tools: ServerTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...(page.tools as ServerTool[]));
      cursor = page.nextCursor;
    } while (cursor && tools.length < LIMITS.MAX_MCP_TOOLS_PER_SERVER);
    const kept = tools.slice(0, LIMITS.MAX_MCP_TOOLS_PER_SERVER);
    cache.set(row.id, { until: Date.now() + LIMITS.MCP_TOOLS_CACHE_TTL_MS, version, tools: kept });
    return kept;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Every MCP tool of the organization (servers that cannot be reached list none). */
export async function listMcpTools(env: Env, orgId: string): Promise<McpTool[]> {
  const { results } = await listConnectionRows(env.DB, orgId, { limit: LIMITS.MAX_CONNECTIONS_PER_ORG, offset: 0 });
  const rows = results.filter((r) => r.platform === "mcp");
  const slugs = rows.map((r) => slug(r.name, 20));
  const out: McpTool[] = [];
  for (const [i, row] of rows.entries()) {
    // Two servers named alike get their connection id's first hex digits in their prefix.
    const shared = slugs.filter((s) => s === slugs[i]).length > 1;
    const prefix = `mcp_${slugs[i]}${shared ? row.id.replace(/[^a-f0-9]/g, "").slice(0, 6) : ""}_`;
    let tools: ServerTool[];
    try {
      tools = await serverTools(env, row);
    } catch (err) {
      console.warn(`MCP connection ${row.id}: tools not listed: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    for (const t of tools) {
      out.push({
        name: `${prefix}${toolPart(t.name)}`.slice(0, MAX_NAME),
        tool: t.name,
        title: t.title ?? t.annotations?.title ?? t.name,
        description: `${row.name} (MCP server): ${t.description ?? t.name}`.slice(0, 2000),
        inputSchema: t.inputSchema ?? { type: "object" },
        outputSchema: t.outputSchema ?? {},
        readOnly: t.annotations?.readOnlyHint === true,
        connection: { id: row.id, name: row.name, status: row.status },
      });
    }
  }
  return out;
}

export interface McpCallResult {
  success: boolean;
  data: unknown;
  error: string | null;
  duration_ms: number;
}

/** Checks arguments against the tool's input schema; 400 naming each bad argument. */
export function checkMcpArguments(tool: McpTool, args: Record<string, unknown>, argPath: string): void {
  const result = new Validator(tool.inputSchema as Schema, "2020-12", false).validate(args);
  if (result.valid) return;
  const details: ErrorDetail[] = result.errors
    .filter((e) => e.keyword !== "properties")
    .map((e) => ({
      path: [argPath, ...e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean)].join("."),
      location: "json",
      message: e.error,
    }));
  throw new AppError(
    400,
    "VALIDATION_ERROR",
    "Invalid arguments",
    details.length ? details : [{ path: argPath, message: "invalid" }],
  );
}

const textOf = (content: unknown): string =>
  Array.isArray(content)
    ? content
        .map((c: { type?: string; text?: string }) => (c.type === "text" && typeof c.text === "string" ? c.text : ""))
        .filter(Boolean)
        .join("\n")
    : "";

/** Calls one tool on its server; a tool error (`isError`) is a failed result, a server that fails throws. */
export async function callMcpTool(
  env: Env,
  orgId: string,
  tool: McpTool,
  args: Record<string, unknown>,
  idempotencyKey: string,
): Promise<McpCallResult> {
  const { results } = await listConnectionRows(env.DB, orgId, { limit: LIMITS.MAX_CONNECTIONS_PER_ORG, offset: 0 });
  const row = results.find((r) => r.id === tool.connection.id);
  if (!row) throw new AppError(404, "UNKNOWN_TOOL", `The MCP connection of ${tool.name} no longer exists`);
  const started = Date.now();
  const client = await connect(env, await openConnection(env, row), { "idempotency-key": idempotencyKey });
  try {
    const res = await client.callTool({ name: tool.tool, arguments: args });
    const text = textOf(res.content);
    const data = res.structuredContent ?? { text, content: res.content };
    return res.isError
      ? { success: false, data: null, error: text || "The MCP tool failed", duration_ms: Date.now() - started }
      : { success: true, data, error: null, duration_ms: Date.now() - started };
  } finally {
    await client.close().catch(() => undefined);
  }
}
