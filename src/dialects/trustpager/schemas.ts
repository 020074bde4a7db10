import { z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { ACTION_TYPES } from "../../schemas/flow";
import { SimpleConditionSchema } from "../../schemas/conditions";
import { RunSchema } from "../../schemas/executions";
import { ItemIdSchema } from "../../schemas/flow-common";

/**
 * TrustPager's Automations API (seed 003) under `/api/v1/automations`. The document names the endpoints and a few
 * fields (`name`, `trigger_type`, `stage_id`, `conditions`, `source_type`, `action_type`, `sequence`, the run's
 * fields); every other field name here is our choice, described in the document below and in docs/dialects.md.
 */

export const TRUSTPAGER_TAG = "TrustPager";
/** How a 404 names the resource. */
export const NOUN = "Automation";

/**
 * What starts an automation. `form_submitted` is the document's deprecated name: refused with a 400 that says to
 * use `form_completed`.
 */
export const TP_TRIGGER_TYPES = [
  "manual",
  "stage_changed",
  "form_completed",
  "record_created",
  "record_updated",
  "record_deleted",
  "schedule",
] as const;
export type TpTriggerType = (typeof TP_TRIGGER_TYPES)[number];
/** Trigger rows may name any type but `stage_changed` (the automation's `stage_id` is its single source of truth). */
export const TP_ROW_SOURCE_TYPES = TP_TRIGGER_TYPES.filter((t) => t !== "stage_changed");

const TriggerTypeField = z
  .string()
  .max(100)
  .superRefine((v, ctx) => {
    if (v === "form_submitted") {
      ctx.addIssue({ code: "custom", message: 'trigger_type "form_submitted" is deprecated and rejected: use "form_completed"' });
    } else if (!(TP_TRIGGER_TYPES as readonly string[]).includes(v)) {
      ctx.addIssue({
        code: "custom",
        message: `Unknown trigger_type "${v.slice(0, 100)}"; known: ${TP_TRIGGER_TYPES.join(", ")}`,
      });
    }
  })
  .openapi({ type: "string", enum: [...TP_TRIGGER_TYPES], description: '`form_submitted` is refused: use "form_completed"' });

const Json = z.record(z.string().max(500), z.unknown());

export const TpConditionSchema = SimpleConditionSchema.omit({ id: true }).openapi("TrustPagerCondition", {
  description: "A condition on the triggering record: `field`, `operator` (equals, changed_to, …), `value`. All must pass.",
});

const automationWritable = {
  name: z.string().min(1).max(LIMITS.MAX_NAME_LENGTH),
  description: z.string().max(LIMITS.MAX_DESCRIPTION_LENGTH).optional(),
  trigger_type: TriggerTypeField,
  stage_id: z
    .string()
    .min(1)
    .max(200)
    .nullable()
    .optional()
    .openapi({ description: "Required for stage_changed: the stage a record must move to" }),
  stage_module: z
    .string()
    .min(1)
    .max(LIMITS.MAX_NAME_LENGTH)
    .optional()
    .openapi({ description: "Module whose records' `stage_id` field is watched by stage_changed (default `deals`)" }),
  conditions: z
    .array(TpConditionSchema)
    .max(LIMITS.MAX_CONDITIONS_PER_FLOW)
    .nullable()
    .optional()
    .openapi({ description: "`null` removes all conditions" }),
  enabled: z
    .boolean()
    .optional()
    .openapi({ description: "Default true on create (as in the engine); POST /:id/disable or enabled: false stops it" }),
};

export const TpAutomationCreateSchema = z.strictObject(automationWritable).openapi("TrustPagerAutomationCreate");
export const TpAutomationPatchSchema = z
  .strictObject({ ...automationWritable, name: automationWritable.name.optional(), trigger_type: TriggerTypeField.optional() })
  .openapi("TrustPagerAutomationPatch", { description: "Partial update: only the fields sent change" });

export const TpTriggerSchema = z
  .object({
    id: z.string(),
    automation_id: z.string(),
    source_type: z.enum(TP_ROW_SOURCE_TYPES as [string, ...string[]]),
    source_id: z.string().nullable().openapi({
      description: "form_completed: the form (null: any form); record_*: the module; manual: an optional module",
    }),
    config: Json.openapi({ description: "schedule: `{cron, timezone}`" }),
    created_at: z.string().nullable(),
  })
  .openapi("TrustPagerTrigger");

export const TpTriggerCreateSchema = z
  .strictObject({
    id: ItemIdSchema.optional().openapi({ description: "Assigned when missing" }),
    source_type: z
      .string()
      .max(100)
      .optional()
      .openapi({ description: "Defaults to the automation's trigger_type; stage_changed is refused (use stage_id)" }),
    source_id: z.string().min(1).max(200).nullable().optional(),
    config: Json.optional(),
  })
  .openapi("TrustPagerTriggerCreate");
export const TpTriggerPatchSchema = TpTriggerCreateSchema.omit({ id: true }).openapi("TrustPagerTriggerPatch");

export const TpActionSchema = z
  .object({
    id: z.string(),
    automation_id: z.string(),
    action_type: z.string(),
    sequence: z.number().int(),
    name: z.string().nullable(),
    config: z.unknown(),
  })
  .openapi("TrustPagerAction");

export const TpActionCreateSchema = z
  .strictObject({
    id: ItemIdSchema.optional().openapi({ description: "Assigned when missing" }),
    action_type: z.enum(ACTION_TYPES as [string, ...string[]]),
    sequence: z.number().int().min(0).max(1_000_000),
    name: z.string().max(LIMITS.MAX_NAME_LENGTH).optional(),
    config: z.unknown().optional().openapi({ description: "The action type's configuration (as in the engine's flows)" }),
  })
  .openapi("TrustPagerActionCreate");
export const TpActionPatchSchema = z
  .strictObject({
    action_type: TpActionCreateSchema.shape.action_type.optional(),
    sequence: TpActionCreateSchema.shape.sequence.optional(),
    name: z.string().max(LIMITS.MAX_NAME_LENGTH).nullable().optional(),
    config: z.unknown().optional(),
  })
  .openapi("TrustPagerActionPatch");

export const TpReorderSchema = z
  .strictObject({
    action_ids: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(LIMITS.MAX_ACTIONS_PER_FLOW)
      .openapi({ description: "Every action id of the automation, in the new order; sequences become 1, 2, 3 …" }),
  })
  .openapi("TrustPagerReorder");

export const TpAutomationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    trigger_type: z.string().openapi({ description: "`native` for a flow the TrustPager model cannot express (see x_native)" }),
    stage_id: z.string().nullable(),
    stage_module: z.string().nullable(),
    conditions: z.array(z.record(z.string(), z.unknown())).nullable(),
    enabled: z.boolean(),
    triggers: z.array(TpTriggerSchema),
    actions: z.array(TpActionSchema),
    created_at: z.string(),
    updated_at: z.string(),
    last_run_at: z.string().nullable(),
    run_count: z.number().int(),
    x_native: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description:
          "Present when the flow (made through another API) has parts this model cannot express: the whole flow as the " +
          "engine stores it. Writes through this dialect are then refused with 409 NOT_EXPRESSIBLE.",
      }),
  })
  .openapi("TrustPagerAutomation");

export const TpAutomationListSchema = z
  .object({ data: z.array(TpAutomationSchema), total: z.number().int() })
  .openapi("TrustPagerAutomationList");
export const TpTriggerListSchema = z.object({ data: z.array(TpTriggerSchema) }).openapi("TrustPagerTriggerList");
export const TpActionListSchema = z.object({ data: z.array(TpActionSchema) }).openapi("TrustPagerActionList");
export const TpDeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("TrustPagerDeleted");

export const TpListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(LIMITS.MAX_PAGE_SIZE).optional(),
  offset: z.coerce.number().int().min(0).max(100_000).optional(),
});

export const TpTriggerBody = z
  .strictObject({
    test_data: z.record(z.string(), z.unknown()).optional().openapi({ description: "The record the run sees" }),
    record_id: z.string().min(1).max(200).optional().openapi({ description: "Run against this stored record" }),
  })
  .openapi("TrustPagerTriggerRequest");

export const TpRunSchema = RunSchema.extend({ automation_id: z.string() }).openapi("TrustPagerRun");
export const TpRunListSchema = z.object({ data: z.array(TpRunSchema), total: z.number() }).openapi("TrustPagerRunList");
