import { z } from "@hono/zod-openapi";
import { LIMITS } from "../../lib/limits";
import { ItemIdSchema, RetryPolicySchema, SecretConfigured, TemplatedUrl, WriteOnlySecret } from "../flow-common";

/** Fields every action has (epilot's AutomationActionConfig plus our retry_policy). */
export const actionFields = {
  id: ItemIdSchema.optional().openapi({ description: "Assigned by the server when missing; kept across updates" }),
  flow_action_id: z.string().max(200).optional(),
  name: z.string().max(LIMITS.MAX_NAME_LENGTH).optional(),
  allow_failure: z.boolean().optional().openapi({ description: "Continue the execution when this action fails" }),
  created_automatically: z.boolean().optional(),
  is_bulk_action: z.boolean().optional(),
  reason: z
    .object({ message: z.string().max(2000).optional(), payload: z.record(z.string(), z.unknown()).optional() })
    .optional(),
  condition_id: ItemIdSchema.optional().openapi({ description: "A condition of the flow checked before the action runs" }),
  schedule_id: ItemIdSchema.optional().openapi({ description: "A schedule of the flow the action waits for" }),
  loop_id: ItemIdSchema.optional().openapi({ description: "A loop of the flow the action runs once per item of" }),
  retry_policy: RetryPolicySchema.optional(),
};

/** An action of `type` whose `config` is `config` (optional for epilot's types, whose document marks it optional). */
export function action<T extends string, C extends z.ZodType>(type: T, config: C) {
  return z.object({ ...actionFields, type: z.literal(type), config });
}

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** Our outbound-call fields, shared by `call_webhook` and the document's `trigger-webhook`. */
export const webhookCallFields = {
  url: TemplatedUrl.optional(),
  method: z.enum(HTTP_METHODS).default("POST"),
  headers: z.record(z.string().max(200), z.string().max(8000)).optional(),
  body: z.unknown().optional().openapi({ description: "Any JSON; string values may contain templates" }),
  timeout_ms: z.number().int().min(LIMITS.MIN_WEBHOOK_TIMEOUT_MS).max(LIMITS.MAX_WEBHOOK_TIMEOUT_MS).optional(),
  sync: z.boolean().optional().openapi({ description: "Wait for the response before continuing the execution" }),
  entity_sources: z.array(z.string().max(200)).max(100).optional(),
  target_webhook_id: z.string().max(200).optional(),
  secret: WriteOnlySecret.openapi({
    writeOnly: true,
    description:
      "Secret that signs outbound calls; encrypted at rest, never returned (responses carry `secret_configured`). " +
      "A string sets it, `null` removes it, omitting it on a PUT keeps the stored one.",
  }),
  secret_configured: SecretConfigured,
};
