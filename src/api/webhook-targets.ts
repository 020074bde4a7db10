import { CreateWebhookTargetRequest, UpdateWebhookTargetRequest, WebhookTargetSchema } from "../schemas/webhook-targets";
import { webhookTargetUseCases } from "../services/webhook-targets";
import { crudRouter, listSchema } from "./platform-crud";

/** `/v1/webhook-targets` (docs/platform.md): what `target_webhook_id` of trigger-webhook and inform-erp names. */
export const webhookTargetsRouter = crudRouter({
  noun: "webhook target",
  op: "WebhookTarget",
  tag: "Webhook targets",
  idName: "webhook_target_id",
  view: WebhookTargetSchema,
  list: listSchema(WebhookTargetSchema, "WebhookTargetList"),
  create: CreateWebhookTargetRequest,
  update: UpdateWebhookTargetRequest,
  useCases: webhookTargetUseCases,
  notes: "Auth secrets are encrypted at rest and never returned; the URL must pass the outbound policy",
});
