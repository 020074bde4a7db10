import { z } from "zod";
import type { Principal, Scope } from "../lib/principal";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { LIMITS } from "../lib/limits";
import { isoNow } from "../lib/time";
import { jsonSchemaOf, listProviders } from "../providers/registry";
import type { ToolEffect } from "../providers/types";
import type { ConnectionStatus } from "../schemas/integrations";
import { connectionSummaries } from "../store/connections";
import { insertToolAudit, type ToolAuditRow } from "../store/tool-audit";
import { recordChangeEvents, sendRecordEvent } from "./record-events";
import { createRecord, getRecordSnapshot } from "./records";
import { parseParams, performCall, prepareCall, requireAction, type CallOutcome } from "./integrations";
import { requireProvider } from "./connections";
import { NotificationInput, writeNotification } from "./notifications";
import { callMcpTool, checkMcpArguments, listMcpTools, type McpTool } from "./mcp-client";
import { checkArguments } from "./flow-input";
import {
  FLOW_TOOL_OUTPUT_SCHEMA,
  FLOW_TOOL_PREFIX,
  findFlowTool,
  listFlowTools,
  startFlowRun,
  type FlowTool,
  type ParentStep,
} from "./flow-tools";

/**
 * The tool catalog (Arrotech's MCP-style tools): every provider action as `<platform>_<action>`, the core
 * actions that need no provider, the tools of the organization's MCP servers and its flows exposed as tools
 * (services/flow-tools.ts). Each tool's arguments are its action's params (plus `connection_id` for provider
 * tools) as JSON Schema 2020-12. Every call is audit-logged without its arguments.
 */

export interface CoreTool {
  name: string;
  title: string;
  description: string;
  /** `write` when running it changes or sends something: a conversation's model may only propose it. */
  effect: ToolEffect;
  /**
   * The scope a caller needs beyond automations:trigger (which every way to a tool requires): a tool that writes the
   * organization's data needs what the API's own write needs.
   */
  scope?: Scope;
  input: z.ZodType;
  output: z.ZodType;
  /** `idempotencyKey`: what a retried call of the same step must reuse (a notification is written once per key). */
  run(env: Env, who: Caller, args: unknown, idempotencyKey: string): Promise<unknown>;
}

export interface Caller {
  orgId: string;
  actor: string;
  userId: string;
  /** The caller's scopes: a tool needing more (CoreTool.scope) is refused with 403. */
  scopes: ReadonlySet<Scope>;
  /** The execution step calling (an ai_agent's): a flow tool's run becomes its child. */
  parent?: Omit<ParentStep, "idempotencyKey">;
}

/** `admin` implies every scope, as for principals (lib/principal.ts hasScope). */
const callerHas = (who: Caller, scope: Scope): boolean => who.scopes.has("admin") || who.scopes.has(scope);

const GetRecordInput = z.strictObject({
  id: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).describe("The record's id"),
  schema: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).optional().describe("Its schema, when known"),
});

const CreateRecordInput = z.strictObject({
  schema: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).describe("The record's schema (module), e.g. contact"),
  data: z.record(z.string(), z.unknown()).describe("The record's attributes"),
});

export const CORE_TOOLS: CoreTool[] = [
  {
    name: "send_notification",
    effect: "write",
    title: "Send an in-app notification",
    description: "Writes an in-app notification for a user (read with GET /v1/notifications).",
    input: NotificationInput.strict(),
    output: z.object({ notification_id: z.string() }),
    async run(env, who, args, idempotencyKey) {
      const input = NotificationInput.parse(args);
      const { notification_id } = await writeNotification(env.DB, who.orgId, idempotencyKey, input, {
        tool: "send_notification",
        actor: who.actor,
      });
      return { notification_id };
    },
  },
  {
    name: "create_record",
    effect: "write",
    title: "Create a record",
    description: "Creates a record through the records service (record triggers fire as for any write).",
    // POST /v1/entities/{schema} needs automations:write; the same write through a tool needs it too.
    scope: "automations:write",
    input: CreateRecordInput,
    output: z.object({ record_id: z.string() }),
    async run(env, who, args) {
      const input = CreateRecordInput.parse(args);
      const result = await createRecord(env.DB, who.orgId, who.actor, input.schema, input.data, recordChangeEvents(env));
      await sendRecordEvent(result);
      return { record_id: result.record!._id, record: result.record };
    },
  },
  {
    name: "get_record",
    effect: "read",
    title: "Read a record",
    description: "Reads one record of the organization by its id (its attributes, schema, title and tags).",
    input: GetRecordInput,
    output: z.object({ record: z.record(z.string(), z.unknown()) }),
    async run(env, who, args) {
      const input = GetRecordInput.parse(args);
      const record = await getRecordSnapshot(env.DB, who.orgId, input.schema ?? null, input.id);
      if (!record) throw new AppError(404, "NOT_FOUND", `Record ${input.id.slice(0, 100)} does not exist`);
      return { record };
    },
  },
];

export const coreByName = new Map(CORE_TOOLS.map((t) => [t.name, t]));

const withConnectionId = (schema: Record<string, unknown>): Record<string, unknown> => ({
  ...schema,
  properties: {
    ...(schema.properties as Record<string, unknown> | undefined),
    connection_id: { type: "string", description: "The connection to use (default: the platform's only connection)" },
  },
});

export interface ToolDescriptor {
  name: string;
  title: string;
  description: string;
  effect: ToolEffect;
  /** A scope needed beyond automations:trigger. */
  required_scope: Scope | null;
  kind: "provider" | "core" | "mcp" | "flow";
  platform: string | null;
  action: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  requires_connection: boolean;
  available: boolean;
  connections: { id: string; name: string; status: ConnectionStatus }[];
}

const MCP_TOOL_PREFIX = "mcp_";

const mcpDescriptor = (t: McpTool): ToolDescriptor => ({
  name: t.name,
  title: t.title,
  description: t.description,
  required_scope: null,
  kind: "mcp",
  platform: "mcp",
  action: t.tool,
  inputSchema: t.inputSchema,
  outputSchema: t.outputSchema,
  requires_connection: true,
  available: true,
  connections: [t.connection],
  // A server's readOnlyHint is the only promise that a tool writes nothing.
  effect: t.readOnly ? "read" : "write",
});

const flowDescriptor = (t: FlowTool): ToolDescriptor => ({
  name: t.name,
  title: t.title,
  description: t.description,
  // Starting a run changes the world (the flow's actions will): an ai_agent asks a person first under write_tools.
  effect: "write",
  required_scope: null,
  kind: "flow",
  platform: null,
  // The flow's id: what the tool runs.
  action: t.flow.id,
  inputSchema: t.inputSchema,
  outputSchema: FLOW_TOOL_OUTPUT_SCHEMA,
  requires_connection: false,
  available: true,
  connections: [],
});

/**
 * The catalog; without `includeAll`, provider tools whose platform has no connection are left out. The tools of
 * the organization's MCP servers (services/mcp-client.ts) and its flows exposed as tools come last.
 */
export async function listTools(env: Env, orgId: string, includeAll: boolean): Promise<ToolDescriptor[]> {
  const connections = await connectionSummaries(env.DB, orgId);
  const tools: ToolDescriptor[] = [];
  for (const p of listProviders()) {
    const own = connections.filter((c) => c.platform === p.platform).map(({ id, name, status }) => ({ id, name, status }));
    if (own.length === 0 && !includeAll) continue;
    for (const [action, a] of Object.entries(p.actions)) {
      tools.push({
        name: `${p.platform}_${action}`,
        title: a.title,
        description: `${p.title}: ${a.description}`,
        effect: a.effect,
        required_scope: null,
        kind: "provider" as const,
        platform: p.platform,
        action,
        inputSchema: withConnectionId(jsonSchemaOf(a.params)),
        outputSchema: z.toJSONSchema(a.result, { io: "output", unrepresentable: "any" }) as Record<string, unknown>,
        requires_connection: true,
        available: own.length > 0,
        connections: own,
      });
    }
  }
  for (const t of CORE_TOOLS) {
    tools.push({
      name: t.name,
      title: t.title,
      description: t.description,
      effect: t.effect,
      required_scope: t.scope ?? null,
      kind: "core" as const,
      platform: null,
      action: t.name,
      inputSchema: jsonSchemaOf(t.input),
      outputSchema: z.toJSONSchema(t.output, { io: "output", unrepresentable: "any" }) as Record<string, unknown>,
      requires_connection: false,
      available: true,
      connections: [],
    });
  }
  if (connections.some((c) => c.platform === "mcp")) tools.push(...(await listMcpTools(env, orgId)).map(mcpDescriptor));
  tools.push(...(await listFlowTools(env, orgId)).map(flowDescriptor));
  return tools;
}

export interface ToolResult {
  request_id: string;
  name: string;
  success: boolean;
  data: unknown;
  error: string | null;
  error_kind: string | null;
  http_status: number | null;
  retry_after_ms: number | null;
  connection_id: string | null;
  duration_ms: number;
}

/** A validated call, ready to run: validation errors are thrown (4xx) before anything is sent. */
export interface PreparedTool {
  name: string;
  run(): Promise<ToolResult>;
}

function splitProviderName(name: string): { platform: string; action: string } | null {
  for (const p of listProviders()) {
    if (name.startsWith(`${p.platform}_`)) return { platform: p.platform, action: name.slice(p.platform.length + 1) };
  }
  return null;
}

const fromOutcome = (requestId: string, name: string, o: CallOutcome): ToolResult => ({
  request_id: requestId,
  name,
  success: o.success,
  data: o.success ? (o.data ?? null) : null,
  error: o.error ?? null,
  error_kind: o.error_kind ?? null,
  http_status: o.http_status ?? null,
  retry_after_ms: o.retry_after_ms ?? null,
  connection_id: o.connection_id,
  duration_ms: o.duration_ms,
});

/** Looks a tool up and validates its arguments; throws 4xx AppErrors naming what is wrong. */
export async function prepareTool(
  env: Env,
  who: Caller,
  name: string,
  args: Record<string, unknown>,
  requestId: string,
  argPath = "arguments",
  idempotencyKey?: string,
): Promise<PreparedTool> {
  // A key of its own unless the caller owns a stable one (an ai_agent step): the request id may come from the client
  // (x-request-id), and a vendor would take a key a caller chose as licence to drop (or answer with) another call.
  const key = idempotencyKey ?? `tool:${newId()}`;
  const core = coreByName.get(name);
  if (core) {
    if (core.scope && !callerHas(who, core.scope)) {
      throw new AppError(403, "FORBIDDEN", `The tool ${name} needs the scope ${core.scope}`);
    }
    const parsed = core.input.safeParse(args);
    if (!parsed.success) {
      throw new AppError(
        400,
        "VALIDATION_ERROR",
        "Invalid arguments",
        parsed.error.issues.map((i) => ({
          path: [argPath, ...i.path.map(String)].join("."),
          location: "json",
          message: i.message,
        })),
      );
    }
    return {
      name,
      async run() {
        const started = Date.now();
        const data = await core.run(env, who, parsed.data, key);
        return {
          request_id: requestId,
          name,
          success: true,
          data,
          error: null,
          error_kind: null,
          http_status: null,
          retry_after_ms: null,
          connection_id: null,
          duration_ms: Date.now() - started,
        };
      },
    };
  }
  if (name.startsWith(FLOW_TOOL_PREFIX)) {
    const tool = await findFlowTool(env, who.orgId, name);
    if (tool) return prepareFlowTool(env, who, tool, args, requestId, argPath, key);
  }
  const split = name.startsWith(MCP_TOOL_PREFIX) ? null : splitProviderName(name);
  if (name.startsWith(MCP_TOOL_PREFIX)) {
    const tool = (await listMcpTools(env, who.orgId)).find((t) => t.name === name);
    if (tool) return prepareMcpTool(env, who, tool, args, requestId, argPath, key);
  }
  if (!split)
    throw new AppError(404, "UNKNOWN_TOOL", `No tool named "${name.slice(0, 100)}" (GET /v1/tools?include_all=true lists them)`);
  const provider = requireProvider(split.platform);
  const action = requireAction(provider, split.action);
  const { connection_id, ...params } = args;
  if (connection_id !== undefined && typeof connection_id !== "string") {
    throw new AppError(400, "VALIDATION_ERROR", "Invalid arguments", [
      { path: `${argPath}.connection_id`, location: "json", message: "must be a string" },
    ]);
  }
  parseParams(action, params, argPath);
  const prepared = await prepareCall(env, {
    orgId: who.orgId,
    platform: split.platform,
    action: split.action,
    connectionId: connection_id,
    params,
  });
  return {
    name,
    run: async () => fromOutcome(requestId, name, await performCall(env, prepared, { idempotencyKey: key })),
  };
}

/** An MCP tool call: arguments checked against the server's schema; a server that fails is a failed result. */
function prepareMcpTool(
  env: Env,
  who: Caller,
  tool: McpTool,
  args: Record<string, unknown>,
  requestId: string,
  argPath: string,
  idempotencyKey: string,
): PreparedTool {
  checkMcpArguments(tool, args, argPath);
  return {
    name: tool.name,
    async run() {
      const started = Date.now();
      const base = {
        request_id: requestId,
        name: tool.name,
        http_status: null,
        retry_after_ms: null,
        connection_id: tool.connection.id,
      };
      try {
        const r = await callMcpTool(env, who.orgId, tool, args, idempotencyKey);
        return {
          ...base,
          success: r.success,
          data: r.data,
          error: r.error,
          error_kind: r.success ? null : "vendor",
          duration_ms: r.duration_ms,
        };
      } catch (err) {
        if (err instanceof AppError && err.status < 500) throw err;
        const message = err instanceof Error ? err.message : String(err);
        return {
          ...base,
          success: false,
          data: null,
          error: `The MCP server failed: ${message.slice(0, 500)}`,
          error_kind: "unavailable",
          duration_ms: Date.now() - started,
        };
      }
    },
  };
}

/**
 * A flow tool call: the arguments checked against the flow's declared variables (400 naming each), then the run
 * started through the one start path; admission's refusal (the flow disabled since, a chain too deep) is its 409.
 */
function prepareFlowTool(
  env: Env,
  who: Caller,
  tool: FlowTool,
  args: Record<string, unknown>,
  requestId: string,
  argPath: string,
  idempotencyKey: string,
): PreparedTool {
  const checked = checkArguments(tool.variables, args);
  if (!checked.ok)
    throw new AppError(
      400,
      "VALIDATION_ERROR",
      "Invalid arguments",
      checked.issues.map((i) => ({ path: `${argPath}.${i.path}`, location: "json", message: i.message })),
    );
  const caller = {
    orgId: who.orgId,
    actor: who.actor,
    user: { id: who.userId },
    via: who.parent ? "ai_agent" : "tools",
    ...(who.parent ? { parent: { ...who.parent, idempotencyKey } } : {}),
  };
  return {
    name: tool.name,
    async run() {
      const started = Date.now();
      const data = await startFlowRun(env, caller, tool, checked.variables);
      return {
        request_id: requestId,
        name: tool.name,
        success: true,
        data,
        error: null,
        error_kind: null,
        http_status: null,
        retry_after_ms: null,
        connection_id: null,
        duration_ms: Date.now() - started,
      };
    },
  };
}

/** Writes one audit row: who, tool, when, outcome, duration, the vendor status; never arguments or secrets. */
export async function auditToolCall(
  env: Env,
  who: Caller,
  entry: Pick<ToolAuditRow, "via" | "tool" | "request_id" | "started_at" | "duration_ms" | "outcome"> &
    Partial<Pick<ToolAuditRow, "connection_id" | "http_status" | "error_message">>,
): Promise<void> {
  await insertToolAudit(env.DB, {
    id: newId(),
    org_id: who.orgId,
    actor: who.actor,
    user_id: who.userId,
    connection_id: entry.connection_id ?? null,
    http_status: entry.http_status ?? null,
    error_message: entry.error_message ? entry.error_message.slice(0, 1000) : null,
    ...entry,
    tool: entry.tool.slice(0, LIMITS.MAX_TOOL_NAME_LENGTH),
  });
}

export interface ToolCallRequest {
  name: string;
  arguments: Record<string, unknown>;
  requestId: string;
  via: ToolAuditRow["via"];
  /** Where the arguments sit in the request, for error details. */
  argPath?: string;
  /** A stable key the caller owns (an ai_agent step's); without one each call gets a fresh key, never the request id. */
  idempotencyKey?: string;
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Looks the tool up and validates its arguments; a refusal is audited, then rethrown (4xx). */
export async function prepareToolAudited(
  env: Env,
  who: Caller,
  req: ToolCallRequest,
): Promise<PreparedTool & { startedMs: number }> {
  const startedMs = Date.now();
  try {
    return {
      ...(await prepareTool(env, who, req.name, req.arguments, req.requestId, req.argPath, req.idempotencyKey)),
      startedMs,
    };
  } catch (err) {
    await auditToolCall(env, who, {
      via: req.via,
      tool: req.name,
      request_id: req.requestId,
      started_at: isoNow(startedMs),
      duration_ms: Date.now() - startedMs,
      outcome: "error",
      error_message: errorMessage(err),
    });
    throw err;
  }
}

/** Runs a prepared tool and audits the outcome (a vendor failure is a result; only an unreadable connection throws). */
export async function runToolAudited(
  env: Env,
  who: Caller,
  req: ToolCallRequest,
  prepared: PreparedTool & { startedMs: number },
): Promise<ToolResult> {
  const base = { via: req.via, tool: req.name, request_id: req.requestId, started_at: isoNow(prepared.startedMs) };
  let result: ToolResult;
  try {
    result = await prepared.run();
  } catch (err) {
    await auditToolCall(env, who, {
      ...base,
      duration_ms: Date.now() - prepared.startedMs,
      outcome: "error",
      error_message: errorMessage(err),
    });
    throw err;
  }
  await auditToolCall(env, who, {
    ...base,
    duration_ms: Date.now() - prepared.startedMs,
    outcome: result.success ? "success" : "error",
    connection_id: result.connection_id,
    http_status: result.http_status,
    error_message: result.error,
  });
  return result;
}

export async function callTool(env: Env, who: Caller, req: ToolCallRequest): Promise<ToolResult> {
  return runToolAudited(env, who, req, await prepareToolAudited(env, who, req));
}

export const callerOf = (p: Principal, userId?: string): Caller => ({
  orgId: p.orgId,
  actor: p.actor,
  userId: userId ?? p.userId,
  scopes: p.scopes,
});
