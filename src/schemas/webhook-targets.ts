import { z } from "@hono/zod-openapi";
import { LIMITS } from "../lib/limits";

/**
 * Webhook targets (epilot's Webhooks app, docs/platform.md): where `trigger-webhook` and `inform-erp` with
 * `target_webhook_id` send the execution's entity. Auth secrets are write-only: encrypted at rest, never returned.
 */

const Name = z.string().trim().min(1).max(LIMITS.MAX_NAME_LENGTH);
/** An HTTP header name (RFC 9110 token). */
export const HeaderName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "not a valid header name");
const Headers = z
  .record(HeaderName, z.string().max(8000))
  .refine((h) => Object.keys(h).length <= LIMITS.MAX_WEBHOOK_TARGET_HEADERS, {
    message: `at most ${LIMITS.MAX_WEBHOOK_TARGET_HEADERS} headers`,
  })
  .openapi({ description: "Extra request headers (not secret: they are returned)" });
const Url = z
  .string()
  .url()
  .max(2000)
  .refine((u) => /^https?:\/\//i.test(u), "must be an http(s) URL")
  .openapi({ description: "Where the events go; checked against the outbound policy (SSRF rules)" });
const Secret = z.string().min(1).max(4000).openapi({ writeOnly: true });

const authVariants = (secret: z.ZodType) =>
  [
    z.strictObject({ type: z.literal("none") }),
    z.strictObject({ type: z.literal("basic"), username: z.string().min(1).max(500), password: secret }),
    z.strictObject({ type: z.literal("bearer"), token: secret }),
    z.strictObject({ type: z.literal("api_key"), header: HeaderName, key: secret }),
    z.strictObject({
      type: z.literal("standard_webhooks"),
      secret: secret.openapi({ description: "Signing secret (`whsec_…` base64, or any string)" }),
    }),
  ] as const;

export const WebhookAuthInput = z.discriminatedUnion("type", authVariants(Secret)).openapi("WebhookTargetAuth");
/** On update, a secret may be left out when the type stays the same: the stored one is kept. */
export const WebhookAuthPatch = z.discriminatedUnion("type", authVariants(Secret.optional())).openapi("WebhookTargetAuthPatch");
export type WebhookAuthInput = z.output<typeof WebhookAuthInput>;
export type WebhookAuthPatch = z.output<typeof WebhookAuthPatch>;
export type WebhookAuthType = WebhookAuthInput["type"];

export const WebhookTargetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    auth: z.object({
      type: z.enum(["none", "basic", "bearer", "api_key", "standard_webhooks"]),
      username: z.string().optional(),
      header: z.string().optional(),
      secret_configured: z.boolean().openapi({ description: "Whether a secret is stored (it is never returned)" }),
    }),
    headers: z.record(z.string(), z.string()),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WebhookTarget");

export const CreateWebhookTargetRequest = z
  .strictObject({ name: Name, url: Url, auth: WebhookAuthInput.default({ type: "none" }), headers: Headers.default({}) })
  .openapi("CreateWebhookTargetRequest");

export const UpdateWebhookTargetRequest = z
  .strictObject({ name: Name.optional(), url: Url.optional(), auth: WebhookAuthPatch.optional(), headers: Headers.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: "Nothing to update" })
  .openapi("UpdateWebhookTargetRequest");
