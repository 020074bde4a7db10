import { z } from "@hono/zod-openapi";
import { TriggerConditionSchema } from "../conditions";
import { TemplatedEmail, TemplatedUrl } from "../flow-common";
import { action, webhookCallFields } from "./common";

/**
 * The action types of the epilot Automation API document with their config schemas. Configs keep keys
 * the document does not list (epilot adds fields over time); the listed ones are type-checked.
 */

const Strings = z.array(z.string().max(500)).max(200);

const MappingConfigRef = z.looseObject({
  config_id: z.string().min(1).max(200),
  target_id: z.string().min(1).max(200),
  version: z.number().optional(),
});

export const RelationAttribute = z.looseObject({
  target: z.string().min(1).max(500),
  target_tags: Strings.optional(),
  target_tags_include_source: z.boolean().optional(),
  source_filter: z
    .looseObject({
      limit: z.number().int().min(0).optional(),
      schema: z.string().max(200).optional(),
      attribute: z.string().max(500).optional(),
      relation_tag: z.string().max(200).optional(),
      tag: z.string().max(200).optional(),
      self: z.boolean().optional(),
    })
    .optional(),
  related_to: z.record(z.string(), z.unknown()).optional(),
  mode: z.enum(["append", "prepend", "set"]),
});

/** MappingAttributeV2 (`target` + `operation`) or one of the deprecated mode mappers. */
export const MappingAttribute = z
  .looseObject({
    target: z.string().max(500).optional(),
    operation: z.unknown().optional(),
    mode: z.enum(["copy_if_exists", "append_if_exists", "set_value"]).optional(),
    source: z.string().max(1000).optional(),
    value: z.unknown().optional(),
    value_json: z.string().optional(),
    target_unique: Strings.optional(),
  })
  .refine((m) => m.operation !== undefined || m.mode !== undefined, {
    message: "a mapping attribute needs `operation` (v2) or `mode`",
  });

const mappingFields = {
  mapping_config: MappingConfigRef.optional(),
  target_unique: Strings.optional(),
  mapping_attributes: z.array(MappingAttribute).max(500).optional(),
  relation_attributes: z.array(RelationAttribute).max(200).optional(),
  linkback_relation_attribute: z.union([z.string().max(500), z.literal(false)]).optional(),
  linkback_relation_tags: Strings.optional(),
};

export const MapEntityConfig = z.looseObject({ ...mappingFields, target_schema: z.string().min(1).max(200) });
export const CartCheckoutConfig = z.looseObject({ ...mappingFields, version: z.string().max(20).optional() });

export const TriggerWorkflowConfig = z.looseObject({
  target_workflow: z.string().max(200).optional(),
  conditions: z
    .array(TriggerConditionSchema.extend({ schema: z.string().min(1).max(200) }))
    .max(100)
    .optional(),
  assignees: Strings.optional(),
  assign_steps: z
    .array(
      z.looseObject({
        step_id: z.string().max(200).optional(),
        step_name: z.string().max(500).optional(),
        user_ids: z.array(z.number()).max(200).optional(),
      }),
    )
    .max(200)
    .optional(),
  filter_with_purposes: z.boolean().optional(),
});

export const TriggerShareEntityConfig = z.looseObject({ partner_org_ids: Strings.optional() });

/** The document's TriggerWebhookConfig plus our direct-call fields: needs either `url` or `target_webhook_id`. */
export const TriggerWebhookConfig = z
  .looseObject({ event_id: z.string().max(200).optional(), ...webhookCallFields })
  .refine((c) => c.url !== undefined || c.target_webhook_id !== undefined, {
    message: "trigger-webhook needs `url` or `target_webhook_id`",
    path: ["url"],
  });

export const InformErpConfig = z.looseObject({
  entity_sources: Strings.optional(),
  target_webhook_id: z.string().max(200).optional(),
  sync: z.boolean().optional(),
});

export const TriggerEventConfig = z.looseObject({
  event_name: z.string().min(1).max(200),
  event_inputs: z.record(z.string(), z.unknown()).optional(),
});

export const CreateDocumentConfig = z.looseObject({
  template_id: z.string().max(200).optional(),
  filename: z.string().max(500).optional(),
});

const LANGUAGES = z.enum(["de", "en"]);
const REPLY_MODES = z.enum(["reply_in_thread", "new_email"]);

export const SendEmailConfig = z.looseObject({
  email_template_id: z.string().max(200).optional(),
  language_code: LANGUAGES.optional(),
  notify_portal_user_only: z.boolean().optional(),
  skip_creating_entities: z.boolean().optional(),
  wait_for_confirmation: z.boolean().optional(),
  reply_to_sender: z.boolean().optional(),
  reply_mode: REPLY_MODES.optional(),
  mark_as_done: z.boolean().optional(),
  attachments: z
    .array(
      z.looseObject({
        source_filter: z
          .looseObject({
            limit: z.number().int().min(0).optional(),
            filename_regex: z.string().max(500).optional(),
            attribute: z.string().max(500).optional(),
            relation_tag: z.string().max(200).optional(),
            tag: z.string().max(200).optional(),
            document_type: z
              .enum([
                "document",
                "text",
                "image",
                "video",
                "audio",
                "spreadsheet",
                "presentation",
                "font",
                "archive",
                "application",
                "unknown",
              ])
              .optional(),
            self: z.boolean().optional(),
          })
          .optional(),
      }),
    )
    .max(50)
    .optional(),
  conditions: z
    .array(z.looseObject({ _equals: z.looseObject({ source: z.string().optional(), value: z.string().optional() }).optional() }))
    .max(100)
    .optional(),
});

/** The document's CustomAction config plus the engine's `url` (where the call goes) and `wait_for_callback`. */
export const CustomActionConfig = z.looseObject({
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
  app_id: z.string().max(200).optional(),
  component_id: z.string().max(200).optional(),
  url: TemplatedUrl.optional(),
  wait_for_callback: z.boolean().default(false),
});

const CancellationReason = z.looseObject({ id: z.string().min(1).max(200), title: z.string().min(1).max(500) });
export const FlowExecutionCancelConfig = z.looseObject({
  selected_reasons: z.array(CancellationReason).max(100).optional(),
  configured_reasons: z.array(CancellationReason).max(100).optional(),
  extra_description: z.string().max(2000).optional(),
});

export const ForwardEmailConfig = z.looseObject({
  forward_to: z
    .array(z.looseObject({ email: TemplatedEmail, name: z.string().max(200).optional() }))
    .min(1)
    .max(50),
  include_attachments: z.boolean().optional(),
  subject_prefix: z.string().max(200).optional(),
  mark_as_done: z.boolean().optional(),
});

export const ReplyEmailConfig = z.looseObject({
  email_template_id: z.string().max(200).optional(),
  language_code: LANGUAGES.optional(),
  reply_mode: REPLY_MODES.optional(),
  mark_as_done: z.boolean().optional(),
});

export const MoveThreadConfig = z.looseObject({ target_inbox_id: z.string().max(200).optional() });
export const AssignThreadConfig = z.looseObject({ remove: Strings.optional(), add: Strings.optional() });

export const EPILOT_ACTIONS = [
  action("map-entity", MapEntityConfig.optional()),
  action("trigger-workflow", TriggerWorkflowConfig.optional()),
  action("trigger-share-entity", TriggerShareEntityConfig.optional()),
  action("trigger-webhook", TriggerWebhookConfig),
  action("inform-erp", InformErpConfig.optional()),
  action("trigger-event", TriggerEventConfig),
  action("create-document", CreateDocumentConfig.optional()),
  action("send-email", SendEmailConfig.optional()),
  action("cart-checkout", CartCheckoutConfig.optional()),
  action("custom-action", CustomActionConfig.optional()),
  action("cancel-flow-execution", FlowExecutionCancelConfig.optional()),
  action("forward-email", ForwardEmailConfig),
  action("reply-email", ReplyEmailConfig.optional()),
  action("move-thread", MoveThreadConfig.optional()),
  action("assign-thread", AssignThreadConfig.optional()),
] as const;
