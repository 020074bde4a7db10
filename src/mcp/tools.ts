import { ErrorCode, McpError, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { AppError } from "../lib/errors";
import { isoNow } from "../lib/time";
import { hasScope } from "../lib/principal";
import { auditToolCall, callerOf, listTools, prepareToolAudited, runToolAudited } from "../services/tools";
import type { McpContext } from "./context";
import { FLOW_TOOL_PREFIX, findFlowTool, startFlowTool } from "../services/flow-tools";

/**
 * `tools/list` and `tools/call`: the tool catalog (services/tools.ts, the same as /v1/tools, the org's flow tools
 * among them). A flow tool's call answers with the run it started, not the catalog's call result (MCP clients read
 * `structuredContent.execution_id` and then the run as a resource). Every call is audited (`via: mcp.call`), refusals included. Errors follow the MCP split: what the model
 * can correct (bad arguments, a vendor failure, a flow disabled since the listing) is a tool result with
 * `isError: true`; an unknown tool is a JSON-RPC error (-32602), a missing scope one of MCP_FORBIDDEN.
 */

/** JSON-RPC error code of a call the credentials may not make (MCP leaves -32000…-32099 to servers). */
export const MCP_FORBIDDEN = -32003;
const VIA = "mcp.call" as const;
/** Catalog refusals that mean "no such tool" rather than "wrong arguments". */
const UNKNOWN_CODES = new Set(["UNKNOWN_TOOL", "UNKNOWN_ACTION", "UNKNOWN_PLATFORM"]);

const unknownTool = (name: string) => new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name.slice(0, 200)}`);

function toolResult(data: Record<string, unknown>, isError: boolean): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(data) }], structuredContent: data, isError };
}

const refusal = (code: string, message: string, details: unknown[] = []) =>
  toolResult({ error: { code, message, details } }, true);

export async function listMcpTools(ctx: McpContext): Promise<Tool[]> {
  // The catalog lists the org's flow tools too (services/flow-tools.ts, shared with GET /v1/tools and ai_agent).
  const catalog = await listTools(ctx.env, ctx.principal.orgId, false);
  return catalog.map((t) =>
    t.kind === "flow"
      ? {
          name: t.name,
          title: t.title,
          description: t.description,
          inputSchema: t.inputSchema as Tool["inputSchema"],
          _meta: { kind: "flow", flow_id: t.action },
        }
      : {
          name: t.name,
          title: t.title,
          description: t.description,
          inputSchema: t.inputSchema as Tool["inputSchema"],
          // MCP's hint of the same thing as the catalog's `effect`: clients may ask before running a write.
          annotations: { readOnlyHint: t.effect === "read" },
          _meta: { kind: t.kind, platform: t.platform, effect: t.effect },
        },
  );
}

export async function callMcpTool(ctx: McpContext, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const who = callerOf(ctx.principal);
  const startedMs = Date.now();
  const audit = (outcome: "success" | "error", error_message?: string) =>
    auditToolCall(ctx.env, who, {
      via: VIA,
      tool: name,
      request_id: ctx.requestId,
      started_at: isoNow(startedMs),
      duration_ms: Date.now() - startedMs,
      outcome,
      // auditToolCall spreads the entry over its defaults: an absent message must be absent, not undefined.
      ...(error_message === undefined ? {} : { error_message }),
    });

  if (!hasScope(ctx.principal, "automations:trigger")) {
    const message = "Calling a tool needs the scope automations:trigger";
    await audit("error", message);
    throw new McpError(MCP_FORBIDDEN, message, { code: "FORBIDDEN", required_scope: "automations:trigger" });
  }

  if (name.startsWith(FLOW_TOOL_PREFIX)) {
    const tool = await findFlowTool(ctx.env, ctx.principal.orgId, name);
    if (!tool) {
      await audit("error", "unknown tool");
      throw unknownTool(name);
    }
    const outcome = await startFlowTool(ctx.env, ctx.principal, tool, args);
    if (!outcome.ok) {
      await audit("error", outcome.message);
      return refusal(
        outcome.code,
        outcome.message,
        outcome.issues?.map((i) => ({ ...i, path: `arguments.${i.path}` })),
      );
    }
    await audit("success");
    return toolResult({ ...outcome.execution }, false);
  }

  const req = { name, arguments: args, requestId: ctx.requestId, via: VIA, argPath: "arguments" };
  let prepared;
  try {
    // Audits its own refusals.
    prepared = await prepareToolAudited(ctx.env, who, req);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    if (UNKNOWN_CODES.has(err.code)) throw unknownTool(name);
    return refusal(err.code, err.message, err.details);
  }
  try {
    const result = await runToolAudited(ctx.env, who, req, prepared);
    return toolResult({ ...result }, !result.success);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return refusal(err.code, err.message, err.details);
    throw err;
  }
}
