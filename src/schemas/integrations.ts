import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

/** Request and response documents of connections, notifications, the tool catalog and unified execute. */

const Json = z.record(z.string(), z.unknown());
const Platform = z.string().min(1).max(100).openapi({ example: "slack" });

/** A connection's health: `error` and `expired` after a failed use or test, `active` after a good one. */
export const CONNECTION_STATUSES = ["active", "error", "expired"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export const ConnectionStatusSchema = z.enum(CONNECTION_STATUSES).openapi("ConnectionStatus");

export const ConnectionSchema = z
  .object({
    id: z.string(),
    platform: z.string(),
    name: z.string(),
    status: ConnectionStatusSchema,
    error_message: z.string().nullable(),
    config: Json.openapi({ description: "The config with every secret field masked (`********`)" }),
    created_at: z.string(),
    updated_at: z.string(),
    created_by: z.string(),
    last_tested_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .openapi("Connection");

export const ConnectionListSchema = z.object({ total: z.number(), results: z.array(ConnectionSchema) }).openapi("ConnectionList");

export const CreateConnectionRequest = z
  .object({
    platform: Platform,
    name: z.string().trim().min(1).max(LIMITS.MAX_NAME_LENGTH),
    config: Json.openapi({
      description: "Platform-specific config (see GET /v1/connections/platforms); secrets are encrypted at rest",
    }),
    test: z
      .boolean()
      .optional()
      .openapi({ description: "Run the connection test right away and record its outcome in the status" }),
  })
  .strict()
  .openapi("CreateConnectionRequest");

export const UpdateConnectionRequest = z
  .object({
    name: z.string().trim().min(1).max(LIMITS.MAX_NAME_LENGTH).optional(),
    status: ConnectionStatusSchema.optional(),
    config: Json.optional().openapi({
      description: "Merged over the stored config: omitted keys and `********` keep stored values, `null` removes a key",
    }),
  })
  .strict()
  .refine((b) => b.name !== undefined || b.status !== undefined || b.config !== undefined, { message: "Nothing to update" })
  .openapi("UpdateConnectionRequest");

export const TestConfigRequest = z.object({ platform: Platform, config: Json }).strict().openapi("TestConnectionConfigRequest");

export const TestResultSchema = z
  .object({
    success: z.boolean(),
    platform: z.string(),
    message: z.string(),
    details: Json,
    http_status: z.number().nullable(),
    error_kind: z.string().nullable(),
    duration_ms: z.number(),
    connection: ConnectionSchema.optional(),
  })
  .openapi("ConnectionTestResult");

export const ConnectionListQuery = z.object({
  platform: z.string().max(100).optional(),
  size: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
  from: z.coerce.number().int().min(0).max(100_000).optional(),
});

export const ToolEffectSchema = z.enum(["read", "write"]).openapi({
  description:
    "`read`: only looks; `write`: sends, creates, updates or deletes. In a conversation a write tool the model calls waits " +
    "for a person's approval (pending_tool_calls) unless the conversation auto-approves it",
});

export const PlatformSchema = z
  .object({
    platform: z.string(),
    title: z.string(),
    description: z.string(),
    category: z.string(),
    docs_url: z.string(),
    secret_fields: z.array(z.string()),
    url_fields: z.array(z.string()).openapi({
      description: "Config fields holding URLs: changing one needs every secret field in the same request (SECRETS_REQUIRED)",
    }),
    config_schema: Json.openapi({ description: "JSON Schema (2020-12) of the connection config" }),
    actions: z.array(
      z.object({
        name: z.string(),
        title: z.string(),
        description: z.string(),
        effect: ToolEffectSchema,
        params_schema: Json,
        result_schema: Json,
      }),
    ),
  })
  .openapi("Platform");

export const ReencryptResultSchema = z
  .object({ reencrypted: z.number(), failed: z.array(z.string()), key_id: z.string() })
  .openapi("ReencryptResult");

// ---- notifications -------------------------------------------------------------------------------

export const NotificationSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    title: z.string(),
    message: z.string().nullable(),
    link: z.string().nullable(),
    source: Json,
    created_at: z.string(),
    read_at: z.string().nullable(),
    read: z.boolean(),
  })
  .openapi("Notification");

export const NotificationListSchema = z
  .object({ total: z.number(), unread: z.number(), results: z.array(NotificationSchema) })
  .openapi("NotificationList");

export const NotificationListQuery = z.object({
  unread_only: z.enum(["true", "false"]).optional(),
  user_id: z.string().max(500).optional().openapi({ description: "Another user's inbox (superuser only)" }),
  size: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
  from: z.coerce.number().int().min(0).max(100_000).optional(),
});

// ---- tools ------------------------------------------------------------------------------------------

export const ToolSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    description: z.string(),
    effect: ToolEffectSchema,
    required_scope: z.string().nullable().openapi({
      description: "A scope the caller needs beyond automations:trigger (create_record: automations:write), or null",
    }),
    kind: z.enum(["provider", "core", "mcp", "flow"]).openapi({
      description:
        "`provider`: a platform's action; `core`: the engine's own; `mcp`: a tool of a connected MCP server; `flow`: a flow of the organization exposed as a tool (its `action` is the flow id; calling it starts a run)",
    }),
    platform: z.string().nullable(),
    action: z.string(),
    inputSchema: Json.openapi({ description: "JSON Schema (2020-12) of the tool's arguments" }),
    outputSchema: Json,
    requires_connection: z.boolean(),
    available: z.boolean(),
    connections: z.array(z.object({ id: z.string(), name: z.string(), status: ConnectionStatusSchema })),
  })
  .openapi("Tool");

export const ToolListSchema = z.object({ total: z.number(), tools: z.array(ToolSchema) }).openapi("ToolList");

export const ToolListQuery = z.object({
  include_all: z.enum(["true", "false"]).optional().openapi({ description: "Also list tools whose connection is missing" }),
  all: z.enum(["true", "false"]).optional().openapi({ description: "Alias of include_all" }),
});

export const ToolCallRequest = z
  .object({
    name: z.string().min(1).max(LIMITS.MAX_TOOL_NAME_LENGTH).openapi({ example: "slack_post_message" }),
    arguments: Json.default({}).openapi({ description: "Arguments as the tool's inputSchema describes them" }),
  })
  .strict()
  .openapi("ToolCallRequest");

export const ToolCallResultSchema = z
  .object({
    request_id: z.string(),
    name: z.string(),
    success: z.boolean(),
    data: z.unknown().nullable(),
    error: z.string().nullable(),
    error_kind: z.string().nullable(),
    http_status: z.number().nullable(),
    retry_after_ms: z.number().nullable(),
    connection_id: z.string().nullable(),
    duration_ms: z.number(),
  })
  .openapi("ToolCallResult");

export const ToolAuditSchema = z
  .object({
    id: z.string(),
    actor: z.string(),
    user_id: z.string(),
    via: z.string(),
    tool: z.string(),
    connection_id: z.string().nullable(),
    request_id: z.string().nullable(),
    started_at: z.string(),
    duration_ms: z.number(),
    outcome: z.enum(["success", "error"]),
    http_status: z.number().nullable(),
    error_message: z.string().nullable(),
  })
  .openapi("ToolAuditEntry");

export const ToolAuditListSchema = z.object({ total: z.number(), results: z.array(ToolAuditSchema) }).openapi("ToolAuditList");

// ---- unified execute (Plura) ---------------------------------------------------------------------

export const ExecuteRequest = z
  .object({
    automationType: z
      .string()
      .min(1)
      .max(100)
      .openapi({ description: "Platform id (slack, hubspot, google_calendar, …) or `core`" }),
    nodeId: z.string().max(500).optional(),
    userId: z.string().max(500).optional().openapi({ description: "Acted-for user; JWT callers may only name themselves" }),
    nodeParams: z
      .object({
        action: z.string().min(1).max(200),
        params: Json.default({}),
        connectionId: z.string().min(1).max(200).optional(),
      })
      .strict(),
    transcript: z.string().max(200_000).optional(),
    context: Json.optional(),
    callData: z
      .object({ fields: Json.optional() })
      .passthrough()
      .optional()
      .openapi({ description: "Call data; `fields` resolve custom fields" }),
  })
  .strict()
  .openapi("ExecuteRequest");

export const ExecuteResponseSchema = z
  .object({
    requestId: z.string(),
    nodeId: z.string().nullable(),
    automationType: z.string(),
    success: z.boolean(),
    data: z.unknown().nullable(),
    error: z.string().nullable(),
    metadata: Json,
    timestamp: z.string(),
    duration: z.number(),
  })
  .openapi("ExecuteResponse");
