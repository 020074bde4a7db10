import { WEBHOOK_TOKEN_PATTERN } from "../lib/webhook-tokens";
import { z } from "@hono/zod-openapi";
import { Cron } from "croner";
import { FilterConfigSchema } from "./conditions";
import { ItemIdSchema, SecretConfigured, ShortText, WriteOnlySecret } from "./flow-common";
import { FlowVariablesSchema } from "./flow-variables";
import { LIMITS } from "../lib/limits";

/**
 * Flow triggers, all in the epilot document's `{id, type, configuration}` shape: the nine epilot trigger
 * types, plus `schedule` (cron), `webhook`, `manual`, Coherence's record/field triggers and `event`
 * (fired by a `trigger-event` action). epilot configurations keep unknown keys (the epilot API grows);
 * the engine's own configurations reject them, so a typo is a 400 instead of a silently ignored field.
 */

const ENTITY_OPERATIONS = ["createEntity", "updateEntity", "deleteEntity", "softDeleteEntity", "restoreEntity"] as const;

const trigger = <T extends string, C extends z.ZodType>(type: T, configuration: C) =>
  z.object({
    id: ItemIdSchema.optional().openapi({ description: "Assigned by the server when missing" }),
    type: z.literal(type),
    configuration,
  });

const FrontendSubmitTrigger = trigger("frontend_submission", z.looseObject({ source_id: z.string().max(200).optional() }));
const JourneySubmitTrigger = trigger("journey_submission", z.looseObject({ source_id: z.string().min(1).max(200) }));
const ApiSubmissionTrigger = trigger("api_submission", z.looseObject({ source_id: z.string().max(200).optional() }));

const EntityOperationTrigger = trigger(
  "entity_operation",
  z.looseObject({
    schema: z.string().max(200).optional(),
    operations: z.array(z.enum(ENTITY_OPERATIONS)).min(1).optional(),
    include_activities: z.array(z.string().max(200)).max(100).optional(),
    exclude_activities: z.array(z.string().max(200)).max(100).optional(),
    filter_config: FilterConfigSchema.optional(),
    ecp_config: z
      .looseObject({
        origin: z.string().max(200).optional(),
        portal_id: z.string().max(200).optional(),
        file_config: z.looseObject({ shared_with_end_customer: z.boolean().optional() }).optional(),
      })
      .optional(),
  }),
);

const ActivityTrigger = trigger(
  "activity",
  z.looseObject({
    schema: z.string().max(200).optional(),
    types: z.array(z.string().max(200)).max(100).optional(),
    include_activities: z.array(z.string().max(200)).max(100).optional(),
    exclude_activities: z.array(z.string().max(200)).max(100).optional(),
  }),
);
const EntityManualTrigger = trigger("entity_manual", z.looseObject({ schema: z.string().max(200).optional() }));
const ReceivedEmailTrigger = trigger("received_email", z.looseObject({ message_type: z.enum(["RECEIVED"]).optional() }));
const NewEmailThreadTrigger = trigger(
  "new_email_thread",
  z.looseObject({
    shared_inbox_ids: z.array(z.string().max(200)).max(100).optional(),
    direction: z.enum(["INBOUND", "OUTBOUND", "BOTH"]),
  }),
);
const FlowsTrigger = trigger("flows_trigger", z.looseObject({ journey_id: z.string().max(200).optional() }).optional());

/** Checks a cron expression and time zone the way the scheduler will run them (croner, 5 or 6 fields). */
export function cronProblems(cron: string, timezone: string | undefined): { path: "cron" | "timezone"; message: string }[] {
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    } catch {
      return [{ path: "timezone", message: `Unknown time zone "${timezone}" (use an IANA name such as Europe/Berlin)` }];
    }
  }
  const fields = cron.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) {
    return [{ path: "cron", message: `A cron expression needs 5 or 6 space-separated fields, got ${fields}` }];
  }
  try {
    const job = new Cron(cron, { timezone, paused: true, mode: "5-or-6-parts" });
    if (!job.nextRun()) return [{ path: "cron", message: "The cron expression never fires" }];
  } catch (err) {
    return [{ path: "cron", message: `Invalid cron expression: ${err instanceof Error ? err.message : String(err)}` }];
  }
  return [];
}

/** What a schedule does with instants missed while paused (or while its alarm was late); engine/schedule.ts runs it. */
export const CATCH_UP_POLICIES = ["none", "one", "all"] as const;
export type CatchUp = (typeof CATCH_UP_POLICIES)[number];

const ScheduleTrigger = trigger(
  "schedule",
  z
    .strictObject({
      cron: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .openapi({ example: "0 9 * * 1-5", description: "A cron expression (or `interval`)" }),
      timezone: z
        .string()
        .min(1)
        .max(100)
        .optional()
        .openapi({ example: "Europe/Berlin", description: "IANA zone of `cron`; UTC when absent" }),
      interval: z
        .number()
        .int()
        .min(LIMITS.MIN_AGENT_INTERVAL_SECONDS)
        .max(LIMITS.MAX_AGENT_INTERVAL_SECONDS)
        .optional()
        .openapi({
          description: `Fire every N seconds (at least ${LIMITS.MIN_AGENT_INTERVAL_SECONDS}; instead of \`cron\`), on a grid from when it was set`,
        }),
      catch_up: z
        .enum(CATCH_UP_POLICIES)
        .optional()
        .openapi({
          description:
            "Instants missed while paused (or while the alarm was late): `none` (default) runs none on resume (a late alarm runs " +
            `the latest once), \`one\` runs the most recent once, \`all\` runs each (at most ${LIMITS.MAX_AGENT_CATCHUP_RUNS})`,
        }),
      paused: z.boolean().optional().openapi({ description: "A paused schedule fires nothing; unpaused, catch_up applies" }),
    })
    .superRefine((cfg, ctx) => {
      if ((cfg.cron === undefined) === (cfg.interval === undefined))
        ctx.addIssue({
          code: "custom",
          path: [cfg.cron === undefined ? "cron" : "interval"],
          message: "Give exactly one of `cron` or `interval` (seconds)",
        });
      if (cfg.timezone !== undefined && cfg.cron === undefined)
        ctx.addIssue({ code: "custom", path: ["timezone"], message: "`timezone` applies to `cron` only" });
      if (cfg.cron === undefined) return;
      for (const p of cronProblems(cfg.cron, cfg.timezone)) ctx.addIssue({ code: "custom", path: [p.path], message: p.message });
    }),
);

export const WEBHOOK_PATH_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

const WebhookTrigger = trigger(
  "webhook",
  z.strictObject({
    path: z
      .string()
      .regex(WEBHOOK_PATH_PATTERN, "must be 1-100 letters, digits, '.', '_' or '-'")
      .openapi({ example: "my-hook", description: "Last segment of the inbound URL: POST /v1/webhooks/{flow_id}/{path}" }),
    secret: WriteOnlySecret,
    secret_configured: SecretConfigured,
    rotate_immediately: z
      .boolean()
      .optional()
      .openapi({
        writeOnly: true,
        description:
          "On a PUT: retire replaced secrets at once. Without it, a secret replaced by a new one keeps verifying for " +
          "24 hours (LIMITS.WEBHOOK_SECRET_OVERLAP_MS); sending it with no new secret ends a running overlap. Not stored.",
      }),
    allow_unsigned: z
      .boolean()
      .default(false)
      .openapi({
        description:
          "Accept unsigned calls when no secret is configured (only sensible behind another gate). " +
          "With a secret configured every call must be signed, whatever this says.",
      }),
    provider: z
      .enum(["standard", "stripe", "github"])
      .default("standard")
      .openapi({ description: "Signature scheme the inbound calls use" }),
    token: z
      .string()
      .regex(WEBHOOK_TOKEN_PATTERN, "must be 32-64 letters, digits, '_' or '-'")
      .nullable()
      .optional()
      .openapi({
        writeOnly: true,
        description:
          "A URL token: calls must go to POST /v1/webhooks/{flow_id}/{path}.{token} (the path alone is 404). Stored only " +
          "as its SHA-256 and never returned; omit it on a PUT to keep the stored one, null removes it.",
      }),
    token_configured: z
      .boolean()
      .optional()
      .openapi({ readOnly: true, description: "Whether the URL needs a token (the token itself is never returned)" }),
  }),
);

const ManualTrigger = z.object({
  id: ItemIdSchema.optional(),
  type: z.literal("manual"),
  configuration: z
    .looseObject({
      schema: z.string().max(200).optional(),
      module: z.string().max(200).optional(),
      variables: FlowVariablesSchema.optional(),
    })
    .optional(),
});

const RecordCreatedTrigger = trigger("record.created", z.strictObject({ module: ShortText }));
const RecordUpdatedTrigger = trigger("record.updated", z.strictObject({ module: ShortText }));
const RecordDeletedTrigger = trigger("record.deleted", z.strictObject({ module: ShortText }));
const FieldChangedTrigger = trigger("field.changed", z.strictObject({ module: ShortText, field: z.string().min(1).max(500) }));
const EventTrigger = trigger("event", z.strictObject({ event_name: ShortText }));

const TRIGGER_SCHEMAS = [
  FrontendSubmitTrigger,
  JourneySubmitTrigger,
  ApiSubmissionTrigger,
  EntityOperationTrigger,
  ActivityTrigger,
  EntityManualTrigger,
  ReceivedEmailTrigger,
  NewEmailThreadTrigger,
  FlowsTrigger,
  ScheduleTrigger,
  WebhookTrigger,
  ManualTrigger,
  RecordCreatedTrigger,
  RecordUpdatedTrigger,
  RecordDeletedTrigger,
  FieldChangedTrigger,
  EventTrigger,
] as const;

export const TRIGGER_TYPES = TRIGGER_SCHEMAS.map((s) => s.shape.type.value);

const describe = (v: unknown): string =>
  typeof v === "string" ? JSON.stringify(v.slice(0, 100)) : v === undefined ? "missing" : typeof v;

export const FlowTriggerSchema = z
  .discriminatedUnion("type", TRIGGER_SCHEMAS, {
    error: (iss) =>
      iss.code === "invalid_union"
        ? `Unknown trigger type (${describe((iss.input as { type?: unknown } | undefined)?.type)}); known types: ${TRIGGER_TYPES.join(", ")}`
        : undefined,
  })
  .openapi("FlowTrigger");
export type FlowTrigger = z.output<typeof FlowTriggerSchema> & { id: string };

/**
 * The key under which a trigger is indexed in `flow_triggers.source_key`. The matcher looks up
 * `source_key IN (<key of the event>, '*')`, so '*' means "any source".
 */
export function triggerSourceKey(t: z.output<typeof FlowTriggerSchema>): string {
  switch (t.type) {
    case "entity_operation":
    case "entity_manual":
    case "activity":
      return t.configuration.schema || "*";
    case "record.created":
    case "record.updated":
    case "record.deleted":
    case "field.changed":
      return t.configuration.module;
    case "api_submission":
    case "frontend_submission":
    case "journey_submission":
      return t.configuration.source_id || "*";
    case "webhook":
      return t.configuration.path;
    case "event":
      return t.configuration.event_name;
    case "flows_trigger":
      return t.configuration?.journey_id || "*";
    default:
      return "*";
  }
}
