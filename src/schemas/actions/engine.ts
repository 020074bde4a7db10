import { z } from "@hono/zod-openapi";
import { isTemplate, ShortText, TemplatedEmail, TemplatedUrl } from "../flow-common";
import { action, webhookCallFields } from "./common";
import { WaitForEventConfig } from "./wait-for-event";

/**
 * Action types beyond the epilot document (Coherence's and the integration call). Their configs are
 * strict: a misspelt key is a 400, not a silently ignored setting. String values may be templates.
 */

const JsonObject = z.record(z.string().max(500), z.unknown());

export const CallWebhookConfig = z.strictObject({ ...webhookCallFields, url: TemplatedUrl });

/** Largest delay per unit (Coherence's limits: one day, or seven days in `days`). */
export const DELAY_MAX = { seconds: 86_400, minutes: 1_440, hours: 24, days: 7 } as const;

export const DelayConfig = z
  .strictObject({
    duration: z.union([
      z.number().positive(),
      z.string().max(1000).refine(isTemplate, { message: "must be a positive number or a {{ template }}" }),
    ]),
    unit: z.enum(["seconds", "minutes", "hours", "days"]).default("seconds"),
  })
  .superRefine((c, ctx) => {
    if (typeof c.duration === "number" && c.duration > DELAY_MAX[c.unit]) {
      ctx.addIssue({ code: "custom", path: ["duration"], message: `A delay in ${c.unit} may be at most ${DELAY_MAX[c.unit]}` });
    }
  });

export const CreateRecordConfig = z.strictObject({ module: ShortText, data: JsonObject });

export const UpdateRecordConfig = z
  .strictObject({
    record: z.enum(["trigger", "related", "id"]).openapi({
      description: "`trigger`: the record that triggered the flow; `related`/`id`: the record `record_id` names",
    }),
    module: ShortText.optional(),
    record_id: z.string().min(1).max(500).optional(),
    updates: JsonObject,
  })
  .superRefine((c, ctx) => {
    if (c.record !== "trigger" && !c.record_id) {
      ctx.addIssue({ code: "custom", path: ["record_id"], message: `record_id is required when record is "${c.record}"` });
    }
    if (c.record === "related" && !c.module) {
      ctx.addIssue({ code: "custom", path: ["module"], message: 'module is required when record is "related"' });
    }
  });

export const CoherenceSendEmailConfig = z
  .strictObject({
    to: TemplatedEmail,
    subject: z.string().max(1000).optional(),
    body: z.string().max(100_000).optional(),
    template: z.string().max(200).optional(),
    data: JsonObject.optional(),
    wait_for_confirmation: z.boolean().optional(),
  })
  .refine((c) => c.template !== undefined || c.body !== undefined, {
    message: "send_email needs a `template` or a `body`",
    path: ["body"],
  });

export const SendNotificationConfig = z.strictObject({
  user_id: z.string().min(1).max(500),
  title: z.string().min(1).max(500),
  message: z.string().max(5000).optional(),
  link: z.string().max(2000).optional(),
});

export const IntegrationConfig = z.strictObject({
  platform: ShortText.openapi({ example: "slack" }),
  action: ShortText.openapi({ example: "post_message" }),
  connection_id: z.string().min(1).max(200).optional(),
  params: JsonObject.default({}),
  customFields: z
    .array(z.strictObject({ field: z.string().min(1).max(200), customFieldEnabled: z.boolean() }))
    .max(100)
    .optional()
    .openapi({ description: "Params whose value names a field of the call data to resolve at run time" }),
});

export const ENGINE_ACTIONS = [
  action("call_webhook", CallWebhookConfig),
  action("delay", DelayConfig),
  action("create_record", CreateRecordConfig),
  action("update_record", UpdateRecordConfig),
  action("send_email", CoherenceSendEmailConfig),
  action("send_notification", SendNotificationConfig),
  action("integration", IntegrationConfig),
  action("wait_for_event", WaitForEventConfig),
] as const;
