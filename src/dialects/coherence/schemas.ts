import { z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { SimpleConditionSchema } from "../../schemas/conditions";

/**
 * Coherence's Automation API (seed 004) under `/v1/automations`: the document's own shapes (`{data}` envelopes,
 * `{data, meta: {total, page, per_page}}` lists, a single `trigger`, `{type, config}` actions, execution logs).
 */

export const COHERENCE_TAG = "Coherence";
/** How a 404 names the resource. */
export const NOUN = "Automation";

export const COH_TRIGGER_TYPES = [
  "record.created",
  "record.updated",
  "record.deleted",
  "field.changed",
  "schedule",
  "webhook",
  "manual",
] as const;

/** The longest webhook_path: the URL adds "." and the 43-character token (kept short enough for any URL limit). */
export const MAX_WEBHOOK_PATH = 56;

export const CohTriggerSchema = z
  .strictObject({
    type: z.enum(COH_TRIGGER_TYPES),
    module: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).optional().openapi({ description: "Required for record triggers" }),
    field: z.string().min(1).max(500).optional().openapi({ description: "Required for field.changed" }),
    schedule: z.string().min(1).max(200).optional().openapi({ description: "Required for schedule (cron, UTC)" }),
    webhook_path: z
      .string()
      .regex(new RegExp(`^[A-Za-z0-9_-]{1,${MAX_WEBHOOK_PATH}}$`), `must be 1-${MAX_WEBHOOK_PATH} letters, digits, '_' or '-'`)
      .optional()
      .openapi({ description: "Required for webhook" }),
  })
  .superRefine((t, ctx) => {
    const need = (key: "module" | "field" | "schedule" | "webhook_path") => {
      if (t[key] === undefined)
        ctx.addIssue({ code: "custom", path: [key], message: `${key} is required for ${t.type} triggers` });
    };
    if (t.type.startsWith("record.") || t.type === "field.changed") need("module");
    if (t.type === "field.changed") need("field");
    if (t.type === "schedule") need("schedule");
    if (t.type === "webhook") need("webhook_path");
    // A field the type does not use is refused rather than dropped.
    const uses: Record<string, readonly string[]> = {
      "field.changed": ["module", "field"],
      schedule: ["schedule"],
      webhook: ["webhook_path"],
    };
    const used = uses[t.type] ?? ["module"];
    for (const key of ["module", "field", "schedule", "webhook_path"] as const) {
      if (t[key] !== undefined && !used.includes(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `${key} does not apply to ${t.type} triggers` });
      }
    }
  })
  .openapi("CoherenceTrigger");

export const CohConditionSchema = SimpleConditionSchema.omit({ id: true }).openapi("CoherenceCondition");

export const CohActionSchema = z
  .strictObject({
    type: z.string().min(1).max(100).openapi({
      description: "update_record, create_record, send_email, send_notification, call_webhook, delay (or any engine type)",
    }),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("CoherenceAction");

const errorHandlingFields = {
  notify_on_failure: z.boolean().optional(),
  notify_email: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ description: "Receives a failure report by e-mail (the address is checked by the e-mail provider)" }),
  notify_url: z
    .string()
    .url()
    .max(4000)
    .optional()
    .openapi({ description: "Receives a failure report by POST (engine extension)" }),
  disable_after_failures: z.number().int().min(1).max(100).optional(),
};

export const CohErrorHandlingSchema = z.strictObject(errorHandlingFields).openapi("CoherenceErrorHandling");

const writable = {
  name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH),
  description: z.string().max(LIMITS.MAX_DESCRIPTION_LENGTH).nullable().optional(),
  trigger: CohTriggerSchema,
  conditions: z.array(CohConditionSchema).max(LIMITS.MAX_CONDITIONS_PER_FLOW).optional(),
  actions: z.array(CohActionSchema).max(LIMITS.MAX_ACTIONS_PER_FLOW),
  enabled: z.boolean().optional().openapi({ description: "Whether to enable immediately (default: false)" }),
  error_handling: CohErrorHandlingSchema.optional(),
};

export const CohCreateSchema = z.strictObject(writable).openapi("CoherenceAutomationCreate");
export const CohPatchSchema = z
  .strictObject({
    ...writable,
    name: writable.name.optional(),
    trigger: CohTriggerSchema.optional(),
    actions: writable.actions.optional(),
    // Inline (not the component): OpenAPI 3.0 cannot mark a $ref nullable.
    error_handling: z
      .strictObject(errorHandlingFields)
      .nullable()
      .optional()
      .openapi({ description: "`null` removes the error handling" }),
  })
  .openapi("CoherenceAutomationPatch", {
    description: "Partial update. Updating an automation automatically disables it: re-enable after testing your changes.",
  });

export const CohAutomationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    trigger: z.record(z.string(), z.unknown()),
    conditions: z.array(z.record(z.string(), z.unknown())),
    actions: z.array(z.object({ type: z.string(), config: z.unknown() })),
    error_handling: z.record(z.string(), z.unknown()).optional(),
    webhook_url: z
      .string()
      .optional()
      .openapi({
        description:
          "Webhook triggers: the URL to call, with its unguessable token. Returned only when the automation is created or " +
          "its trigger changes; keep it (other answers show `webhook_path` only)",
      }),
    error: z
      .object({ code: z.literal("automation_disabled"), message: z.string(), last_error: z.string().nullable() })
      .optional()
      .openapi({ description: "Present while the circuit breaker keeps the automation disabled" }),
    created_at: z.string(),
    updated_at: z.string(),
    last_run_at: z.string().nullable(),
    run_count: z.number().int(),
    x_native: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description:
          "Present when the flow (made through another API) has parts Coherence's model cannot express: the whole flow as " +
          "the engine stores it. Writes through this dialect are then refused with 409 NOT_EXPRESSIBLE.",
      }),
  })
  .openapi("CoherenceAutomation");

export const CohDataSchema = z.object({ data: CohAutomationSchema }).openapi("CoherenceAutomationResponse");
const Meta = z.object({ total: z.number().int(), page: z.number().int(), per_page: z.number().int() });
export const CohListSchema = z.object({ data: z.array(CohAutomationSchema), meta: Meta }).openapi("CoherenceAutomationList");
export const CohDeletedSchema = z
  .object({ data: z.object({ id: z.string(), deleted: z.literal(true) }) })
  .openapi("CoherenceDeleted");
export const CohToggledSchema = z
  .object({ data: z.object({ id: z.string(), enabled: z.boolean() }) })
  .openapi("CoherenceToggled");

const BoolParam = z.enum(["true", "false"]).optional().openapi({ type: "boolean" });
const Page = {
  page: z.coerce.number().int().min(1).max(100_000).optional(),
  per_page: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
};
export const CohListQuery = z.object({
  module: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH).optional(),
  enabled: BoolParam,
  trigger_type: z.enum(COH_TRIGGER_TYPES).optional(),
  ...Page,
});

export const CohLogsQuery = z.object({
  status: z.enum(["success", "failed", "running", "skipped"]).optional(),
  since: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: "At most 100 (default 25)" }),
  page: Page.page,
});

export const CohLogSchema = z
  .object({
    id: z.string(),
    automation_id: z.string(),
    status: z.enum(["success", "failed", "running", "skipped"]),
    trigger_data: z.record(z.string(), z.unknown()),
    actions_executed: z.array(
      z.object({
        type: z.string(),
        status: z.string(),
        duration_ms: z.number().nullable(),
        error: z.string().optional(),
        error_code: z.string().optional().openapi({
          description:
            "condition_evaluation_failed, action_timeout, webhook_connection_failed, email_delivery_failed, record_not_found, permission_denied or action_failed",
        }),
      }),
    ),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    duration_ms: z.number().nullable(),
  })
  .openapi("CoherenceLog");
export const CohLogListSchema = z.object({ data: z.array(CohLogSchema), meta: Meta }).openapi("CoherenceLogList");

export const CohRunBody = z
  .strictObject({
    record_id: z.string().min(1).max(200).optional(),
    test_data: z.record(z.string(), z.unknown()).optional().openapi({ description: "Engine extension: run on this data" }),
    previous: z.record(z.string(), z.unknown()).optional().openapi({ description: "Previous values, for changed_* conditions" }),
  })
  .openapi("CoherenceRunRequest");

export const CohTestSchema = z
  .object({
    data: z.object({
      would_execute: z.boolean(),
      conditions_passed: z.boolean(),
      conditions_evaluated: z.array(z.record(z.string(), z.unknown())),
      actions_preview: z.array(z.object({ type: z.string(), config: z.unknown() })),
    }),
  })
  .openapi("CoherenceTestResult");

export const CohTriggeredSchema = z
  .object({ data: CohLogSchema.extend({ run_id: z.string() }) })
  .openapi("CoherenceTriggered", { description: "The run, in the log entry's shape" });

export const CohRotatedSchema = z
  .object({
    data: z.object({
      id: z.string(),
      webhook_url: z.string().openapi({ description: "The webhook URL with its new token: shown once, keep it" }),
    }),
  })
  .openapi("CoherenceRotatedWebhookToken");
