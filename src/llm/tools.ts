import { dynamicTool, jsonSchema, type JSONSchema7, type ToolSet } from "ai";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import {
  auditToolCall,
  listTools,
  prepareToolAudited,
  runToolAudited,
  type Caller,
  type ToolDescriptor,
} from "../services/tools";

/**
 * The tool catalog (services/tools.ts) as the model sees it, and one model-requested call run through the same path
 * as `POST /v1/tools/call`: arguments validated against the tool's schema, the call audited (`via:
 * conversations.chat`), a vendor failure returned to the model as the tool's result rather than ending the turn.
 */

/** The catalog tools usable now (available: their platform has a connection) as AI SDK tools without `execute`: we run them. */
export async function chatTools(env: Env, orgId: string): Promise<{ tools: ToolSet; catalog: ToolDescriptor[] }> {
  const catalog = (await listTools(env, orgId, false)).filter((t) => t.available);
  const tools: ToolSet = {};
  for (const t of catalog) {
    tools[t.name] = dynamicTool({
      description: `${t.title}. ${t.description}`.slice(0, 1000),
      inputSchema: jsonSchema(t.inputSchema as JSONSchema7),
    });
  }
  return { tools, catalog };
}

/** A tool call as the model asked for it; `invalid` when its arguments were not JSON or the tool does not exist. */
export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  invalid?: boolean;
  error?: unknown;
}

export interface ToolRun {
  success: boolean;
  /** The result's data, or null. */
  data: unknown;
  error: string | null;
  /** What the model is sent back (JSON, capped). */
  content: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const capped = (value: unknown): string => {
  const text = JSON.stringify(value) ?? "null";
  return text.length > LIMITS.LLM_MAX_TOOL_RESULT_CHARS ? `${text.slice(0, LIMITS.LLM_MAX_TOOL_RESULT_CHARS)}…[truncated]` : text;
};

const failed = (error: string): ToolRun => ({ success: false, data: null, error, content: capped({ error }) });

/**
 * Runs one model-requested call; never throws for a bad call (the model is told what was wrong and may retry).
 * `requestId` is the call's id in the audit and, for a vendor that honours it, its idempotency key (`tool:<id>`).
 */
export async function runModelToolCall(
  env: Env,
  who: Caller,
  call: ModelToolCall,
  requestId: string,
  via: "conversations.chat" | "ai_agent" = "conversations.chat",
): Promise<ToolRun> {
  const req = { name: call.toolName, arguments: {}, requestId, via, argPath: "arguments" };
  if (call.invalid || !isObject(call.input)) {
    // Malformed arguments never reach the catalog, but the attempt is audited like any refused call.
    const error = call.invalid
      ? `Invalid tool call: ${call.error instanceof Error ? call.error.message : "the arguments are not a JSON object"}`
      : "Invalid tool call: the arguments must be a JSON object";
    await auditToolCall(env, who, {
      via: req.via,
      tool: call.toolName,
      request_id: requestId,
      started_at: isoNow(),
      duration_ms: 0,
      outcome: "error",
      error_message: error,
    });
    return failed(error.slice(0, 2000));
  }
  const full = { ...req, arguments: call.input };
  try {
    const prepared = await prepareToolAudited(env, who, full);
    const result = await runToolAudited(env, who, full, prepared);
    return result.success
      ? { success: true, data: result.data, error: null, content: capped(result.data) }
      : { ...failed(result.error ?? "The tool failed"), data: null };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      const details = err.details.map((d) => `${d.path ?? ""}: ${d.message}`).join("; ");
      return failed(`${err.message}${details ? ` (${details})` : ""}`);
    }
    throw err;
  }
}
